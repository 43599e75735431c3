import {
  createEvent,
  createMemoryEventStore,
  type Event,
  type EventQuery,
  type EventStore,
  isGoesError,
  query,
  uuidv7,
} from '@goes/event';
import { drain } from '@goes/streams';
import { describe, expect, it } from '@jest/globals';
import {
  type BeforeEvent,
  createJob,
  createMemoryModelRepository,
  Progressor,
  type Resetter,
  type Target,
} from '../src/index.js';
import { insertAll, makeEvents, names, Plain, Recorder } from './helpers.js';

/** A store that records the queries it runs. */
function counting(store: EventStore): { store: EventStore; queries: EventQuery[] } {
  const queries: EventQuery[] = [];
  return {
    queries,
    store: {
      insert: (events, options) => store.insert(events, options),
      find: (id, options) => store.find(id, options),
      query: (q, options) => {
        queries.push(q);
        return store.query(q, options);
      },
      delete: (events, options) => store.delete(events, options),
      close: () => store.close(),
      [Symbol.asyncDispose]: () => store.close(),
    },
  };
}

async function fixture(count = 30, aggregates = 3) {
  const ns = names();
  const memory = createMemoryEventStore();
  const placed = ns.name('placed');
  const stored = await insertAll(
    memory,
    makeEvents(placed, count, { aggregate: ns.name('order'), aggregates }),
  );
  const { store, queries } = counting(memory);
  return { ns, store, queries, stored, placed, q: query().name(placed) };
}

