import { createRegistry } from '@goes/codec';
import {
  createEvent,
  type Event,
  type EventQuery,
  isGoesError,
  matches,
  sortEvents,
  uuidv7,
} from '@goes/event';
import { drain, take } from '@goes/streams';
import { expectEventsInOrder } from '@goes/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createPostgresEventStore, type PostgresEventStore } from '../src/index.js';
import { createPool, dropSchemas, POSTGRES_URL, uniqueSchema } from './support.js';

const schema = uniqueSchema('queries');
const pool = createPool(6);
let store: PostgresEventStore;

beforeAll(async () => {
  // Cursor batches of 4: every query below that returns more crosses several round trips.
  store = createPostgresEventStore({ pool, schema, queryBatchSize: 4 });
  await store.ready();
});

afterAll(async () => {
  await store.close();
  await pool.end();
  await dropSchemas(schema);
});

/** Waits until every connection of the pool is idle again (none left checked out). */
async function poolSettled(): Promise<void> {
  while (pool.totalCount !== pool.idleCount) await new Promise((r) => setTimeout(r, 5));
}

const HOSTILE = [
  "o'brien",
  'say "hi"',
  'back\\slash',
  '$1 $2::text',
  "'; DROP TABLE events; --",
  '%_like_%',
  'Grüße 👋 ✓',
  'tab\tnew\nline',
  '\u2028separator',
  ' ',
  '{"json":true}',
  '(a,b)',
  'NULL',
];

