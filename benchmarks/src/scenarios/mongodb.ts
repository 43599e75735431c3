/**
 * MongoDB event store scenarios (issue 8). Raw twins use the bare driver on the same server in
 * the same run: `insertMany` of the very documents the store writes (read back from a store
 * collection) into a collection with the same indexes, and a `find().sort()` cursor with the
 * filter a hand-written reader would use. Each repetition writes into a fresh collection.
 * The server is GOES_MONGODB_URL (default: the local FerretDB that `pnpm test` starts); the
 * titles say which server answered.
 */
import { createEvent, type Event, query, uuidv7 } from '@goes/event';
import { createMongoEventStore } from '@goes/mongodb';
import { type Document, MongoClient } from 'mongodb';
import { measure, type Scenario } from '../harness.js';

const url = process.env.GOES_MONGODB_URL ?? 'mongodb://127.0.0.1:27017/';
const database = `goes_bench_${Date.now().toString(36)}`;

/** Names the server in the titles: "FerretDB 1.24.2" or "MongoDB 7.0.14". */
async function serverName(): Promise<string> {
  const probe = new MongoClient(url, { serverSelectionTimeoutMS: 1_000 });
  try {
    const info = await probe.db('admin').command({ buildInfo: 1 });
    return typeof info.ferretdbVersion === 'string'
      ? `FerretDB ${info.ferretdbVersion === 'unknown' ? '(embedded runner, tools/ferretdb-runner)' : info.ferretdbVersion}`
      : `MongoDB ${info.version}`;
  } catch {
    return 'unreachable server';
  } finally {
    await probe.close();
  }
}
const server = await serverName();

let client: MongoClient | undefined;
const connect = () => {
  client ??= new MongoClient(url, { serverSelectionTimeoutMS: 5_000 });
  return client;
};
async function dropDatabase(): Promise<void> {
  await connect().db(database).dropDatabase();
  await client?.close();
  client = undefined;
}
let collections = 0;
const fresh = (side: string) => `${side}${++collections}`;

const names = ['order.placed', 'order.paid', 'order.shipped', 'order.cancelled'];

/**
 * Batches of `size` events, each batch appending to one of 10 aggregates in turn, so most
 * batches continue a stream (the version check finds the previous batch).
 */
function makeBatches(batches: number, size: number): Event[][] {
  const ids = Array.from({ length: 10 }, () => uuidv7());
  const versions = ids.map(() => 0);
  return Array.from({ length: batches }, (_, b) => {
    const a = b % ids.length;
    return Array.from({ length: size }, (_, i) => {
      const version = ++(versions[a] as number);
      return createEvent(
        names[(b + i) % names.length] as string,
        { orderId: ids[a], amount: version * 100, currency: 'EUR', note: 'x'.repeat(80) },
        { aggregate: { name: 'order', id: ids[a] as string, version } },
      );
    });
  });
}

/** Appends with the store into a fresh collection; returns that collection's name. */
async function appendWithStore(batches: Event[][], collection: string): Promise<number> {
  const store = createMongoEventStore({ client: connect(), database, collection });
  await store.connect(); // indexes are created outside the measured part
  const count = batches.reduce((n, b) => n + b.length, 0);
  const m = await measure(count, async () => {
    for (const batch of batches) await store.insert(batch);
  });
  await store.close();
  return m.seconds;
}

/**
 * The raw twin's input: the event documents the store writes for `batches` (read back from a
 * scratch collection, in the same batches), and the index specs of that collection.
 */
async function rawInput(batches: Event[][]) {
  const scratch = fresh('scratch');
  await appendWithStore(batches, scratch);
  const collection = connect().db(database).collection<Document>(scratch);
  const docs = await collection.find({}).sort({ _id: 1 }).toArray();
  const indexes = (await collection.listIndexes().toArray()).filter((i) => i.name !== '_id_');
  const chunks: Document[][] = [];
  let offset = 0;
  for (const batch of batches) {
    chunks.push(docs.slice(offset, offset + batch.length));
    offset += batch.length;
  }
  return {
    chunks,
    indexes: indexes.map(({ key, name, unique }) => ({ key, name, ...(unique ? { unique } : {}) })),
  };
}

function appendScenario(id: string, batchCount: number, size: number): Scenario {
  const batches = makeBatches(batchCount, size);
  const count = batchCount * size;
  let input: Awaited<ReturnType<typeof rawInput>>;
  return {
    id,
    backend: 'mongodb',
    title: `append ${batchCount} batches of ${size} events (version-checked, positions) vs raw insertMany of the same documents (${server})`,
    unit: 'events',
    requires: ['mongodb'],
    goal: '≥ 0.8× raw',
    async setup() {
      input = await rawInput(batches);
    },
    async framework() {
      const seconds = await appendWithStore(batches, fresh('fw'));
      return { count, seconds };
    },
    async raw() {
      const collection = connect().db(database).collection<Document>(fresh('raw'));
      for (const index of input.indexes) await collection.createIndexes([index]);
      return measure(count, async () => {
        for (const chunk of input.chunks) await collection.insertMany(chunk, { ordered: true });
      });
    },
    teardown: dropDatabase,
  };
}

function queryScenario(): Scenario {
  const batches = makeBatches(200, 100);
  const wanted = ['order.paid', 'order.shipped'];
  const expected = batches.flat().filter((e) => wanted.includes(e.name)).length;
  const collection = fresh('query');
  // One store for all repetitions, as an application keeps one per process.
  let store: ReturnType<typeof createMongoEventStore>;
  return {
    id: 'MQ1',
    backend: 'mongodb',
    title: `query ${expected.toLocaleString('en-US')} of 20,000 events by name in position order (stream) vs raw find().sort() cursor (${server})`,
    unit: 'events',
    requires: ['mongodb'],
    goal: '≥ 0.8× raw',
    async setup() {
      await appendWithStore(batches, collection);
      store = createMongoEventStore({ client: connect(), database, collection });
    },
    async framework() {
      let n = 0;
      const m = await measure(expected, async () => {
        for await (const _ of store.query(query().name(...wanted))) n++;
      });
      if (n !== expected) throw new Error(`expected ${expected} events, got ${n}`);
      return m;
    },
    async raw() {
      const events = connect().db(database).collection<Document>(collection);
      let n = 0;
      const m = await measure(expected, async () => {
        const cursor = events.find({ name: { $in: wanted } }).sort({ _id: 1 });
        for await (const _ of cursor) n++;
      });
      if (n !== expected) throw new Error(`expected ${expected} events, got ${n}`);
      return m;
    },
    async teardown() {
      await store.close();
      await dropDatabase();
    },
  };
}

export const scenarios: Scenario[] = [
  appendScenario('MA1', 50, 100),
  appendScenario('MA2', 100, 10),
  queryScenario(),
];
