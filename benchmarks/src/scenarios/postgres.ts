/**
 * PostgreSQL event store scenarios (issue 6). Each framework figure runs beside the raw `pg`
 * twin doing the same work on the same table in the same run: the store's own table (name and
 * time index, unique aggregate index), in a schema made for the scenario and dropped after it.
 * Raw rows get negative positions so they never collide with the store's counter.
 */
import { randomBytes } from 'node:crypto';
import { AggregateRoot, next } from '@goes/aggregate';
import { createEvent, type Event, query, uuidv7 } from '@goes/event';
import { createPostgresEventStore, type PostgresEventStore } from '@goes/postgres';
import { createRepository } from '@goes/repository';
import pg from 'pg';
import Cursor from 'pg-cursor';
import { measure, type Scenario } from '../harness.js';

const url = process.env.GOES_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const COLUMNS = 'position, id, name, time, aggregate_name, aggregate_id, aggregate_version, data';

/** ~200 B of order data, like perf.md's payload. */
function orderData(seq: number) {
  return {
    orderId: uuidv7(),
    customer: { id: uuidv7(), tier: 'gold' },
    items: [
      { sku: 'A-1001', qty: 2, cents: 1299 },
      { sku: 'B-2002', qty: 1, cents: 4999 },
    ],
    currency: 'EUR',
    seq,
  };
}

/** `count` events: aggregates of `perAggregate` events each, versions 1..perAggregate. */
function makeEvents(count: number, perAggregate: number, names: readonly string[]): Event[] {
  const events: Event[] = [];
  let id = uuidv7();
  for (let i = 0; i < count; i++) {
    if (i % perAggregate === 0) id = uuidv7();
    events.push(
      createEvent(names[i % names.length] as string, orderData(i), {
        aggregate: { name: 'order', id, version: (i % perAggregate) + 1 },
      }),
    );
  }
  return events;
}

/** The row values of an event for a raw INSERT, with a raw (negative) position. */
function rowOf(event: Event, position: number): unknown[] {
  const a = event.aggregate;
  return [
    position,
    event.id,
    event.name,
    event.time.toString(),
    a?.name ?? null,
    a?.id ?? null,
    a && a.version > 0 ? a.version : null,
    JSON.stringify(event.data),
  ];
}

/** One benchmark schema: the store on it, a raw client, and a raw position counter. */
class Bench {
  readonly schema = `goes_bench_${randomBytes(4).toString('hex')}`;
  readonly table = `"${this.schema}"."events"`;
  readonly pool: pg.Pool;
  readonly raw = new pg.Client({ connectionString: url });
  /** A pool for raw concurrent writers (same size as the store's). */
  readonly rawPool: pg.Pool;

  constructor(connections = 1) {
    this.pool = new pg.Pool({ connectionString: url, max: connections });
    this.rawPool = new pg.Pool({ connectionString: url, max: connections });
  }
  store!: PostgresEventStore;
  #rawPosition = 0;

  async open(notify = true): Promise<void> {
    this.pool.on('error', () => {});
    this.store = createPostgresEventStore({ pool: this.pool, schema: this.schema, notify });
    await this.store.ready();
    await this.raw.connect();
  }

  nextRawPosition(): number {
    this.#rawPosition -= 1;
    return this.#rawPosition;
  }

  /** Flushes dirty pages before a write repetition, outside the measured part (perf.md §3.1). */
  async checkpoint(): Promise<void> {
    await this.raw.query('CHECKPOINT');
  }

  async close(): Promise<void> {
    await this.store.close();
    await this.pool.end();
    await this.rawPool.end();
    await this.raw.query(`DROP SCHEMA IF EXISTS "${this.schema}" CASCADE`);
    await this.raw.end();
  }
}

const BATCHES = 100;
const BATCH = 100;
/**
 * Single appends are bound by commit latency, which swings a lot on a shared machine: short
 * repetitions and many interleaved pairs keep both sides under the same conditions.
 */
const SINGLES = 250;
const SINGLE_PAIRS = 21;
const WRITERS = 8;
const QUERY_ROWS = 140_000;
const NAMES = [
  'order.placed',
  'order.paid',
  'order.packed',
  'order.shipped',
  'order.delivered',
  'order.invoiced',
  'order.closed',
];