describe('hostile strings', () => {
  it('round-trip exactly as event names, aggregate names and data, and are found by every filter', async () => {
    const events = HOSTILE.map((text, i) =>
      createEvent(
        `${schema}:${text}`,
        { text, [text]: i, nested: [text, { [text]: text }] },
        {
          aggregate: { name: `agg:${text}`, id: uuidv7(), version: 1 },
        },
      ),
    );
    await store.insert(events);
    for (const event of events) {
      const byName = await drain(store.query({ names: [event.name] }));
      expectEventsInOrder(byName, [event]);
      const byAggregate = await drain(
        store.query({ aggregates: [{ name: event.aggregate?.name as string }] }),
      );
      expectEventsInOrder(byAggregate, [event]);
      const byRef = await drain(
        store.query({
          aggregateNames: [event.aggregate?.name as string],
          aggregates: [{ name: event.aggregate?.name as string, id: event.aggregate?.id }],
        }),
      );
      expectEventsInOrder(byRef, [event]);
    }
    const all = await drain(store.query({ names: events.map((e) => e.name) }));
    expectEventsInOrder(all, events);
    // The table is still there and intact.
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM "${schema}"."events"`);
    expect((rows[0] as { n: number }).n).toBeGreaterThanOrEqual(events.length);
  });

  it.each([
    ['a NUL in the name', (e: Event) => ({ ...e, name: 'bad\u0000name' }), 'NUL'],
    ['a lone surrogate in the name', (e: Event) => ({ ...e, name: 'bad\ud800' }), 'surrogate'],
    [
      'a NUL in the aggregate name',
      (e: Event) => ({ ...e, aggregate: { name: 'a\u0000b', id: uuidv7(), version: 1 } }),
      'aggregate name',
    ],
    ['a \\u0000 in the data', (e: Event) => ({ ...e, data: { text: 'a\u0000b' } }), 'jsonb'],
    ['a lone surrogate in the data', (e: Event) => ({ ...e, data: { text: '\udc00' } }), 'jsonb'],
    [
      'a version beyond PostgreSQL integer',
      (e: Event) => ({ ...e, aggregate: { name: 'big', id: uuidv7(), version: 2 ** 31 } }),
      '2147483648',
    ],
    ['a time beyond bigint', (e: Event) => ({ ...e, time: 2n ** 63n }), 'bigint'],
  ])(
    'refuses %s with InvalidEventError and stores nothing of the batch',
    async (_label, spoil, mention) => {
      const good = createEvent(`${schema}.good`, { ok: true });
      const bad = spoil(createEvent(`${schema}.bad`, { ok: false }));
      const error = await store.insert([good, bad]).catch((e: unknown) => e);
      expect(isGoesError(error, 'INVALID_EVENT')).toBe(true);
      expect(String((error as Error).message)).toContain(mention);
      expect(
        isGoesError(await store.find(good.id).catch((e: unknown) => e), 'EVENT_NOT_FOUND'),
      ).toBe(true);
    },
  );

  it('answers queries for names no event can have with nothing instead of an error', async () => {
    expect(await drain(store.query({ names: ['x\u0000y'] }))).toEqual([]);
    expect(await drain(store.query({ aggregateNames: ['\ud800'] }))).toEqual([]);
    expect(await drain(store.query({ aggregates: [{ name: 'a\u0000' }] }))).toEqual([]);
  });

  it('keeps numbers, unicode keys and large integers of the data as the codec wrote them', async () => {
    const data = {
      big: 9007199254740991,
      float: 0.1,
      exp: 1e21,
      neg: -0.5,
      ключ: 'значение',
      empty: {},
    };
    const event = createEvent(`${schema}.numbers`, data);
    await store.insert([event]);
    expect((await store.find(event.id)).data).toEqual(data);
  });
});

describe('query translation', () => {
  const ns = `${schema}.sem`;
  const inserted: Event[] = [];

  beforeAll(async () => {
    const base = 1_800_000_000_000_000_000n;
    const names = [`${ns}.a`, `${ns}.b`];
    for (let i = 0; i < 6; i++) {
      const id = uuidv7();
      const aggregate = `${ns}.agg${i % 2}`;
      const history: Event[] = [1, 2, 3].map((version) =>
        createEvent(
          names[(i + version) % 2] as string,
          { i, version },
          {
            time: base + BigInt(i * 10 + version),
            aggregate: { name: aggregate, id, version },
          },
        ),
      );
      // a version-0 event of the same aggregate, and an event without aggregate
      history.push(
        createEvent(
          names[i % 2] as string,
          { i, mark: true },
          {
            time: base + BigInt(i * 10 + 5),
            aggregate: { name: aggregate, id, version: 0 },
          },
        ),
        createEvent(
          names[(i + 1) % 2] as string,
          { i, loose: true },
          { time: base + BigInt(i * 10 + 6) },
        ),
      );
      inserted.push(...(await store.insert(history)));
    }
  });

  const aggregateIds = () =>
    [...new Set(inserted.map((e) => e.aggregate?.id).filter(Boolean))] as string[];
  const cases: [string, () => EventQuery][] = [
    [
      'version exact 0 (version-0 events, not events without aggregate)',
      () => ({ names: [`${ns}.a`, `${ns}.b`], aggregateVersions: { exact: [0] } }),
    ],
    [
      'version exact 0 and 2',
      () => ({ names: [`${ns}.a`, `${ns}.b`], aggregateVersions: { exact: [0, 2] } }),
    ],
    [
      'version range from 0',
      () => ({ names: [`${ns}.a`, `${ns}.b`], aggregateVersions: { ranges: [[0, 1]] } }),
    ],
    [
      'version min 0 (every aggregate event)',
      () => ({ names: [`${ns}.a`, `${ns}.b`], aggregateVersions: { min: [0] } }),
    ],
    [
      'version max 1 and min 3 (lists: widest bound wins)',
      () => ({ names: [`${ns}.a`, `${ns}.b`], aggregateVersions: { max: [1, 0], min: [3, 2] } }),
    ],
    [
      'version beyond integer',
      () => ({
        names: [`${ns}.a`, `${ns}.b`],
        aggregateVersions: { exact: [2 ** 40], max: [2 ** 40] },
      }),
    ],
    [
      'time bounds outside bigint',
      () => ({ names: [`${ns}.a`, `${ns}.b`], times: { min: -(2n ** 70n), max: 2n ** 70n } }),
    ],
    [
      'time exact outside bigint only',
      () => ({ names: [`${ns}.a`], times: { exact: [2n ** 64n] } }),
    ],
    [
      'time range partly outside bigint',
      () => ({
        names: [`${ns}.a`, `${ns}.b`],
        times: { ranges: [[-(2n ** 65n), 1_800_000_000_000_000_013n]] },
      }),
    ],
    [
      'more aggregate refs than are inlined (unnest)',
      () => ({
        aggregates: aggregateIds().flatMap((id) => [
          { name: `${ns}.agg0`, id },
          { name: `${ns}.agg1`, id },
          { name: `${ns}.none`, id },
        ]),
      }),
    ],
    [
      'a ref and an id-less ref of the same name',
      () => ({
        aggregates: [{ name: `${ns}.agg0`, id: aggregateIds()[0] }, { name: `${ns}.agg0` }],
      }),
    ],
    [
      'one aggregate from version 2, as a repository fetch reads it (index order)',
      () => ({
        aggregates: [{ name: `${ns}.agg1`, id: aggregateIds()[1] as string }],
        aggregateVersions: { min: [2] },
      }),
    ],
    [
      'one aggregate, version 0 included (position order)',
      () => ({ aggregates: [{ name: `${ns}.agg1`, id: aggregateIds()[1] as string }] }),
    ],
    [
      // One aggregate's reads leave its name and id out of the SELECT: the events must still
      // carry exactly what is stored, and a ref whose id belongs to another aggregate name
      // must find nothing.
      'the same aggregate ref twice, sorted by time desc',
      () => ({
        aggregates: [
          { name: `${ns}.agg1`, id: aggregateIds()[1] as string },
          { name: `${ns}.agg1`, id: aggregateIds()[1] as string },
        ],
        sort: [{ by: 'time', dir: 'desc' }],
      }),
    ],
    [
      'one aggregate ref whose id is stored under another aggregate name',
      () => ({ aggregates: [{ name: `${ns}.agg0`, id: aggregateIds()[1] as string }] }),
    ],
    [
      'one aggregate ref and a name filter that excludes part of it',
      () => ({
        names: [`${ns}.a`],
        aggregates: [{ name: `${ns}.agg0`, id: aggregateIds()[0] as string }],
      }),
    ],
    ['aggregate ids without names', () => ({ aggregateIds: aggregateIds().slice(0, 3) })],
    [
      'sort by aggregate id desc then time',
      () => ({
        names: [`${ns}.a`, `${ns}.b`],
        sort: [
          { by: 'aggregateId', dir: 'desc' },
          { by: 'time', dir: 'asc' },
        ],
      }),
    ],
    [
      'sort by version asc (version 0 and no aggregate tie, by position)',
      () => ({ names: [`${ns}.a`, `${ns}.b`], sort: [{ by: 'aggregateVersion', dir: 'asc' }] }),
    ],
    [
      'sort by version desc, name asc',
      () => ({
        names: [`${ns}.a`, `${ns}.b`],
        sort: [
          { by: 'aggregateVersion', dir: 'desc' },
          { by: 'aggregateName', dir: 'asc' },
        ],
      }),
    ],
    [
      'sort by position desc (later keys do not matter)',
      () => ({
        names: [`${ns}.a`],
        sort: [
          { by: 'position', dir: 'desc' },
          { by: 'time', dir: 'asc' },
        ],
      }),
    ],
    [
      'position window',
      () => ({
        names: [`${ns}.a`, `${ns}.b`],
        positions: { min: inserted[3]?.position, max: inserted[20]?.position },
      }),
    ],
    [
      'duplicate list entries',
      () => ({
        names: [`${ns}.a`, `${ns}.a`],
        ids: [inserted[0]?.id as string, inserted[0]?.id as string, inserted[1]?.id as string],
      }),
    ],
  ];

  it.each(cases)(
    '%s: same events and order as matches() and sortEvents()',
    async (_label, make) => {
      const q = make();
      const result = await drain(store.query(q));
      const expected = sortEvents(
        inserted.filter((e) => matches(q, e)),
        q.sort ?? [],
      );
      expectEventsInOrder(result, expected);
    },
  );
});

describe('cursor', () => {
  it('streams results larger than a batch and gives the connection back when done', async () => {
    const name = `${schema}.many`;
    await store.insert(Array.from({ length: 37 }, (_, i) => createEvent(name, { i })));
    const events = await drain(store.query({ names: [name] }));
    expect(events.map((e) => (e.data as { i: number }).i)).toEqual(
      Array.from({ length: 37 }, (_, i) => i),
    );
    await poolSettled();
    expect(pool.idleCount).toBe(pool.totalCount);
  });

  it('gives the connection back on break and on abort, so abandoned queries never exhaust the pool', async () => {
    const name = `${schema}.abandon`;
    await store.insert(Array.from({ length: 20 }, (_, i) => createEvent(name, { i })));
    for (let i = 0; i < 20; i++)
      expect(await take(store.query({ names: [name] }), 5)).toHaveLength(5);
    for (let i = 0; i < 20; i++) {
      const controller = new AbortController();
      const reading = (async () => {
        for await (const event of store.query({ names: [name] }, { signal: controller.signal })) {
          if ((event.data as { i: number }).i === 6) controller.abort(new Error('enough'));
        }
      })();
      await expect(reading).rejects.toThrow('enough');
    }
    await poolSettled();
    expect(pool.totalCount).toBeLessThanOrEqual(6);
    expect(await drain(store.query({ names: [name] }))).toHaveLength(20);
  });

  it('ends open cursors when the store closes, so closing never waits for an abandoned loop', async () => {
    const name = `${schema}.closing`;
    await store.insert(Array.from({ length: 12 }, (_, i) => createEvent(name, { i })));
    const own = createPostgresEventStore({
      connectionString: POSTGRES_URL,
      schema,
      queryBatchSize: 2,
      poolSize: 2,
    });
    const iterator = own.query({ names: [name] })[Symbol.asyncIterator]();
    expect((await iterator.next()).done).toBe(false);
    // The loop is abandoned here without break; close() ends the cursor and the pool.
    await own.close();
    await expect(iterator.next()).resolves.toEqual({ done: true, value: undefined });
  });

  it('does not touch the database for an already aborted signal', async () => {
    const reason = new Error('never started');
    const iterator = store.query({}, { signal: AbortSignal.abort(reason) })[Symbol.asyncIterator]();
    await expect(iterator.next()).rejects.toBe(reason);
  });

  it('reports data the codec cannot decode as the codec error, and the connection is reusable', async () => {
    const name = `${schema}.guarded`;
    const [good] = await store.insert([
      createEvent(name, { amount: 5 }),
      createEvent(name, { amount: -1 }),
    ]);
    const strict = createRegistry().register(name, {
      decode: (text) => {
        const data = JSON.parse(text) as { amount: number };
        if (data.amount < 0) throw new Error('negative amount');
        return data;
      },
    });
    const reader = createPostgresEventStore({ pool, schema, codec: strict });
    const seen: unknown[] = [];
    const error = await (async () => {
      for await (const event of reader.query({ names: [name] })) seen.push(event.data);
    })().catch((e: unknown) => e);
    expect(seen).toEqual([{ amount: 5 }]);
    expect((error as { code?: string }).code).toBe('CODEC_DECODE_FAILED');
    expect(String((error as Error).message)).toContain(name);
    await poolSettled();
    // The pool is healthy: the same store reads the decodable event.
    expect(await drain(reader.query({ ids: [good?.id as string] }))).toHaveLength(1);
    await reader.close();
  });
});
