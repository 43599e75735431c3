import { createEvent, type Event, type EventQuery, matches, sortEvents, uuidv7 } from '@goes/event';
import { drain } from '@goes/streams';
import { expectEventsInOrder } from '@goes/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createPostgresEventStore, type PostgresEventStore } from '../src/index.js';
import { createPool, dropSchemas, uniqueSchema } from './support.js';

const schema = uniqueSchema('limits');
const pool = createPool(4);
let store: PostgresEventStore;

const MIN = -(2n ** 63n);
const MAX = 2n ** 63n - 1n;
const TOP_VERSION = 2 ** 31 - 1;
const ns = `${schema}.lim`;
const names = [`${ns}.a`, `${ns}.b`];
let stored: Event[] = [];

beforeAll(async () => {
  store = createPostgresEventStore({ pool, schema, queryBatchSize: 3 });
  const id = uuidv7();
  await store.insert([
    createEvent(names[0] as string, { at: 'min' }, { time: MIN }),
    createEvent(names[1] as string, { at: 'max' }, { time: MAX }),
    createEvent(
      names[0] as string,
      { at: 'zero' },
      { time: 0n, aggregate: { name: `${ns}.agg`, id, version: 1 } },
    ),
    createEvent(
      names[1] as string,
      { at: 'max' },
      { time: MAX, aggregate: { name: `${ns}.agg`, id, version: 0 } },
    ),
    createEvent(
      names[0] as string,
      { at: 'min' },
      { time: MIN, aggregate: { name: `${ns}.agg`, id, version: 2 } },
    ),
  ]);
  // The highest version the table can hold: reaching it through appends takes 2^31 events, so
  // this row is written directly, following the store's protocol (position from the counter).
  await pool.query(
    `WITH c AS (UPDATE "${schema}"."events_position" SET last = last + 1 RETURNING last)
     INSERT INTO "${schema}"."events" (position, id, name, time, aggregate_name, aggregate_id, aggregate_version, data)
     SELECT c.last, $1::uuid, $2, 5, $3, $4::uuid, $5, '{}'::jsonb FROM c`,
    [uuidv7(), names[1], `${ns}.top`, uuidv7(), TOP_VERSION],
  );
  stored = await drain(store.query({ names }));
});

afterAll(async () => {
  await store.close();
  await pool.end();
  await dropSchemas(schema);
});

const cases: [string, EventQuery][] = [
  ['time min at the lowest bigint', { names, times: { min: MIN } }],
  ['time min at the highest bigint', { names, times: { min: MAX } }],
  ['time max at the lowest bigint', { names, times: { max: MIN } }],
  ['time max just below the highest bigint', { names, times: { max: MAX - 1n } }],
  ['time exact at both limits', { names, times: { exact: [MIN, MAX] } }],
  ['time range of one value at the top', { names, times: { ranges: [[MAX, MAX]] } }],
  ['time range from the top to beyond', { names, times: { ranges: [[MAX, 2n ** 64n]] } }],
  ['time range from below to the bottom', { names, times: { ranges: [[-(2n ** 64n), MIN]] } }],
  ['version exact at the integer limit', { names, aggregateVersions: { exact: [TOP_VERSION] } }],
  ['version min at the integer limit', { names, aggregateVersions: { min: [TOP_VERSION] } }],
  ['version max just below the limit', { names, aggregateVersions: { max: [TOP_VERSION - 1] } }],
  [
    'version range from the limit to the largest safe integer',
    { names, aggregateVersions: { ranges: [[TOP_VERSION, Number.MAX_SAFE_INTEGER]] } },
  ],
  ['version exact 0 only', { names, aggregateVersions: { exact: [0] } }],
  ['version max 0 only', { names, aggregateVersions: { max: [0] } }],
  [
    'empty lists in every category (they do not filter)',
    {
      names,
      ids: [],
      aggregateNames: [],
      aggregateIds: [],
      aggregates: [],
      times: { exact: [], ranges: [] },
      aggregateVersions: { exact: [], ranges: [], min: [], max: [] },
    },
  ],
  [
    'sort by time desc, version asc (NULL versions and no aggregate)',
    {
      names,
      sort: [
        { by: 'time', dir: 'desc' },
        { by: 'aggregateVersion', dir: 'asc' },
      ],
    },
  ],
  [
    'sort by aggregate name desc, id asc, time asc',
    {
      names,
      sort: [
        { by: 'aggregateName', dir: 'desc' },
        { by: 'aggregateId', dir: 'asc' },
        { by: 'time', dir: 'asc' },
      ],
    },
  ],
  [
    'sort by version desc then aggregate id desc',
    {
      names,
      sort: [
        { by: 'aggregateVersion', dir: 'desc' },
        { by: 'aggregateId', dir: 'desc' },
      ],
    },
  ],
];

describe('query translation at the limits of the column types', () => {
  it('reads the values at the limits back exactly (so the cases below compare real rows)', () => {
    expect(stored.map((e) => e.time)).toEqual([MIN, MAX, 0n, MAX, MIN, 5n]);
    expect(stored.map((e) => e.aggregate?.version)).toEqual([
      undefined,
      undefined,
      1,
      0,
      2,
      TOP_VERSION,
    ]);
  });

  it.each(cases)('%s: same events and order as matches() and sortEvents()', async (_label, q) => {
    const result = await drain(store.query(q));
    const expected = sortEvents(
      stored.filter((event) => matches(q, event)),
      q.sort ?? [],
    );
    expectEventsInOrder(result, expected);
  });
});