/** Splits events among the writers by aggregate, so each aggregate's events stay in order. */
function byWriter(events: readonly Event[]): Event[][] {
  const lanes: Event[][] = Array.from({ length: WRITERS }, () => []);
  const lane = new Map<string, number>();
  for (const event of events) {
    const id = event.aggregate?.id as string;
    if (!lane.has(id)) lane.set(id, lane.size % WRITERS);
    lanes[lane.get(id) as number]?.push(event);
  }
  return lanes;
}

function valuesList(rows: number, columns: number): string {
  const groups: string[] = [];
  for (let r = 0; r < rows; r++) {
    const params: string[] = [];
    for (let c = 1; c <= columns; c++) params.push(`$${r * columns + c}`);
    groups.push(`(${params.join(', ')})`);
  }
  return groups.join(', ');
}

type OrderEvents = {
  'order.placed': { customerId: string; currency: string };
  'order.item_added': { sku: string; quantity: number; cents: number };
  'order.item_removed': { sku: string };
  'order.paid': { cents: number; method: string };
};

interface OrderState {
  customerId: string;
  items: Record<string, { quantity: number; cents: number }>;
  total: number;
  paid: number;
}

const emptyOrder = (): OrderState => ({ customerId: '', items: {}, total: 0, paid: 0 });

/** The aggregate of the repository scenario: an order with a realistic mix of events. */
class Order extends AggregateRoot<OrderEvents> {
  state = emptyOrder();

  constructor(id: string) {
    super('order', id);
    this.applyWith({
      'order.placed': (event) => {
        this.state.customerId = event.data.customerId;
      },
      'order.item_added': (event) => {
        const { sku, quantity, cents } = event.data;
        this.state.items[sku] = { quantity, cents };
        this.state.total += quantity * cents;
      },
      'order.item_removed': (event) => {
        const item = this.state.items[event.data.sku];
        if (item) this.state.total -= item.quantity * item.cents;
        delete this.state.items[event.data.sku];
      },
      'order.paid': (event) => {
        this.state.paid += event.data.cents;
      },
    });
  }

  work(i: number) {
    const sku = `SKU-${String(i % 50).padStart(5, '0')}`;
    if (i === 0) next(this, 'order.placed', { customerId: uuidv7(), currency: 'EUR' });
    else if (i % 10 === 9) next(this, 'order.paid', { cents: 1_000 + i, method: 'card' });
    else if (i % 7 === 6) next(this, 'order.item_removed', { sku });
    else next(this, 'order.item_added', { sku, quantity: 1 + (i % 3), cents: 250 + (i % 100) });
  }
}

/** The raw twin of Order's appliers: the same state changes in one switch over raw rows. */
function rawApply(rows: readonly { name: string; data: unknown }[]): OrderState {
  const state = emptyOrder();
  for (const { name, data } of rows) {
    switch (name) {
      case 'order.placed':
        state.customerId = (data as OrderEvents['order.placed']).customerId;
        break;
      case 'order.item_added': {
        const { sku, quantity, cents } = data as OrderEvents['order.item_added'];
        state.items[sku] = { quantity, cents };
        state.total += quantity * cents;
        break;
      }
      case 'order.item_removed': {
        const { sku } = data as OrderEvents['order.item_removed'];
        const item = state.items[sku];
        if (item) state.total -= item.quantity * item.cents;
        delete state.items[sku];
        break;
      }
      case 'order.paid':
        state.paid += (data as OrderEvents['order.paid']).cents;
        break;
    }
  }
  return state;
}

/** The raw twin of the repository's consistency check: versions 1, 2, 3… without a gap. */
function checkVersions(rows: readonly { aggregate_version: number }[]): void {
  for (let i = 0; i < rows.length; i++) {
    if (rows[i]?.aggregate_version !== i + 1) throw new Error(`version gap at row ${i}`);
  }
}

const R1_EVENTS = 1_000;
const R1_AGGREGATES = 10;

