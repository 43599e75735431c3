import { createEvent, createMemoryEventStore, type Event, isGoesError, query } from '@goes/event';
import { describe, expect, it } from '@jest/globals';
import {
  type ApplyError,
  apply,
  applyStream,
  eventGuard,
  isApplyError,
  Progressor,
  ProjectionBase,
  projection,
  queryGuard,
  type Target,
} from '../src/index.js';
import { insertAll, makeEvents, names, Plain, Recorder } from './helpers.js';

/** Stored events 1..count of one name (positions 1..count in a fresh store). */
async function stored(count: number): Promise<Event[]> {
  const store = createMemoryEventStore();
  return insertAll(store, makeEvents(names().name('placed'), count));
}

describe('apply', () => {
  it('applies events in order and reports what it did', async () => {
    const events = await stored(5);
    const target = new Plain();
    const result = await apply(target, events);
    expect(target.events.map((e) => e.id)).toEqual(events.map((e) => e.id));
    expect(result).toEqual({ applied: 5, ignored: 0, skipped: 0, position: 5 });
  });

  it('skips events at or below a progress-aware target’s progress, and sets the progress per event', async () => {
    const events = await stored(10);
    const target = new Recorder();
    target.setProgress(4);
    const seen: number[] = [];
    const original = target.setProgress.bind(target);
    target.setProgress = (position) => {
      seen.push(position);
      original(position);
    };
    const result = await apply(target, events);
    expect(target.positions).toEqual([5, 6, 7, 8, 9, 10]);
    expect(seen).toEqual([5, 6, 7, 8, 9, 10]);
    expect(result).toMatchObject({ applied: 6, ignored: 4, position: 10 });
    expect((await apply(target, events)).applied).toBe(0);
  });

  it('never re-applies events older than the progress, in whatever order they come (goes bug 3)', async () => {
    const events = await stored(10);
    const target = new Recorder();
    target.setProgress(6);
    const shuffled = [events[7], events[2], events[9], events[0], events[6], events[5]] as Event[];
    await apply(target, shuffled);
    expect(target.positions).toEqual([8, 10]);
    expect(target.position).toBe(10);
  });

  it('applies events without a position and leaves the progress alone', async () => {
    const target = new Recorder();
    target.setProgress(3);
    const ns = names();
    await apply(target, [createEvent(ns.name('a'), {}), createEvent(ns.name('b'), {})]);
    expect(target.count).toBe(2);
    expect(target.position).toBe(3);
  });

  it('with ignoreProgress applies everything and sets the progress to the last event (goes IgnoreProgress)', async () => {
    const events = await stored(5);
    const target = new Recorder();
    target.setProgress(5);
    const result = await apply(target, events, { ignoreProgress: true });
    expect(result.applied).toBe(5);
    expect(target.position).toBe(5);
  });

  it('honours a target guard, a query guard (time-based), an event guard and a guard option', async () => {
    const ns = names();
    const store = createMemoryEventStore();
    const base = 1_000_000_000_000n;
    const events = await store.insert([
      createEvent(ns.name('a'), { v: 1 }, { time: base }),
      createEvent(ns.name('b'), { v: 2 }, { time: base + 10n }),
      createEvent(ns.name('a'), { v: 3 }, { time: base + 20n }),
      createEvent(ns.name('c'), { v: 4 }, { time: base + 30n }),
    ]);

    class TimeGuarded extends Recorder {
      readonly guardProjection = queryGuard(query().timeMin(base + 10n)).guardProjection;
    }
    const timed = new TimeGuarded();
    const timedResult = await apply(timed, events);
    expect(timed.positions).toEqual([2, 3, 4]);
    expect(timedResult.ignored).toBe(1);
    expect(timed.position).toBe(4); // rejected events move the progress too

    type Data = { v: number };
    const guard = eventGuard<Record<string, Data>>({
      [ns.name('a')]: (e) => e.data.v > 1,
      [ns.name('c')]: () => true,
    });
    const byName = new Recorder();
    await apply(byName, events, { guard: guard.guardProjection });
    expect(byName.positions).toEqual([3, 4]); // a#1 rejected, b has no guard: rejected
  });

  it('awaits asynchronous targets one event at a time', async () => {
    const events = await stored(5);
    const order: string[] = [];
    let running = 0;
    const target: Target = {
      async applyEvent(event) {
        running++;
        expect(running).toBe(1);
        await new Promise((resolve) => setTimeout(resolve, 1));
        order.push(event.id);
        running--;
      },
    };
    await apply(target, events);
    expect(order).toEqual(events.map((e) => e.id));
  });

  describe('errors', () => {
    class Failing extends Recorder {
      failures = new Map<number, number>();
      constructor(readonly failAt: Map<number, number>) {
        super();
      }
      override applyEvent(event: Event): void {
        const position = event.position as number;
        const left = this.failAt.get(position) ?? 0;
        if (left > 0) {
          this.failAt.set(position, left - 1);
          this.failures.set(position, (this.failures.get(position) ?? 0) + 1);
          throw new Error(`boom at ${position}`);
        }
        super.applyEvent(event);
      }
    }

    it('stops at a failing event by default: ApplyError with the event, progress before it', async () => {
      const events = await stored(5);
      const target = new Failing(new Map([[3, Number.POSITIVE_INFINITY]]));
      const error = (await apply(target, events).catch((e: unknown) => e)) as ApplyError;
      expect(isApplyError(error)).toBe(true);
      expect(error.code).toBe('APPLY_FAILED');
      expect(error.event.position).toBe(3);
      expect(error.attempts).toBe(1);
      expect(error.skipped).toBe(false);
      expect((error.cause as Error).message).toBe('boom at 3');
      expect(error.message).toContain(events[2]?.id as string);
      expect(target.positions).toEqual([1, 2]);
      expect(target.position).toBe(2);
      // the next apply picks up at the failed event
      target.failAt.clear();
      await apply(target, events);
      expect(target.positions).toEqual([1, 2, 3, 4, 5]);
    });

    it('skips a failing event with giveUp "skip" and reports it to onError with the event', async () => {
      const events = await stored(5);
      const target = new Failing(new Map([[2, Number.POSITIVE_INFINITY]]));
      const reported: ApplyError[] = [];
      const result = await apply(target, events, {
        errorPolicy: { giveUp: 'skip' },
        onError: (error) => reported.push(error),
      });
      expect(target.positions).toEqual([1, 3, 4, 5]);
      expect(result).toMatchObject({ applied: 4, skipped: 1, position: 5 });
      expect(reported).toHaveLength(1);
      expect(reported[0]?.event.position).toBe(2);
      expect(reported[0]?.skipped).toBe(true);
      expect(target.position).toBe(5);
    });

    it('retries a failing event before giving up', async () => {
      const events = await stored(3);
      const flaky = new Failing(new Map([[2, 2]]));
      await apply(flaky, events, { errorPolicy: { retries: 2, retryDelay: 1 } });
      expect(flaky.positions).toEqual([1, 2, 3]);
      expect(flaky.failures.get(2)).toBe(2);

      const broken = new Failing(new Map([[2, Number.POSITIVE_INFINITY]]));
      const error = (await apply(broken, events, { errorPolicy: { retries: 2 } }).catch(
        (e: unknown) => e,
      )) as ApplyError;
      expect(error.attempts).toBe(3);
      expect(broken.failures.get(2)).toBe(3);
    });

    it('keeps going when the onError hook itself throws', async () => {
      const events = await stored(3);
      const target = new Failing(new Map([[1, Number.POSITIVE_INFINITY]]));
      const result = await apply(target, events, {
        errorPolicy: { giveUp: 'skip' },
        onError: () => {
          throw new Error('hook broke');
        },
      });
      expect(result.applied).toBe(2);
    });

    it('handles rejected promises of async targets like thrown errors', async () => {
      const events = await stored(3);
      const target: Target = {
        async applyEvent(event) {
          if (event.position === 2) throw new Error('async boom');
        },
      };
      const error = (await apply(target, events).catch((e: unknown) => e)) as ApplyError;
      expect(error.event.position).toBe(2);
    });

    it('refuses a target without applyEvent and a bad error policy', async () => {
      await expect(apply({} as Target, [])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(apply(new Plain(), [], { errorPolicy: { retries: -1 } })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
      await expect(
        apply(new Plain(), [], { errorPolicy: { giveUp: 'later' as 'skip' } }),
      ).rejects.toThrow(/giveUp "later"/);
      const weird = new Recorder();
      weird.setProgress(-1);
      await expect(apply(weird, [])).rejects.toThrow(/progress\(\) returned -1/);
    });
  });

  it('stops when the signal aborts, with the progress at the last applied event', async () => {
    const events = await stored(10);
    const controller = new AbortController();
    const target = new Recorder();
    const original = target.applyEvent.bind(target);
    target.applyEvent = (event) => {
      original(event);
      if (target.count === 4) controller.abort(new Error('stop here'));
    };
    await expect(apply(target, events, { signal: controller.signal })).rejects.toThrow('stop here');
    expect(target.count).toBe(4);
    expect(target.position).toBe(4);
  });

  it('applies a store stream (applyStream) and closes it when stopped early', async () => {
    const ns = names();
    const store = createMemoryEventStore();
    await insertAll(store, makeEvents(ns.name('placed'), 100));
    const target = new Recorder();
    await applyStream(target, store.query(query().name(ns.name('placed'))));
    expect(target.count).toBe(100);
    await applyStream(
      target,
      store.query(query().name(ns.name('placed')).afterPosition(target.progress())),
    );
    expect(target.count).toBe(100);
    const controller = new AbortController();
    controller.abort(new Error('already'));
    await expect(
      applyStream(target, store.query(query().name(ns.name('placed'))), {
        signal: controller.signal,
      }),
    ).rejects.toThrow('already');
  });
});

describe('ProjectionBase and projection()', () => {
  type Shop = {
    'order.placed': { total: number };
    'order.refunded': { amount: number };
  };

  class Revenue extends ProjectionBase<Shop> {
    total = 0;
    constructor() {
      super();
      this.applyWith({
        'order.placed': (event) => {
          this.total += event.data.total;
        },
        'order.refunded': (event) => {
          this.total -= event.data.amount;
        },
      });
    }
  }

  it('calls the handler of each event name and ignores the others', async () => {
    const revenue = new Revenue();
    await apply(revenue, [
      createEvent('order.placed', { total: 10 }),
      createEvent('order.shipped', {}),
      createEvent('order.refunded', { amount: 3 }),
    ]);
    expect(revenue.total).toBe(7);
    expect(revenue.registeredEvents.sort()).toEqual(['order.placed', 'order.refunded']);
  });

  it('refuses a second handler for a name', () => {
    class Twice extends ProjectionBase<Shop> {
      constructor() {
        super();
        this.applyWith({ 'order.placed': () => {} });
        this.applyWith({ 'order.placed': () => {} });
      }
    }
    expect(() => new Twice()).toThrow(/"order.placed" already has a handler/);
  });

  it('builds a target from functions, awaiting async handlers', async () => {
    let placed = 0;
    const counter = projection<Shop>({
      'order.placed': async () => {
        await Promise.resolve();
        placed++;
      },
    });
    expect(counter.registeredEvents).toEqual(['order.placed']);
    await apply(counter, [
      createEvent('order.placed', { total: 1 }),
      createEvent('order.placed', { total: 2 }),
    ]);
    expect(placed).toBe(2);
    const error = catching(() => projection({ x: 42 as unknown as () => void }));
    expect(isGoesError(error, 'INVALID_ARGUMENT')).toBe(true);
    expect((error as Error).message).toContain('"x" must be a function');
  });

  it('works with Progressor through a mixin-free subclass', async () => {
    class Count extends Progressor implements Target {
      n = 0;
      applyEvent() {
        this.n++;
      }
    }
    const events = await stored(3);
    const count = new Count();
    await apply(count, events);
    await apply(count, events);
    expect(count.n).toBe(3);
    expect(count.position).toBe(3);
  });
});

function catching(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}
