import { createEvent, query, uuidv7 } from '@goes/event';
import { drain } from '@goes/streams';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { createPostgresEventStore, type PostgresEventStore } from '../src/index.js';
import { createPool, dropSchemas, POSTGRES_URL, uniqueSchema } from './support.js';

// A statement made slow on the server for as long as the test wants: another connection holds
// an ACCESS EXCLUSIVE lock on the events tables, so every read of it waits for the lock inside
// PostgreSQL (a real, running statement that only a cancel or the lock's release ends).
const HOLD_MS = 20_000;
/** Far below HOLD_MS: an abort that waited for the statement would miss it by seconds. */
const PROMPT_MS = 2_000;

const schema = uniqueSchema('cancel');
/** The events table and its position counter (which `lastPosition` reads). */
const LOCK = `LOCK TABLE "${schema}"."events", "${schema}"."events_position" IN ACCESS EXCLUSIVE MODE`;
const pool = createPool(2);
const locker = new pg.Client({ connectionString: POSTGRES_URL });
const observer = new pg.Client({ connectionString: POSTGRES_URL });
let store: PostgresEventStore;
const id = uuidv7();

beforeAll(async () => {
  store = createPostgresEventStore({ pool, schema, notify: false });
  await store.insert(
    [1, 2, 3].map((version) =>
      createEvent(`${schema}.e`, { version }, { aggregate: { name: 'thing', id, version } }),
    ),
  );
  await locker.connect();
  await observer.connect();
});

afterAll(async () => {
  await store.close();
  await pool.end();
  await locker.end();
  await observer.end();
  await dropSchemas(schema);
});

/** Statements of other connections that are waiting on or reading the events table. */
async function statementsOnTable(): Promise<number> {
  const { rows } = await observer.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity
     WHERE pid <> pg_backend_pid() AND pid <> $1 AND state = 'active' AND query LIKE $2`,
    [(locker as unknown as { processID: number }).processID, `%"${schema}"."events%`],
  );
  return rows[0]?.n ?? 0;
}

