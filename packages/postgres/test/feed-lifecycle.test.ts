import { createEvent } from '@goes/event';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { createPostgresEventStore, type PostgresEventStore } from '../src/index.js';
import { tableNames } from '../src/internal/names.js';
import { dropSchemas, POSTGRES_URL, uniqueSchema } from './support.js';

// The store's pool and its LISTEN connection carry this application name, so the tests can see
// exactly this file's backends in pg_stat_activity.
const schema = uniqueSchema('feedlife');
const application = `goes_feedlife_${process.pid}`;
const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 4, application_name: application });
pool.on('error', () => {});
const admin = new pg.Pool({ connectionString: POSTGRES_URL, max: 2 });
const { channel } = tableNames(schema, 'events');
let store: PostgresEventStore;

beforeAll(async () => {
  store = createPostgresEventStore({ pool, schema });
  await store.ready();
});

afterAll(async () => {
  await store.close();
  await pool.end();
  await admin.end();
  await dropSchemas(schema);
});

const NEVER_POLL = 3_600_000;
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The backend pids of this file's LISTEN connections. */
async function listeners(): Promise<number[]> {
  const { rows } = await admin.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query = $2',
    [application, `LISTEN "${channel}"`],
  );
  return rows.map((row) => row.pid);
}

/**
 * Waits (polling the server) until there are `count` LISTEN connections, for at most 5 s (a
 * connection ends or starts within milliseconds), and returns the pids seen last.
 */
async function untilListeners(count: number): Promise<number[]> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const pids = await listeners();
    if (pids.length === count || Date.now() > deadline) return pids;
    await delay(20);
  }
}

describe('feed lifecycle', () => {
  it('does not spin when pollIntervalMs is beyond what a timer can wait (2^31 ms)', async () => {
    await untilListeners(0);
    let reads = 0;
    const counting = () => reads++;
    pool.on('acquire', counting);
    const feed = store.feed({ after: await store.lastPosition(), pollIntervalMs: 2 ** 31 });
    const pending = feed[Symbol.asyncIterator]().next();
    try {
      await untilListeners(1);
      await delay(200);
    } finally {
      pool.off('acquire', counting);
      await feed.close();
    }
    await expect(pending).resolves.toEqual({ done: true, value: undefined });
    // One read, then a wake-up when the LISTEN connection is up (events may have come before),
    // then waiting; a timer overflowing to 1 ms read about once per millisecond.
    expect(reads).toBeLessThanOrEqual(3);
  });

  it('lets go of the LISTEN connection when its signal aborts while the consumer is busy elsewhere', async () => {
    await untilListeners(0);
    const start = await store.lastPosition();
    await store.insert([createEvent('busy.consumer', {})]);
    const controller = new AbortController();
    const feed = store.feed({
      after: start,
      signal: controller.signal,
      pollIntervalMs: NEVER_POLL,
    });
    const events = feed[Symbol.asyncIterator]();
    try {
      expect((await events.next()).done).toBe(false);
      expect(await untilListeners(1)).toHaveLength(1);
      // The consumer is not in next() now (it may never call it again): the abort alone ends it.
      const reason = new Error('shutting down');
      controller.abort(reason);
      expect(await untilListeners(0)).toEqual([]);
      // A consumer that comes back still learns why the feed ended, then sees it done.
      await expect(events.next()).rejects.toBe(reason);
      await expect(events.next()).resolves.toEqual({ done: true, value: undefined });
    } finally {
      await feed.close();
    }
  });

  it('opens no LISTEN connection for a feed that is never iterated', async () => {
    await untilListeners(0);
    const feed = store.feed({ pollIntervalMs: NEVER_POLL });
    await delay(100);
    expect(await listeners()).toEqual([]);
    await feed.close();
  });

  it('does not open a LISTEN connection for a feed whose signal is already aborted', async () => {
    await untilListeners(0);
    const reason = new Error('already over');
    const feed = store.feed({ signal: AbortSignal.abort(reason) });
    await expect(feed[Symbol.asyncIterator]().next()).rejects.toBe(reason);
    await delay(100);
    expect(await listeners()).toEqual([]);
  });

  it('shares one LISTEN connection between feeds: closing one keeps the others woken, closing the last ends it', async () => {
    await untilListeners(0);
    const other = createPostgresEventStore({ connectionString: POSTGRES_URL, schema, poolSize: 1 });
    try {
      const after = await store.lastPosition();
      const feeds = [1, 2, 3].map(() => store.feed({ after, pollIntervalMs: NEVER_POLL }));
      const iterators = feeds.map((feed) => feed[Symbol.asyncIterator]());
      const [first, , third] = iterators;
      const waiting = [first?.next(), third?.next()];
      expect(await untilListeners(1)).toHaveLength(1);
      await feeds[1]?.close();
      await delay(50);
      expect(await listeners()).toHaveLength(1);
      // Only a NOTIFY can wake the feeds: the append comes from another store.
      const [event] = await other.insert([createEvent('shared.wake', {})]);
      for (const result of await Promise.all(waiting)) expect(result?.value?.id).toBe(event?.id);
      await feeds[0]?.close();
      await feeds[2]?.close();
      await untilListeners(0);
    } finally {
      await other.close();
    }
  });

  it('misses no notification sent while its LISTEN connection is down: it reads again on reconnect', async () => {
    await untilListeners(0);
    const errors: unknown[] = [];
    const watched = createPostgresEventStore({ pool, schema, onError: (e) => errors.push(e) });
    const other = createPostgresEventStore({ connectionString: POSTGRES_URL, schema, poolSize: 1 });
    const feed = watched.feed({ after: await watched.lastPosition(), pollIntervalMs: NEVER_POLL });
    try {
      const next = feed[Symbol.asyncIterator]().next();
      const [pid] = await untilListeners(1);
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      // Appended (and notified) before the listener is back: only the reconnect can wake the feed.
      const [event] = await other.insert([createEvent('while.down', {})]);
      expect((await next).value?.id).toBe(event?.id);
      expect(errors.length).toBeGreaterThan(0);
    } finally {
      await feed.close();
      await watched.close();
      await other.close();
    }
  });
});