const batched = new Bench();
const single = new Bench();
const quiet = new Bench();
const naive = new Bench();
const concurrent = new Bench(WRITERS);
const reads = new Bench();
const fetches = new Bench();
const fetchesAll = new Bench();
let r1Ids: string[] = [];
let r1eIds: string[] = [];

export const scenarios: Scenario[] = [
  {
    id: 'PG-A2',
    pairs: 7,
    backend: 'postgres',
    title: `append ${BATCHES} batches of ${BATCH} events (version-checked, one aggregate each) vs raw ${BATCH}-row INSERT`,
    unit: 'events',
    goal: '≥ 0.8',
    requires: ['postgres'],
    setup: () => batched.open(),
    teardown: () => batched.close(),
    async framework() {
      const events = makeEvents(BATCHES * BATCH, BATCH, NAMES);
      await batched.checkpoint();
      return measure(events.length, async () => {
        for (let i = 0; i < events.length; i += BATCH)
          await batched.store.insert(events.slice(i, i + BATCH));
      });
    },
    async raw() {
      const events = makeEvents(BATCHES * BATCH, BATCH, NAMES);
      const text = `INSERT INTO ${batched.table} (${COLUMNS}) VALUES ${valuesList(BATCH, 8)}`;
      await batched.checkpoint();
      return measure(events.length, async () => {
        for (let i = 0; i < events.length; i += BATCH) {
          const values = events
            .slice(i, i + BATCH)
            .flatMap((event) => rowOf(event, batched.nextRawPosition()));
          await batched.raw.query({ name: 'raw_batch', text, values });
        }
      });
    },
  },
  {
    id: 'PG-A1',
    pairs: SINGLE_PAIRS,
    backend: 'postgres',
    title: `${SINGLES} single-event appends (version-checked) vs raw single-row autocommit INSERT`,
    unit: 'events',
    goal: '≥ 0.9',
    requires: ['postgres'],
    setup: () => single.open(),
    teardown: () => single.close(),
    async framework() {
      const events = makeEvents(SINGLES, 10, NAMES);
      await single.checkpoint();
      return measure(events.length, async () => {
        for (const event of events) await single.store.insert([event]);
      });
    },
    async raw() {
      const events = makeEvents(SINGLES, 10, NAMES);
      const text = `INSERT INTO ${single.table} (${COLUMNS}) VALUES ${valuesList(1, 8)}`;
      await single.checkpoint();
      return measure(events.length, async () => {
        for (const event of events)
          await single.raw.query({
            name: 'raw_single',
            text,
            values: rowOf(event, single.nextRawPosition()),
          });
      });
    },
  },
  {
    id: 'PG-A1q',
    pairs: SINGLE_PAIRS,
    backend: 'postgres',
    title: `${SINGLES} single-event appends (version-checked, notify: false) vs raw single-row autocommit INSERT`,
    unit: 'events',
    requires: ['postgres'],
    setup: () => quiet.open(false),
    teardown: () => quiet.close(),
    async framework() {
      const events = makeEvents(SINGLES, 10, NAMES);
      await quiet.checkpoint();
      return measure(events.length, async () => {
        for (const event of events) await quiet.store.insert([event]);
      });
    },
    async raw() {
      const events = makeEvents(SINGLES, 10, NAMES);
      const text = `INSERT INTO ${quiet.table} (${COLUMNS}) VALUES ${valuesList(1, 8)}`;
      await quiet.checkpoint();
      return measure(events.length, async () => {
        for (const event of events)
          await quiet.raw.query({
            name: 'raw_single',
            text,
            values: rowOf(event, quiet.nextRawPosition()),
          });
      });
    },
  },
  {
    id: 'PG-A1n',
    pairs: SINGLE_PAIRS,
    backend: 'postgres',
    title: `${SINGLES} single-event appends (version-checked) vs raw BEGIN; SELECT max(version); INSERT; COMMIT`,
    unit: 'events',
    requires: ['postgres'],
    setup: () => naive.open(),
    teardown: () => naive.close(),
    async framework() {
      const events = makeEvents(SINGLES, 10, NAMES);
      await naive.checkpoint();
      return measure(events.length, async () => {
        for (const event of events) await naive.store.insert([event]);
      });
    },
    async raw() {
      const events = makeEvents(SINGLES, 10, NAMES);
      const insert = `INSERT INTO ${naive.table} (${COLUMNS}) VALUES ${valuesList(1, 8)}`;
      const current = `SELECT coalesce(max(aggregate_version), 0) AS v FROM ${naive.table} WHERE aggregate_id = $1 AND aggregate_name = $2`;
      await naive.checkpoint();
      return measure(events.length, async () => {
        for (const event of events) {
          const a = event.aggregate as NonNullable<Event['aggregate']>;
          await naive.raw.query('BEGIN');
          const { rows } = await naive.raw.query({
            name: 'raw_current',
            text: current,
            values: [a.id, a.name],
          });
          if (Number(rows[0].v) !== a.version - 1) throw new Error('unexpected version');
          await naive.raw.query({
            name: 'raw_single',
            text: insert,
            values: rowOf(event, naive.nextRawPosition()),
          });
          await naive.raw.query('COMMIT');
        }
      });
    },
  },
  {
    id: 'PG-A3',
    backend: 'postgres',
    title: `${WRITERS} concurrent writers, ${SINGLES} single-event appends in all (version-checked, commit-ordered positions) vs raw single-row INSERTs on ${WRITERS} connections`,
    unit: 'events',
    requires: ['postgres'],
    pairs: 7,
    setup: () => concurrent.open(),
    teardown: () => concurrent.close(),
    async framework() {
      const events = makeEvents(SINGLES, 10, NAMES);
      await concurrent.checkpoint();
      const lanes = byWriter(events);
      return measure(events.length, async () => {
        await Promise.all(
          lanes.map(async (lane) => {
            for (const event of lane) await concurrent.store.insert([event]);
          }),
        );
      });
    },
    async raw() {
      const events = makeEvents(SINGLES, 10, NAMES);
      const text = `INSERT INTO ${concurrent.table} (${COLUMNS}) VALUES ${valuesList(1, 8)}`;
      await concurrent.checkpoint();
      const lanes = byWriter(events);
      return measure(events.length, async () => {
        await Promise.all(
          lanes.map(async (lane) => {
            for (const event of lane)
              await concurrent.rawPool.query({
                name: 'raw_single',
                text,
                values: rowOf(event, concurrent.nextRawPosition()),
              });
          }),
        );
      });
    },
  },
  {
    id: 'PG-Q2',
    pairs: 7,
    backend: 'postgres',
    title: `query by name sorted by time (${QUERY_ROWS / NAMES.length} of ${QUERY_ROWS} events) vs raw pg-cursor`,
    unit: 'events',
    goal: '≥ 0.8',
    requires: ['postgres'],
    async setup() {
      await reads.open();
      const events = makeEvents(QUERY_ROWS, 100, NAMES);
      for (let i = 0; i < events.length; i += 1_000)
        await reads.store.insert(events.slice(i, i + 1_000));
      await reads.raw.query(`VACUUM ANALYZE ${reads.table}`);
    },
    teardown: () => reads.close(),
    async framework() {
      let n = 0;
      const m = await measure(QUERY_ROWS / NAMES.length, async () => {
        for await (const event of reads.store.query(query().name('order.paid').sortByTime())) {
          if (event.position !== undefined) n++;
        }
      });
      if (n !== QUERY_ROWS / NAMES.length)
        throw new Error(`expected ${QUERY_ROWS / NAMES.length}, got ${n}`);
      return m;
    },
    async raw() {
      let n = 0;
      const m = await measure(QUERY_ROWS / NAMES.length, async () => {
        const cursor = reads.raw.query(
          new Cursor(
            `SELECT ${COLUMNS} FROM ${reads.table} WHERE name = $1 ORDER BY time, position`,
            ['order.paid'],
          ),
        );
        for (;;) {
          const rows = await cursor.read(1_000);
          for (const row of rows) if (row.position !== undefined) n++;
          if (rows.length < 1_000) break;
        }
        await cursor.close();
      });
      if (n !== QUERY_ROWS / NAMES.length)
        throw new Error(`expected ${QUERY_ROWS / NAMES.length}, got ${n}`);
      return m;
    },
  },
  {
    id: 'PG-R1',
    backend: 'postgres',
    title: `repository fetch of a ${R1_EVENTS}-event aggregate (${R1_AGGREGATES} per repetition) vs raw SELECT + apply loop`,
    unit: 'events',
    goal: '≥ 0.8',
    requires: ['postgres'],
    pairs: 7,
    async setup() {
      await fetches.open();
      const repository = createRepository({ store: fetches.store });
      r1Ids = Array.from({ length: R1_AGGREGATES }, () => uuidv7());
      for (const id of r1Ids) {
        const order = new Order(id);
        for (let i = 0; i < R1_EVENTS; i++) order.work(i);
        await repository.save(order);
      }
      await fetches.raw.query(`VACUUM ANALYZE ${fetches.table}`);
      const fetched = await repository.fetch(new Order(r1Ids[0] as string));
      const rows = await fetches.raw.query(
        `SELECT name, data FROM ${fetches.table} WHERE aggregate_id = $1 AND aggregate_name = 'order' ORDER BY aggregate_version`,
        [r1Ids[0]],
      );
      if (JSON.stringify(rawApply(rows.rows)) !== JSON.stringify(fetched.state))
        throw new Error('raw and framework states differ');
    },
    teardown: () => fetches.close(),
    async framework() {
      const repository = createRepository({ store: fetches.store });
      return measure(R1_EVENTS * R1_AGGREGATES, async () => {
        for (const id of r1Ids) {
          const order = await repository.fetch(new Order(id));
          if (order.version !== R1_EVENTS) throw new Error(`fetched version ${order.version}`);
        }
      });
    },
    async raw() {
      // The version is read and checked like the repository does: without it, a history with a
      // gap or a repeat would be applied silently, which is not the same work.
      const text = `SELECT name, data, aggregate_version FROM ${fetches.table} WHERE aggregate_id = $1 AND aggregate_name = $2 ORDER BY aggregate_version`;
      return measure(R1_EVENTS * R1_AGGREGATES, async () => {
        for (const id of r1Ids) {
          const { rows } = await fetches.raw.query({
            name: 'raw_fetch',
            text,
            values: [id, 'order'],
          });
          checkVersions(rows);
          if (rows.length !== R1_EVENTS || rawApply(rows).customerId === '')
            throw new Error('not applied');
        }
      });
    },
  },
  {
    id: 'PG-R1e',
    backend: 'postgres',
    title: `repository fetch of a ${R1_EVENTS}-event aggregate vs raw SELECT of the event columns (what an Event holds) + apply loop`,
    unit: 'events',
    requires: ['postgres'],
    pairs: 7,
    async setup() {
      await fetchesAll.open();
      const repository = createRepository({ store: fetchesAll.store });
      r1eIds = Array.from({ length: R1_AGGREGATES }, () => uuidv7());
      for (const id of r1eIds) {
        const order = new Order(id);
        for (let i = 0; i < R1_EVENTS; i++) order.work(i);
        await repository.save(order);
      }
      await fetchesAll.raw.query(`VACUUM ANALYZE ${fetchesAll.table}`);
    },
    teardown: () => fetchesAll.close(),
    async framework() {
      const repository = createRepository({ store: fetchesAll.store });
      return measure(R1_EVENTS * R1_AGGREGATES, async () => {
        for (const id of r1eIds) {
          const order = await repository.fetch(new Order(id));
          if (order.version !== R1_EVENTS) throw new Error(`fetched version ${order.version}`);
        }
      });
    },
    async raw() {
      const text = `SELECT ${COLUMNS} FROM ${fetchesAll.table} WHERE aggregate_id = $1 AND aggregate_name = $2 ORDER BY aggregate_version`;
      return measure(R1_EVENTS * R1_AGGREGATES, async () => {
        for (const id of r1eIds) {
          const { rows } = await fetchesAll.raw.query({
            name: 'raw_fetch_all',
            text,
            values: [id, 'order'],
          });
          checkVersions(rows);
          if (rows.length !== R1_EVENTS || rawApply(rows).customerId === '')
            throw new Error('not applied');
        }
      });
    },
  },
];