async function waitFor(condition: () => Promise<boolean>, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > end) {
      const { rows } = await observer.query(
        'SELECT pid, state, wait_event_type, left(query, 60) AS q FROM pg_stat_activity WHERE datname IS NOT NULL',
      );
      throw new Error(`condition not reached ${JSON.stringify(rows)}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Starts `read` while the table is locked, waits until its statement is waiting in PostgreSQL,
 * aborts, and returns how long the rejection took and with what.
 */
async function abortWhileRunning(
  read: (signal: AbortSignal) => Promise<unknown>,
): Promise<{ error: unknown; ms: number }> {
  await locker.query('BEGIN');
  await locker.query(LOCK);
  const release = setTimeout(() => void locker.query('ROLLBACK'), HOLD_MS);
  try {
    const controller = new AbortController();
    const reading = read(controller.signal).then(
      () => ({ error: undefined }),
      (error: unknown) => ({ error }),
    );
    await waitFor(async () => (await statementsOnTable()) === 1);
    const start = Date.now();
    controller.abort(new Error('stop'));
    const { error } = await reading;
    const ms = Date.now() - start;
    // The statement is cancelled in the server too, while the lock is still held.
    await waitFor(async () => (await statementsOnTable()) === 0, PROMPT_MS);
    return { error, ms };
  } finally {
    clearTimeout(release);
    await locker.query('ROLLBACK');
  }
}

/** The pool has every connection back and the store answers correctly. */
async function expectHealthy(versions = [1, 2, 3]): Promise<void> {
  await waitFor(async () => pool.idleCount === pool.totalCount);
  const events = await drain(store.query(query().aggregate('thing', id).versionMin(1)));
  expect(events.map((e) => e.aggregate?.version)).toEqual(versions);
  expect(await store.lastPosition()).toBeGreaterThan(0);
}

describe('an abort while a read statement runs on the server', () => {
  it('cancels a query (cursor read) and rejects at once with the abort reason', async () => {
    const { error, ms } = await abortWhileRunning((signal) =>
      drain(store.query(query().aggregate('thing', id), { signal })),
    );
    expect((error as Error).message).toBe('stop');
    expect(ms).toBeLessThan(PROMPT_MS);
    await expectHealthy();
  });

  it('cancels find and lastPosition the same way', async () => {
    const [stored] = await drain(store.query(query().aggregate('thing', id)));
    for (const read of [
      (signal: AbortSignal) => store.find(stored?.id as string, { signal }),
      (signal: AbortSignal) => store.lastPosition({ signal }),
    ]) {
      const { error, ms } = await abortWhileRunning(read);
      expect((error as Error).message).toBe('stop');
      expect(ms).toBeLessThan(PROMPT_MS);
      await expectHealthy();
    }
  });

  it('does not report an append as aborted once it was sent: it completes when the lock goes', async () => {
    await locker.query('BEGIN');
    await locker.query(LOCK);
    const controller = new AbortController();
    const appending = store.insert(
      [
        createEvent(
          `${schema}.e`,
          { version: 4 },
          { aggregate: { name: 'thing', id, version: 4 } },
        ),
      ],
      { signal: controller.signal },
    );
    await waitFor(async () => (await statementsOnTable()) === 1);
    controller.abort(new Error('stop'));
    await new Promise((r) => setTimeout(r, 200));
    await locker.query('ROLLBACK');
    const [stored] = await appending;
    expect(stored?.aggregate?.version).toBe(4);
    await expectHealthy([1, 2, 3, 4]);
  });
});

describe('the cancelling connection', () => {
  /** The connection settings of POSTGRES_URL as separate fields. */
  function fields(): pg.PoolConfig {
    const url = new URL(POSTGRES_URL);
    return {
      host: url.hostname,
      port: Number(url.port || 5432),
      user: decodeURIComponent(url.username) || undefined,
      password: url.password ? decodeURIComponent(url.password) : undefined,
      database: url.pathname.slice(1) || undefined,
    };
  }

  it('is made from a user pool configured by fields, not a connection string', async () => {
    const userPool = new pg.Pool({ ...fields(), max: 1, application_name: `${schema}_fields` });
    userPool.on('error', () => {});
    const other = createPostgresEventStore({ pool: userPool, schema, notify: false });
    try {
      await other.lastPosition(); // the set-up, so that the read is the statement that waits
      // abortWhileRunning fails unless the statement is gone from the server within PROMPT_MS.
      const { error } = await abortWhileRunning((signal) =>
        drain(other.query(query().aggregate('thing', id), { signal })),
      );
      expect((error as Error).message).toBe('stop');
      await waitFor(async () => userPool.idleCount === userPool.totalCount);
      expect((await drain(other.query(query().aggregate('thing', id)))).length).toBeGreaterThan(0);
    } finally {
      await other.close();
      await userPool.end();
    }
  });

  it('lets close() of a store with its own pool end while a cancel is in flight, leaving no connection', async () => {
    const application = `${schema}_own`;
    const own = createPostgresEventStore({
      connectionString: `${POSTGRES_URL}${POSTGRES_URL.includes('?') ? '&' : '?'}application_name=${application}`,
      schema,
      notify: false,
    });
    await own.lastPosition();
    await locker.query('BEGIN');
    await locker.query(LOCK);
    const release = setTimeout(() => void locker.query('ROLLBACK'), HOLD_MS);
    try {
      const controller = new AbortController();
      const reading = drain(
        own.query(query().aggregate('thing', id), { signal: controller.signal }),
      );
      const outcome = reading.catch((e: unknown) => e);
      await waitFor(async () => (await statementsOnTable()) === 1);
      controller.abort(new Error('stop'));
      const start = Date.now();
      // close() waits for the cursor, which waits for its statement: only the cancel ends it
      // while the lock is held.
      await own.close();
      expect(Date.now() - start).toBeLessThan(PROMPT_MS);
      expect(((await outcome) as Error).message).toBe('stop');
      const connected = async () => {
        const { rows } = await observer.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1',
          [application],
        );
        return rows[0]?.n ?? 0;
      };
      await waitFor(async () => (await connected()) === 0, PROMPT_MS);
    } finally {
      clearTimeout(release);
      await locker.query('ROLLBACK');
    }
  });
});

describe('cancelOnAbort: false (for connection poolers)', () => {
  it('rejects an aborted read at once but lets its statement run to its end, then reuses the connection', async () => {
    const onePool = createPool(1);
    const other = createPostgresEventStore({
      pool: onePool,
      schema,
      notify: false,
      cancelOnAbort: false,
    });
    try {
      await other.lastPosition(); // the set-up, so that the read is the statement that waits
      const pidOf = async () => {
        const client = await onePool.connect();
        const pid = (client as unknown as { processID: number }).processID;
        client.release();
        return pid;
      };
      const before = await pidOf();
      await locker.query('BEGIN');
      await locker.query(LOCK);
      const release = setTimeout(() => void locker.query('ROLLBACK'), HOLD_MS);
      try {
        const controller = new AbortController();
        const reading = drain(
          other.query(query().aggregate('thing', id), { signal: controller.signal }),
        ).catch((error: unknown) => error);
        await waitFor(async () => (await statementsOnTable()) === 1);
        const start = Date.now();
        controller.abort(new Error('stop'));
        expect(((await reading) as Error).message).toBe('stop');
        expect(Date.now() - start).toBeLessThan(PROMPT_MS);
        // No cancel: the statement still waits for the lock in the server.
        await new Promise((r) => setTimeout(r, 300));
        expect(await statementsOnTable()).toBe(1);
      } finally {
        clearTimeout(release);
        await locker.query('ROLLBACK');
      }
      await waitFor(async () => (await statementsOnTable()) === 0);
      await waitFor(async () => onePool.idleCount === onePool.totalCount);
      // The connection was not destroyed: nothing could have hit its next statement.
      expect(await pidOf()).toBe(before);
      const expected = await drain(store.query(query().aggregate('thing', id)));
      expect(await drain(other.query(query().aggregate('thing', id)))).toEqual(expected);
    } finally {
      await other.close();
      await onePool.end();
    }
  });
});
