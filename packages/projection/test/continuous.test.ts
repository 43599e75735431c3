import {
  createEvent,
  createMemoryEventBus,
  createMemoryEventStore,
  type Event,
  type EventBus,
  type EventStore,
  isGoesError,
  query,
  withBus,
} from '@goes/event';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import {
  type ApplyError,
  continuously,
  type Job,
  type Resetter,
  type ScheduleSubscription,
} from '../src/index.js';
import { insertAll, makeEvents, names, Plain, Recorder, tick } from './helpers.js';

const opened: ScheduleSubscription[] = [];
afterEach(async () => {
  for (const subscription of opened.splice(0)) await subscription.close();
});
const track = (subscription: ScheduleSubscription) => {
  opened.push(subscription);
  return subscription;
};

function setup(): {
  bus: EventBus;
  store: EventStore;
  raw: EventStore;
  placed: string;
  ns: ReturnType<typeof names>;
} {
  const ns = names();
  const bus = createMemoryEventBus();
  const raw = createMemoryEventStore();
  return { bus, raw, store: withBus(raw, bus), placed: ns.name('placed'), ns };
}

const within = (ms = 10_000) => ({ signal: AbortSignal.timeout(ms) });
const lastPosition = (events: readonly Event[]) => (events.at(-1) as Event).position as number;

