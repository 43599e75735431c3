import { createEvent, type Event, isGoesError } from '@goes/event';
import { namespace } from '@goes/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createPostgresEventStore, type EventFeed, type PostgresEventStore } from '../src/index.js';
import { tableNames } from '../src/internal/names.js';
import { createPool, dropSchemas, uniqueSchema } from './support.js';

const schema = uniqueSchema('feed');
const pool = createPool(8);
let store: PostgresEventStore;

beforeAll(async () => {
  store = createPostgresEventStore({ pool, schema });
  await store.ready();
});

afterAll(async () => {
  await store.close();
  await pool.end();
  await dropSchemas(schema);
});

/**
 * Reads `count` events from a feed's iterator (the test times out if they never come). It calls
 * `next()` itself: a `for await` with `break` would end the feed.
 */
async function takeFrom(feed: AsyncIterator<Event>, count: number): Promise<Event[]> {
  const events: Event[] = [];
  while (events.length < count) {
    const result = await feed.next();
    if (result.done) break;
    events.push(result.value);
  }
  return events;
}

const consume = (feed: EventFeed) => feed[Symbol.asyncIterator]();

// The feeds below poll once an hour: only a wake-up (an insert of this store, or a NOTIFY of
// another one) can make them see new events within the test's timeout.
const NEVER_POLL = 3_600_000;

describe('store feed', () => {
  it('delivers stored events after a position, then new ones as they are appended', async () => {
    const ns = namespace();
    const before = await store.insert([ns.event('a'), ns.event('b')]);
    const start = (before[0]?.position as number) - 1;
    await using feed = store.feed({
      after: start,
      names: [ns.name('a'), ns.name('b'), ns.name('c')],
      pollIntervalMs: NEVER_POLL,
    });
    const events = consume(feed);
    expect((await takeFrom(events, 2)).map((e) => e.id)).toEqual(before.map((e) => e.id));
    expect(feed.position).toBe(before[1]?.position);
    const later = ns.event('c');
    const waiting = takeFrom(events, 1);
    await store.insert([later]);
    const [received] = await waiting;
    expect(received?.id).toBe(later.id);
    expect(received?.data).toEqual(later.data);
    expect(received?.position).toBe(feed.position);
  });

  it('is woken by appends of another store (another pool, as another process) through LISTEN/NOTIFY', async () => {
    const ns = namespace();
    const otherPool = createPool(2);
    const other = createPostgresEventStore({ pool: otherPool, schema });
    try {
      const feed = store.feed({
        after: await store.lastPosition(),
        names: [ns.name('remote')],
        pollIntervalMs: NEVER_POLL,
      });
      const first = takeFrom(consume(feed), 1);
      // Give the feed its first (empty) read and its LISTEN before the remote append: until
      // then a wake-up could come from the feed's own first read instead of the notification.
      const event = ns.event('remote');
      await waitForListener();
      await other.insert([event]);
      expect((await first).map((e) => e.id)).toEqual([event.id]);
      await feed.close();
    } finally {
      await other.close();
      await otherPool.end();
    }
  });

  it('moves past events it does not want without delivering them', async () => {
    const ns = namespace();
    const start = await store.lastPosition();
    await store.insert(Array.from({ length: 30 }, () => ns.event('noise')));
    const wanted = ns.event('signal');
    await store.insert([wanted]);
    await using feed = store.feed({ after: start, names: [ns.name('signal')], batchSize: 4 });
    const [only] = await takeFrom(consume(feed), 1);
    expect(only?.id).toBe(wanted.id);
  });

  it('reads in pages of batchSize and delivers every event in order', async () => {
    const ns = namespace();
    const start = await store.lastPosition();
    const stored = await store.insert(Array.from({ length: 25 }, () => ns.event('page')));
    await using feed = store.feed({ after: start, batchSize: 3 });
    const events = await takeFrom(consume(feed), 25);
    expect(events.map((e) => e.position)).toEqual(stored.map((e) => e.position));
  });

  it('ends when closed, also while waiting for new events', async () => {
    const feed = store.feed({ after: await store.lastPosition(), pollIntervalMs: NEVER_POLL });
    const iterator = feed[Symbol.asyncIterator]();
    const pending = iterator.next();
    await feed.close();
    await expect(pending).resolves.toEqual({ done: true, value: undefined });
    await expect(iterator.next()).resolves.toEqual({ done: true, value: undefined });
  });

  it('rejects with the abort reason when its signal aborts while waiting', async () => {
    const controller = new AbortController();
    const feed = store.feed({
      after: await store.lastPosition(),
      pollIntervalMs: NEVER_POLL,
      signal: controller.signal,
    });
    const reason = new Error('shutting down');
    const consuming = takeFrom(consume(feed), 1);
    controller.abort(reason);
    await expect(consuming).rejects.toBe(reason);
  });

  it('ends every feed when the store closes', async () => {
    const ownPool = createPool(2);
    const own = createPostgresEventStore({ pool: ownPool, schema });
    try {
      const feed = own.feed({ after: await own.lastPosition(), pollIntervalMs: NEVER_POLL });
      const pending = feed[Symbol.asyncIterator]().next();
      await own.close();
      await expect(pending).resolves.toEqual({ done: true, value: undefined });
      expect(() => own.feed()).toThrow(expect.objectContaining({ code: 'CLOSED' }));
    } finally {
      await ownPool.end();
    }
  });

  it('has one consumer', () => {
    const feed = store.feed();
    feed[Symbol.asyncIterator]();
    expect(() => feed[Symbol.asyncIterator]()).toThrow(TypeError);
    return feed.close();
  });

  it.each([
    ['after', { after: -1 }],
    ['after', { after: 1.5 }],
    ['batchSize', { batchSize: 0 }],
    // The page's LIMIT is a 32-bit integer: refused at once, not at the first read.
    ['batchSize', { batchSize: 2 ** 31 }],
    ['pollIntervalMs', { pollIntervalMs: Number.NaN }],
    ['names', { names: [''] }],
  ])('refuses a bad %s with InvalidArgumentError', (option, options) => {
    let error: unknown;
    try {
      store.feed(options);
    } catch (e) {
      error = e;
    }
    expect(isGoesError(error, 'INVALID_ARGUMENT')).toBe(true);
    expect(String((error as Error).message)).toContain(option);
  });

  it('skips names no event can have (NUL) instead of failing', async () => {
    const ns = namespace();
    const start = await store.lastPosition();
    await store.insert([ns.event('x')]);
    await using feed = store.feed({ after: start, names: ['bad\u0000name', ns.name('x')] });
    expect(await takeFrom(consume(feed), 1)).toHaveLength(1);
  });

  it('delivers data exactly as a query does', async () => {
    const ns = namespace();
    const start = await store.lastPosition();
    const event = createEvent(ns.name('rich'), {
      big: '9007199254740993',
      nested: { a: [1, null] },
    });
    await store.insert([event]);
    await using feed = store.feed({ after: start, names: [ns.name('rich')] });
    const [fed] = await takeFrom(consume(feed), 1);
    expect(fed?.data).toEqual(event.data);
    expect(fed?.time).toBe(event.time);
  });
});

/** Resolves once the store's LISTEN connection is listening on the table's channel. */
async function waitForListener(): Promise<void> {
  const { channel } = tableNames(schema, 'events');
  for (;;) {
    const listening = await pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM pg_stat_activity WHERE query = $1',
      [`LISTEN "${channel}"`],
    );
    if ((listening.rows[0]?.n ?? 0) > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