describe('job', () => {
  it('streams its window (events after `from`) through its filters', async () => {
    const { store, stored, q } = await fixture();
    const job = createJob(store, { query: q, from: 10 });
    const events = await drain(job.events());
    expect(events.map((e) => e.id)).toEqual(stored.slice(10).map((e) => e.id));
    const firstAggregate = (stored[0] as Event).aggregate?.id as string;
    const filtered = await drain(job.events({ filter: query().aggregateId(firstAggregate) }));
    expect(filtered.every((e) => e.aggregate?.id === firstAggregate)).toBe(true);
    expect(filtered.length).toBe(
      stored.slice(10).filter((e) => e.aggregate?.id === firstAggregate).length,
    );
    const jobFiltered = createJob(store, {
      query: q,
      filter: [query().aggregateId(firstAggregate)],
    });
    expect((await drain(jobFiltered.events())).length).toBe(10);
    job.close();
    jobFiltered.close();
  });

  it('eventsOf limits to aggregate names; no names means all', async () => {
    const { ns, store, q } = await fixture(6);
    await store.insert([createEvent(ns.name('placed'), { n: -1 })]);
    const job = createJob(store, { query: q });
    expect((await drain(job.eventsOf([ns.name('order')]))).length).toBe(6);
    expect((await drain(job.eventsOf([]))).length).toBe(7);
    expect((await drain(job.eventsOf([ns.name('other')]))).length).toBe(0);
    job.close();
  });

  it('eventsFor reads after a progress-aware target’s progress, and the window for others', async () => {
    const { store, q } = await fixture(20);
    const job = createJob(store, { query: q, from: 15 });
    const behind = new Recorder();
    behind.setProgress(5);
    expect((await drain(job.eventsFor(behind))).map((e) => e.position)).toEqual(
      Array.from({ length: 15 }, (_, i) => i + 6),
    );
    expect((await drain(job.eventsFor(new Plain()))).map((e) => e.position)).toEqual([
      16, 17, 18, 19, 20,
    ]);
    job.close();
  });

  it('lists distinct aggregates in first-seen order, by name, and from the aggregate query', async () => {
    const { ns, store, stored, q } = await fixture(12, 3);
    const job = createJob(store, { query: q });
    const refs = await drain(job.aggregates());
    expect(refs).toEqual(
      [...new Map(stored.map((e) => [e.aggregate?.id, e.aggregate])).values()].map((a) => ({
        name: a?.name,
        id: a?.id,
      })),
    );
    expect(await drain(job.aggregates({ names: [ns.name('nope')] }))).toEqual([]);
    expect(await job.aggregate(ns.name('order'))).toBe((stored[0] as Event).aggregate?.id);
    const error = await job.aggregate(ns.name('nope')).catch((e: unknown) => e);
    expect(isGoesError(error, 'AGGREGATE_NOT_FOUND')).toBe(true);
    expect((error as Error).message).toContain(ns.name('nope'));

    const otherId = uuidv7();
    await store.insert([
      createEvent(
        ns.name('shipped'),
        {},
        { aggregate: { name: ns.name('parcel'), id: otherId, version: 1 } },
      ),
    ]);
    const custom = createJob(store, { query: q, aggregateQuery: query().name(ns.name('shipped')) });
    expect(await drain(custom.aggregates())).toEqual([{ name: ns.name('parcel'), id: otherId }]);
    job.close();
    custom.close();
  });

  it('queries the store once for several projections in one job (per-job cache)', async () => {
    const { store, queries, q } = await fixture(50);
    const job = createJob(store, { query: q });
    const a = new Recorder();
    const b = new Recorder();
    const c = new Plain();
    await job.apply(a);
    await job.apply(b);
    await job.apply(c);
    await drain(job.events());
    await drain(job.aggregates());
    expect(queries).toHaveLength(1);
    expect([a.count, b.count, c.events.length]).toEqual([50, 50, 50]);
    // a target further ahead is served from the cached read, too
    const ahead = new Recorder();
    ahead.setProgress(40);
    await job.apply(ahead);
    expect(ahead.count).toBe(10);
    expect(queries).toHaveLength(1);
    job.close();
  });

  it('shares one read between concurrent consumers', async () => {
    const { store, queries, q } = await fixture(2_000);
    const job = createJob(store, { query: q });
    const targets = [new Recorder(), new Recorder(), new Recorder()];
    await Promise.all([...targets.map((t) => job.apply(t)), drain(job.events())]);
    expect(queries).toHaveLength(1);
    for (const t of targets) expect(t.count).toBe(2_000);
    expect(targets.every((t) => t.inOrder())).toBe(true);
    job.close();
  });

  it('pushes a target’s progress into the store query', async () => {
    const { store, queries, q } = await fixture(30);
    const job = createJob(store, { query: q });
    const target = new Recorder();
    target.setProgress(25);
    await job.apply(target);
    expect(queries[0]?.positions).toEqual({ min: 26 });
    expect(target.count).toBe(5);
    job.close();
  });

  it('in a reset job, resets each target once and replays everything (goes WithReset)', async () => {
    const { store, q } = await fixture(10);
    class Resettable extends Recorder implements Resetter {
      resets = 0;
      reset() {
        this.resets++;
        this.ids.length = 0;
        this.positions.length = 0;
      }
    }
    const target = new Resettable();
    const first = createJob(store, { query: q });
    await first.apply(target);
    first.close();
    const job = createJob(store, { query: q, reset: true });
    expect(job.reset).toBe(true);
    await job.apply(target);
    await job.apply(target);
    expect(target.resets).toBe(1);
    expect(target.count).toBe(10);
    expect(target.position).toBe(10);
    job.close();
  });

  it('inserts interceptor events before the events they precede (goes BeforeEvent)', async () => {
    const { ns, store, stored, q } = await fixture(4);
    const before: BeforeEvent = {
      names: [ns.name('placed')],
      handler: (event) => [createEvent(ns.name('before'), { of: event.id })],
    };
    const job = createJob(store, { query: q, beforeEvent: before });
    const streamed = await drain(job.events());
    expect(streamed.map((e) => e.name)).toEqual(
      Array(4)
        .fill([ns.name('before'), ns.name('placed')])
        .flat(),
    );
    expect(streamed[0]?.data).toEqual({ of: stored[0]?.id });
    const target = new Recorder();
    target.setProgress(2);
    await job.apply(target);
    // the events at or below the progress and their interceptors are not applied
    expect(target.count).toBe(4);
    expect(target.position).toBe(4);
    job.close();
  });

  it('narrows a target’s read to one aggregate', async () => {
    const { ns, store, queries, stored, q } = await fixture(30, 3);
    const ref = { name: ns.name('order'), id: (stored[1] as Event).aggregate?.id as string };
    const job = createJob(store, { query: q });
    const target = new Recorder();
    await job.apply(target, { aggregate: ref });
    expect(target.count).toBe(10);
    expect(queries[0]?.aggregates).toEqual([ref]);
    job.close();
  });

  it('gives progress-aware targets position order even when the query sorts otherwise', async () => {
    const { store, q } = await fixture(10);
    const job = createJob(store, { query: q.sortBy('time', 'desc') });
    const plain = new Plain();
    await job.apply(plain);
    expect(plain.events.map((e) => e.position)).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    const tracked = new Recorder();
    await job.apply(tracked);
    expect(tracked.positions).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    job.close();
  });

  it('applies per-aggregate read models through a repository, each event once (applyToModels)', async () => {
    const { ns, store, stored, q } = await fixture(30, 3);
    class Summary extends Progressor implements Target {
      count = 0;
      constructor(readonly id: string) {
        super();
      }
      applyEvent() {
        this.count++;
      }
    }
    const models = createMemoryModelRepository<Summary>();
    const job = createJob(store, { query: q });
    const result = await job.applyToModels(models, {
      aggregateNames: [ns.name('order')],
      create: (ref) => new Summary(ref.id),
    });
    expect(result).toEqual({ models: 3, saved: 3, applied: 30, skipped: 0 });
    const again = await job.applyToModels(models, { create: (ref) => new Summary(ref.id) });
    expect(again).toEqual({ models: 3, saved: 0, applied: 0, skipped: 0 });
    job.close();
    for (const id of new Set(stored.map((e) => e.aggregate?.id as string))) {
      const { model, version } = await models.fetchVersioned(id);
      expect(model).toBeInstanceOf(Summary);
      expect(model.count).toBe(10);
      expect(version).toBe(1);
    }
    // A later job catches a model up from its own progress, also before the job's window:
    // three more events of the first order, of which the window holds only the last two.
    const first = (stored[0] as Event).aggregate as NonNullable<Event['aggregate']>;
    const more = await store.insert(
      [11, 12, 13].map((version) =>
        createEvent(ns.name('placed'), { n: version }, { aggregate: { ...first, version } }),
      ),
    );
    const next = createJob(store, { query: q, from: (more[0] as Event).position as number });
    const caughtUp = await next.applyToModels(models, { create: (ref) => new Summary(ref.id) });
    expect(caughtUp).toEqual({ models: 1, saved: 1, applied: 3, skipped: 0 });
    expect((await models.fetch(first.id)).count).toBe(13);
    next.close();
  });

  it('releases its reads with await using', async () => {
    const { store, q } = await fixture(5);
    let signal: AbortSignal | undefined;
    {
      await using job = createJob(store, { query: q });
      signal = job.signal;
      expect((await job.apply(new Recorder())).applied).toBe(5);
    }
    expect(signal.aborted).toBe(true);
  });

  it('aborts its reads when closed', async () => {
    const { store, q } = await fixture(3_000);
    const job = createJob(store, { query: q });
    const target = new Recorder();
    const original = target.applyEvent.bind(target);
    target.applyEvent = (event) => {
      original(event);
      if (target.count === 100) job.close();
    };
    await expect(job.apply(target)).rejects.toMatchObject({ code: 'CLOSED' });
    expect(target.count).toBe(100);
  });

  it('refuses malformed queries and options at creation', async () => {
    const { store } = await fixture(1);
    expect(() => createJob(store, { query: { ids: ['nope'] } })).toThrow(/"nope"/);
    expect(() => createJob(store, { from: -1 })).toThrow(/from -1/);
    expect(() => createJob(store, { filter: { names: [''] } })).toThrow(/names\[0\]/);
    const job = createJob(store);
    await expect(
      job.applyToModels(createMemoryModelRepository<Recorder>(), {} as never),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    job.close();
  });
});

describe('job with a target that applies asynchronously', () => {
  it('keeps state and progress in step at every await', async () => {
    const { store, q } = await fixture(20);
    const snapshots: [number, number][] = [];
    class Slow extends Progressor implements Target {
      n = 0;
      async applyEvent() {
        snapshots.push([this.n, this.position]);
        await Promise.resolve();
        this.n++;
      }
    }
    const slow = new Slow();
    const job = createJob(store, { query: q });
    await job.apply(slow);
    job.close();
    expect(slow.n).toBe(20);
    // before event k is applied, n === k and the progress is at the previous event
    expect(snapshots.every(([n, position], k) => n === k && position === k)).toBe(true);
  });
});