describe('continuously', () => {
  it('runs a job for live events; without startup the window starts at the store’s last event', async () => {
    const { bus, store, placed } = setup();
    const before = await insertAll(store, makeEvents(placed, 5));
    const plain = new Plain();
    const schedule = continuously(bus, store, [placed]);
    expect(schedule.names).toEqual([placed]);
    const subscription = track(
      await schedule.subscribe(async (job) => void (await job.apply(plain))),
    );
    expect(subscription.checkpoint).toBe(lastPosition(before));
    const live = await insertAll(store, makeEvents(placed, 3));
    await subscription.whenProcessed(lastPosition(live), within());
    expect(plain.events.map((e) => e.id)).toEqual(live.map((e) => e.id));
    expect(subscription.jobs).toBeGreaterThanOrEqual(1);
  });

  it('catches a progress-aware target up from its progress on the first job, even without startup', async () => {
    const { bus, store, placed } = setup();
    await insertAll(store, makeEvents(placed, 20));
    const counter = new Recorder();
    counter.setProgress(15);
    const subscription = track(
      await continuously(bus, store, [placed]).subscribe(
        async (job) => void (await job.apply(counter)),
      ),
    );
    const live = await insertAll(store, makeEvents(placed, 2));
    await subscription.whenProcessed(lastPosition(live), within());
    expect(counter.positions).toEqual([16, 17, 18, 19, 20, 21, 22]);
  });

  it('with startup, replays the history before subscribe resolves (goes Startup)', async () => {
    const { bus, store, placed } = setup();
    const history = await insertAll(store, makeEvents(placed, 100));
    const counter = new Recorder();
    const kinds: string[] = [];
    const subscription = track(
      await continuously(bus, store, [placed]).subscribe(
        async (job) => {
          kinds.push(job.kind);
          await job.apply(counter);
        },
        { startup: true },
      ),
    );
    expect(counter.count).toBe(100);
    expect(kinds).toEqual(['startup']);
    expect(subscription.checkpoint).toBe(lastPosition(history));
  });

  it('catch-up + live: 10,000 stored, 1,000 published during the replay → exactly 11,000 applied, each once', async () => {
    const { bus, store, placed } = setup();
    await insertAll(store, makeEvents(placed, 10_000, { aggregates: 100 }));
    const counter = new Recorder();
    const plain = new Plain();
    const liveEvents = makeEvents(placed, 1_000, { aggregates: 50 });
    let publishing: Promise<Event[]> | undefined;
    let publishedDuringReplay = 0;
    const original = counter.applyEvent.bind(counter);
    counter.applyEvent = (event) => {
      original(event);
      // Start publishing in the middle of the startup replay.
      if (counter.count === 5_000) {
        publishing = (async () => {
          const stored: Event[] = [];
          for (let i = 0; i < liveEvents.length; i += 10) {
            stored.push(...(await store.insert(liveEvents.slice(i, i + 10))));
            if (counter.count < 10_000) publishedDuringReplay += 10;
            await tick();
          }
          return stored;
        })();
      }
    };
    const schedule = continuously(bus, store, [placed]);
    const subscription = track(
      await schedule.subscribe(
        async (job) => {
          await job.apply(counter);
          await job.apply(plain);
        },
        { startup: { wait: false } },
      ),
    );
    while (!publishing) await tick();
    const live = await publishing;
    await subscription.whenProcessed(lastPosition(live), within());
    expect(publishedDuringReplay).toBeGreaterThan(0);
    expect(counter.count).toBe(11_000);
    expect(new Set(counter.ids).size).toBe(11_000);
    expect(counter.inOrder()).toBe(true);
    // the window-based target (no progress) gets each event once too
    expect(plain.events.length).toBe(11_000);
    expect(new Set(plain.events.map((e) => e.id)).size).toBe(11_000);
  });

  it('crash and resume: restarting from saved progress loses nothing and applies nothing twice', async () => {
    const { bus, store, placed } = setup();
    await insertAll(store, makeEvents(placed, 5_000, { aggregates: 20 }));

    /** A counter that persists a consistent snapshot every 500 events ("the database"). */
    class Checkpointed extends Recorder {
      saved: { position: number; ids: string[] } = { position: 0, ids: [] };
      crashAt = Number.POSITIVE_INFINITY;
      override applyEvent(event: Event): void {
        // Before applying, state and progress both stop at the previous event.
        if (this.count > 0 && this.count % 500 === 0)
          this.saved = { position: this.position, ids: [...this.ids] };
        if (this.count === this.crashAt) throw new Error('process crashed');
        super.applyEvent(event);
      }
    }

    const first = new Checkpointed();
    first.crashAt = 2_321;
    const errors: unknown[] = [];
    const crashed = await continuously(bus, store, [placed]).subscribe(
      async (job) => void (await job.apply(first)),
      {
        startup: { wait: false },
        onError: (error) => errors.push(error),
      },
    );
    while (errors.length === 0) await tick();
    await crashed.close(); // the process is gone; only `saved` survives
    expect(first.count).toBe(2_321);
    expect(first.saved.ids.length).toBe(2_000);

    const restored = new Checkpointed();
    restored.ids.push(...first.saved.ids);
    restored.setProgress(first.saved.position);
    const subscription = track(
      await continuously(bus, store, [placed]).subscribe(
        async (job) => void (await job.apply(restored)),
        {
          startup: { wait: false },
        },
      ),
    );
    const live = await insertAll(store, makeEvents(placed, 1_000), 25);
    await subscription.whenProcessed(lastPosition(live), within());
    expect(restored.count).toBe(6_000);
    expect(new Set(restored.ids).size).toBe(6_000);
    expect(restored.inOrder()).toBe(true);
  });

  it('stopping mid-stream and starting again from the saved progress continues exactly', async () => {
    const { bus, store, placed } = setup();
    const all = await insertAll(store, makeEvents(placed, 3_000));
    const counter = new Recorder();
    let subscription: ScheduleSubscription | undefined;
    const original = counter.applyEvent.bind(counter);
    counter.applyEvent = (event) => {
      original(event);
      if (counter.count === 1_234) void subscription?.close();
    };
    subscription = await continuously(bus, store, [placed]).subscribe(
      async (job) => void (await job.apply(counter)),
      {
        startup: { wait: false },
        onError: (error) => {
          throw error; // an abort on close is not reported as a failure
        },
      },
    );
    while (counter.count < 1_234) await tick();
    await subscription.close();
    expect(counter.count).toBe(1_234);
    const saved = { position: counter.position, ids: [...counter.ids] };

    const resumed = new Recorder();
    resumed.ids.push(...saved.ids);
    resumed.setProgress(saved.position);
    const again = track(
      await continuously(bus, store, [placed]).subscribe(
        async (job) => void (await job.apply(resumed)),
        {
          startup: true,
        },
      ),
    );
    expect(again.checkpoint).toBe(lastPosition(all));
    expect(resumed.count).toBe(3_000);
    expect(new Set(resumed.ids).size).toBe(3_000);
  });

  describe('debounce', () => {
    afterEach(() => {
      jest.useRealTimers();
    });

    async function rapid(options: { debounce: number; debounceCap?: number }) {
      jest.useFakeTimers({
        doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask', 'performance', 'hrtime', 'Date'],
      });
      const { bus, store, placed } = setup();
      const counter = new Recorder();
      const windows: number[] = [];
      const subscription = await continuously(bus, store, [placed], options).subscribe(
        async (job) => {
          windows.push((await job.apply(counter)).applied);
        },
      );
      // 1,000 events, one per (fake) millisecond: a steady flow that never pauses for 10 ms.
      for (const event of makeEvents(placed, 1_000)) {
        await store.insert([event]);
        await jest.advanceTimersByTimeAsync(1);
      }
      await jest.advanceTimersByTimeAsync(options.debounce + 1);
      await subscription.idle();
      await subscription.close();
      return { counter, windows, jobs: subscription.jobs };
    }

    it('1,000 rapid events produce few jobs, and the cap bounds the wait under a steady flow (goes bug 4)', async () => {
      const { counter, windows, jobs } = await rapid({ debounce: 10, debounceCap: 50 });
      expect(counter.count).toBe(1_000);
      expect(counter.inOrder()).toBe(true);
      // a job at least every 50 ms of the 1,000 ms flow, plus the last one
      expect(jobs).toBeGreaterThanOrEqual(15);
      expect(jobs).toBeLessThanOrEqual(30);
      // no job waited for (much) more than the cap's worth of events
      expect(Math.max(...windows)).toBeLessThanOrEqual(60);
    });

    it('without a cap, a steady flow is one job after it stops', async () => {
      const { counter, jobs } = await rapid({ debounce: 10, debounceCap: 0 });
      expect(counter.count).toBe(1_000);
      expect(jobs).toBe(1);
    });

    it('without debounce, requests that come while a job waits join it', async () => {
      const { counter, jobs } = await rapid({ debounce: 0 });
      expect(counter.count).toBe(1_000);
      expect(jobs).toBeLessThanOrEqual(1_000);
      expect(counter.inOrder()).toBe(true);
    });
  });

  it('runs the jobs of one subscription one at a time', async () => {
    const { bus, store, placed } = setup();
    let running = 0;
    let overlapped = false;
    const counter = new Recorder();
    const subscription = track(
      await continuously(bus, store, [placed]).subscribe(async (job) => {
        running++;
        if (running > 1) overlapped = true;
        await new Promise((resolve) => setTimeout(resolve, 2));
        await job.apply(counter);
        running--;
      }),
    );
    let last: readonly Event[] = [];
    for (let i = 0; i < 20; i++) last = await store.insert(makeEvents(placed, 5));
    await subscription.whenProcessed(lastPosition(last), within());
    expect(overlapped).toBe(false);
    expect(counter.count).toBe(100);
  });

  it('picks up stored events whose publish was lost with the next wake-up', async () => {
    const { bus, raw, store, placed } = setup();
    const plain = new Plain();
    const subscription = track(
      await continuously(bus, store, [placed]).subscribe(
        async (job) => void (await job.apply(plain)),
      ),
    );
    const silent = await raw.insert(makeEvents(placed, 3)); // stored, never published
    const loud = await store.insert(makeEvents(placed, 1));
    await subscription.whenProcessed(lastPosition(loud), within());
    expect(plain.events.map((e) => e.id)).toEqual([...silent, ...loud].map((e) => e.id));
  });

  it('keeps up when its bus queue overflows (dropped wake-ups become one)', async () => {
    const { bus, store, placed } = setup();
    const counter = new Recorder();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const subscription = track(
      await continuously(bus, store, [placed], { bufferSize: 1 }).subscribe(async (job) => {
        await gate;
        await job.apply(counter);
      }),
    );
    const stored = await insertAll(store, makeEvents(placed, 200), 1);
    release();
    await subscription.whenProcessed(lastPosition(stored), within());
    expect(counter.count).toBe(200);
  });

  describe('triggers', () => {
    it('runs a job over the full history in every subscription (goes Trigger)', async () => {
      const { bus, store, placed } = setup();
      await insertAll(store, makeEvents(placed, 10));
      const schedule = continuously(bus, store, [placed]);
      const a = new Plain();
      const b = new Recorder();
      const kinds: string[] = [];
      track(await schedule.subscribe(async (job) => void (await job.apply(a))));
      track(
        await schedule.subscribe(async (job) => {
          kinds.push(job.kind);
          await job.apply(b);
        }),
      );
      await schedule.trigger();
      expect(a.events.length).toBe(10);
      expect(b.count).toBe(10);
      expect(kinds).toEqual(['trigger']);
      await schedule.trigger();
      expect(a.events.length).toBe(20); // a target without progress gets the history again
      expect(b.count).toBe(10); // a progress-aware one does not
    });

    it('rebuilds with a reset trigger', async () => {
      const { bus, store, placed } = setup();
      await insertAll(store, makeEvents(placed, 10));
      class Rebuildable extends Recorder implements Resetter {
        reset() {
          this.ids.length = 0;
          this.positions.length = 0;
        }
      }
      const target = new Rebuildable();
      const schedule = continuously(bus, store, [placed]);
      track(
        await schedule.subscribe(async (job) => void (await job.apply(target)), { startup: true }),
      );
      target.ids.push('corrupted');
      await schedule.trigger({ reset: true });
      expect(target.count).toBe(10);
      expect(target.position).toBe(10);
    });

    it('takes a custom query and filters, which do not move the checkpoint (goes Query, Filter)', async () => {
      const { bus, store, placed, ns } = setup();
      const events = await insertAll(store, makeEvents(placed, 10, { aggregates: 2 }));
      const shipped = await store.insert([createEvent(ns.name('shipped'), {})]);
      const schedule = continuously(bus, store, [placed]);
      const seen: Event[][] = [];
      const subscription = track(
        await schedule.subscribe(async (job) => {
          const plain = new Plain();
          await job.apply(plain);
          seen.push(plain.events);
        }),
      );
      const before = subscription.checkpoint;
      await schedule.trigger({ query: query().name(ns.name('shipped')) });
      expect(seen.at(-1)?.map((e) => e.id)).toEqual(shipped.map((e) => e.id));
      const id = (events[0] as Event).aggregate?.id as string;
      await schedule.trigger({ filter: query().aggregateId(id) });
      expect(seen.at(-1)?.length).toBe(5);
      expect(subscription.checkpoint).toBe(before);
      await expect(schedule.trigger({ query: { ids: ['x'] } })).rejects.toMatchObject({
        code: 'INVALID_QUERY',
      });
      await expect(schedule.trigger({ from: -2 })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
    });
  });

  describe('errors', () => {
    it('reports a failed job with the job and goes on; the next job covers its events again', async () => {
      const { bus, store, placed } = setup();
      const plain = new Plain();
      let fail = true;
      const failures: [unknown, Job | undefined][] = [];
      const subscription = track(
        await continuously(bus, store, [placed]).subscribe(
          async (job) => {
            const events = (await job.apply(new Plain())).applied;
            if (fail) {
              fail = false;
              throw new Error(`job of ${events} failed`);
            }
            await job.apply(plain);
          },
          { onError: (error, job) => failures.push([error, job]) },
        ),
      );
      const first = await store.insert(makeEvents(placed, 2));
      while (failures.length === 0) await tick();
      expect(subscription.failures).toBe(1);
      const [error, job] = failures[0] as [unknown, Job | undefined];
      expect((error as Error).message).toMatch(/job of \d failed/);
      expect(job?.kind).toBe('live');
      const second = await store.insert(makeEvents(placed, 1));
      await subscription.whenProcessed(lastPosition(second), within());
      expect(plain.events.map((e) => e.id)).toEqual([...first, ...second].map((e) => e.id));
    });

    it('a projection whose apply throws does not stop the schedule: skipped events reach onError with the event', async () => {
      const { bus, store, placed } = setup();
      const counter = new Recorder();
      const original = counter.applyEvent.bind(counter);
      counter.applyEvent = (event) => {
        if ((event.data as { n: number }).n === 3) throw new Error('bad event');
        original(event);
      };
      const reported: ApplyError[] = [];
      const subscription = track(
        await continuously(bus, store, [placed]).subscribe(
          async (job) => void (await job.apply(counter)),
          {
            errorPolicy: { giveUp: 'skip' },
            onError: (error) => reported.push(error as ApplyError),
          },
        ),
      );
      const stored = await store.insert(makeEvents(placed, 6));
      await subscription.whenProcessed(lastPosition(stored), within());
      expect(counter.count).toBe(5);
      expect(reported).toHaveLength(1);
      expect(reported[0]?.event.id).toBe(stored[3]?.id);
      expect(reported[0]?.skipped).toBe(true);
      expect(subscription.failures).toBe(0);
    });

    it('with a waiting startup, a failed startup job rejects subscribe and stops the subscription', async () => {
      const { bus, store, placed } = setup();
      await insertAll(store, makeEvents(placed, 3));
      let calls = 0;
      const error = await continuously(bus, store, [placed])
        .subscribe(
          async () => {
            calls++;
            throw new Error('cannot start');
          },
          { startup: true, onError: () => {} },
        )
        .catch((e: unknown) => e);
      expect((error as Error).message).toBe('cannot start');
      await store.insert(makeEvents(placed, 1));
      await tick();
      await tick();
      expect(calls).toBe(1);
    });
  });

  describe('closing', () => {
    it('stops: no jobs after close, pending whenProcessed rejects, running job is aborted', async () => {
      const { bus, store, placed } = setup();
      await insertAll(store, makeEvents(placed, 2_000));
      const counter = new Recorder();
      let subscription: ScheduleSubscription | undefined;
      let aborted: unknown;
      const original = counter.applyEvent.bind(counter);
      counter.applyEvent = (event) => {
        original(event);
        if (counter.count === 500) void subscription?.close();
      };
      subscription = await continuously(bus, store, [placed]).subscribe(
        async (job) => {
          job.signal.addEventListener('abort', () => {
            aborted = job.signal.reason;
          });
          await job.apply(counter);
        },
        { startup: { wait: false } },
      );
      const waiting = subscription.whenProcessed(1_000_000);
      while (counter.count < 500) await tick();
      await subscription.close();
      expect(isGoesError(aborted, 'CLOSED')).toBe(true);
      await expect(waiting).rejects.toMatchObject({ code: 'CLOSED' });
      const count = counter.count;
      expect(count).toBe(500);
      await store.insert(makeEvents(placed, 5));
      await tick();
      expect(counter.count).toBe(count);
      await subscription.close(); // idempotent
      subscription = undefined;
    });

    it('closes when its signal aborts, and supports await using', async () => {
      const { bus, store, placed } = setup();
      const controller = new AbortController();
      const plain = new Plain();
      const subscription = await continuously(bus, store, [placed]).subscribe(
        async (job) => void (await job.apply(plain)),
        { signal: controller.signal },
      );
      controller.abort();
      await subscription.idle();
      await store.insert(makeEvents(placed, 2));
      await tick();
      expect(plain.events).toEqual([]);
      {
        await using disposable = await continuously(bus, store, [placed]).subscribe(() => {});
        expect(disposable.checkpoint).toBe(2);
      }
      await expect(
        continuously(bus, store, [placed]).subscribe(() => {}, {
          signal: AbortSignal.abort(new Error('no')),
        }),
      ).rejects.toThrow('no');
    });

    it('whenProcessed honours its signal and checks its argument', async () => {
      const { bus, store, placed } = setup();
      const subscription = track(await continuously(bus, store, [placed]).subscribe(() => {}));
      await expect(
        subscription.whenProcessed(99, { signal: AbortSignal.timeout(5) }),
      ).rejects.toThrow();
      await expect(subscription.whenProcessed(-1)).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
      await subscription.whenProcessed(0);
    });
  });

  it('passes subscription interceptors to every job (goes BeforeEvent)', async () => {
    const { bus, store, placed, ns } = setup();
    const plain = new Plain();
    const subscription = track(
      await continuously(bus, store, [placed]).subscribe(
        async (job) => void (await job.apply(plain)),
        {
          beforeEvent: { handler: (event) => [createEvent(ns.name('note'), { for: event.id })] },
        },
      ),
    );
    const stored = await store.insert(makeEvents(placed, 2));
    await subscription.whenProcessed(lastPosition(stored), within());
    expect(plain.events.map((e) => e.name)).toEqual([
      ns.name('note'),
      placed,
      ns.name('note'),
      placed,
    ]);
  });

  it('refuses bad names and options', () => {
    const { bus, store } = setup();
    expect(() => continuously(bus, store, [])).toThrow(/non-empty array/);
    expect(() => continuously(bus, store, [''])).toThrow(/names\[0\]/);
    expect(() => continuously(bus, store, ['a'], { debounce: -1 })).toThrow(/debounce -1/);
    expect(() => continuously(bus, store, ['a'], { bufferSize: 0 })).toThrow(/bufferSize/);
    expect(continuously(bus, store, ['a']).subscribe(42 as never)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });
});
