import { createEvent, type Event, isVersionConflictError, query, uuidv7 } from '@goes/event';
import { drain } from '@goes/streams';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { createPostgresEventStore, type PostgresEventStore } from '../src/index.js';
import { createPool, dropSchemas, POSTGRES_URL, uniqueSchema } from './support.js';

const schema = uniqueSchema('concurrency');
const pool = createPool(14);
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

/** Everything stored in the test schema, in position order. */
async function everything(): Promise<Event[]> {
  return drain(store.query({}));
}

/** Resolves once PostgreSQL reports a statement on the test schema's counter waiting for a lock. */
async function blockedOnCounter(): Promise<void> {
  const monitor = new pg.Client({ connectionString: POSTGRES_URL });
  await monitor.connect();
  try {
    for (;;) {
      const { rows } = await monitor.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE wait_event_type = 'Lock' AND query LIKE $1`,
        [`%"${schema}"."events_position"%`],
      );
      if ((rows[0] as { n: number }).n > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    await monitor.end();
  }
}

function expectIncreasingPositions(events: readonly Event[]): void {
  for (let i = 1; i < events.length; i++) {
    expect(events[i]?.position as number).toBeGreaterThan(events[i - 1]?.position as number);
  }
}

describe('8 pooled connections appending to shared aggregates', () => {
  it('are seen by a feed and by a position-polling reader exactly once, in position order, with nothing skipped', async () => {
    const start = await store.lastPosition();
    const aggregates = Array.from({ length: 3 }, () => ({ name: 'account', id: uuidv7() }));
    const known = new Map(aggregates.map((a) => [a.id, 0]));
    const inserted: Event[] = [];
    let conflicts = 0;

    // The feed: every event after `start`, until told how many to expect.
    const feed = store.feed({ after: start, batchSize: 7 });
    let expectedTotal: number | undefined;
    const fed: Event[] = [];
    const feeding = (async () => {
      for await (const event of feed) {
        fed.push(event);
        if (expectedTotal !== undefined && fed.length >= expectedTotal) break;
      }
    })();

    // A reader that polls by position, as a projection catching up would.
    let writing = true;
    const polled: Event[] = [];
    const polling = (async () => {
      let last = start;
      for (;;) {
        const finalRound = !writing;
        const page = await drain(store.query(query().positionMin(last + 1)));
        polled.push(...page);
        if (page.length > 0) last = page[page.length - 1]?.position as number;
        if (finalRound) return;
      }
    })();

    const writer = async (w: number) => {
      for (let n = 0; n < 20; n++) {
        const aggregate = aggregates[(w + n) % aggregates.length] as { name: string; id: string };
        for (;;) {
          const from = known.get(aggregate.id) as number;
          const size = 1 + ((w + n) % 3);
          const batch: Event[] = Array.from({ length: size }, (_, i) =>
            createEvent(
              `deposited.w${w}`,
              { writer: w, n, i },
              {
                aggregate: { ...aggregate, version: from + i + 1 },
              },
            ),
          );
          if (n % 5 === 0) batch.push(createEvent('audit.noted', { writer: w, n }));
          try {
            inserted.push(...(await store.insert(batch)));
            known.set(aggregate.id, Math.max(known.get(aggregate.id) as number, from + size));
            break;
          } catch (error) {
            if (!isVersionConflictError(error)) throw error;
            conflicts++;
            expect(error.aggregate).toEqual(aggregate);
            expect(error.expected).toBe(from);
            // Re-read the version from the store, as an application would.
            const history = await drain(
              store.query(query().aggregate(aggregate.name, aggregate.id)),
            );
            known.set(aggregate.id, Math.max(0, ...history.map((e) => e.aggregate?.version ?? 0)));
          }
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, w) => writer(w)));
    writing = false;
    await polling;

    const stored = (await everything()).filter((e) => (e.position as number) > start);
    expectedTotal = stored.length;
    if (fed.length >= expectedTotal) await feed.close();
    await feeding;

    expect(stored).toHaveLength(inserted.length);
    expect(new Set(stored.map((e) => e.id))).toEqual(new Set(inserted.map((e) => e.id)));
    expectIncreasingPositions(stored);
    expect(fed.map((e) => e.id)).toEqual(stored.map((e) => e.id));
    expect(polled.map((e) => e.id)).toEqual(stored.map((e) => e.id));
    expect(fed.map((e) => e.position)).toEqual(stored.map((e) => e.position));
    // Every aggregate's versions are 1..n without a gap or a repeat.
    for (const aggregate of aggregates) {
      const versions = stored
        .filter((e) => e.aggregate?.id === aggregate.id)
        .map((e) => e.aggregate?.version);
      expect(versions).toEqual(Array.from({ length: versions.length }, (_, i) => i + 1));
    }
    // 8 writers on 3 aggregates cannot all have won the first time.
    expect(conflicts).toBeGreaterThan(0);
  });
});

describe('commit order', () => {
  it('an append waits for an earlier uncommitted append, so a later commit never gets a lower position', async () => {
    const ns = `order${uuidv7().slice(-8)}`;
    const slow = new pg.Client({ connectionString: POSTGRES_URL });
    await slow.connect();
    try {
      // A writer that took its position but has not committed yet (what the append statement
      // does inside its transaction).
      await slow.query('BEGIN');
      const taken = await slow.query<{ last: string }>(
        `UPDATE "${schema}"."events_position" SET last = last + 1 RETURNING last`,
      );
      const slowPosition = Number(taken.rows[0]?.last);

      const later = createEvent(`${ns}.later`, { n: 2 });
      const appending = store.insert([later]);

      await blockedOnCounter();
      // Nothing is visible yet: the reader cannot run ahead of the uncommitted position.
      expect(await drain(store.query(query().name(`${ns}.earlier`, `${ns}.later`)))).toEqual([]);

      const earlier = createEvent(`${ns}.earlier`, { n: 1 });
      await slow.query(
        `INSERT INTO "${schema}"."events" (position, id, name, time, data) VALUES ($1, $2, $3, $4, '{"n":1}')`,
        [slowPosition, earlier.id, earlier.name, earlier.time.toString()],
      );
      await slow.query('COMMIT');

      const [stored] = await appending;
      expect(stored?.position).toBe(slowPosition + 1);
      const seen = await drain(store.query(query().name(`${ns}.earlier`, `${ns}.later`)));
      expect(seen.map((e) => [e.id, e.position])).toEqual([
        [earlier.id, slowPosition],
        [later.id, slowPosition + 1],
      ]);
    } finally {
      await slow.end();
    }
  });
});

describe('a writer that commits the same version between the check and the insert', () => {
  it('makes the append fail with VersionConflictError naming the version that won (the unique index)', async () => {
    const id = uuidv7();
    const slow = new pg.Client({ connectionString: POSTGRES_URL });
    await slow.connect();
    try {
      await slow.query('BEGIN');
      const taken = await slow.query<{ last: string }>(
        `UPDATE "${schema}"."events_position" SET last = last + 1 RETURNING last`,
      );
      // The append checks the version in its snapshot (nothing stored yet), then waits for the
      // counter held by the slow writer, which meanwhile stores version 1.
      const appending = store
        .insert([createEvent('late', {}, { aggregate: { name: 'race', id, version: 1 } })])
        .catch((e: unknown) => e);
      await blockedOnCounter();
      await slow.query(
        `INSERT INTO "${schema}"."events" (position, id, name, time, aggregate_name, aggregate_id, aggregate_version, data)
         VALUES ($1, $2, 'early', 1, 'race', $3, 1, '{}')`,
        [Number(taken.rows[0]?.last), uuidv7(), id],
      );
      await slow.query('COMMIT');
      const error = await appending;
      expect(isVersionConflictError(error)).toBe(true);
      expect(error).toMatchObject({ aggregate: { name: 'race', id }, expected: 0, actual: 1 });
      // It was the unique index that caught it (a unique violation is the cause).
      expect((error as Error).cause).toMatchObject({ code: '23505' });
      const history = await drain(store.query(query().aggregate('race', id)));
      expect(history.map((e) => e.name)).toEqual(['early']);
    } finally {
      await slow.end();
    }
  });
});

describe('writers in different pools (as different processes)', () => {
  it('agree on one winner per version; the loser gets VersionConflictError with the stored version', async () => {
    const otherPool = createPool(4);
    const other = createPostgresEventStore({ pool: otherPool, schema });
    try {
      const ids = Array.from({ length: 20 }, () => uuidv7());
      const results = await Promise.allSettled(
        ids.flatMap((id) =>
          [store, other].map((s, i) =>
            s.insert([
              createEvent(
                `opened.by${i}`,
                { i },
                { aggregate: { name: 'ledger', id, version: 1 } },
              ),
            ]),
          ),
        ),
      );
      for (let a = 0; a < ids.length; a++) {
        const pair = results.slice(a * 2, a * 2 + 2);
        expect(pair.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const lost = pair.find((r) => r.status === 'rejected') as PromiseRejectedResult;
        expect(isVersionConflictError(lost.reason)).toBe(true);
        expect(lost.reason).toMatchObject({
          aggregate: { name: 'ledger', id: ids[a] },
          expected: 0,
          actual: 1,
        });
        const history = await drain(store.query(query().aggregate('ledger', ids[a])));
        expect(history).toHaveLength(1);
      }
    } finally {
      await other.close();
      await otherPool.end();
    }
  });
});
