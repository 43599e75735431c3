/**
 * Connecting, setting up and closing: lazy connect that retries after a failure (goes bug 7),
 * idempotent indexes, client ownership, options, and cursors closed on the server when a reader
 * stops early.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { createEvent, type Event, isGoesError, query } from '@goes/event';
import { drain } from '@goes/streams';
import { namespace } from '@goes/testing';
import { afterAll, describe, expect, it } from '@jest/globals';
import type { CommandStartedEvent } from 'mongodb';
import { createMongoEventStore, type MongoEventStore } from '../src/index.js';
import { MONGODB_URL, testClient, uniqueDatabase } from './support.js';

const client = testClient();
const database = uniqueDatabase('connection');
let collections = 0;
const closers: (() => Promise<unknown>)[] = [];

afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await client.db(database).dropDatabase();
  await client.close();
});

function open(options: Partial<Parameters<typeof createMongoEventStore>[0]> = {}) {
  const store = createMongoEventStore({
    client,
    database,
    collection: `events${++collections}`,
    ...options,
  } as Parameters<typeof createMongoEventStore>[0]);
  closers.push(() => store.close());
  return store;
}

/** A TCP proxy to the test server, started and stopped by the test. */
function proxy(port: number): Promise<Server> {
  const target = new URL(MONGODB_URL);
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    const upstream = connect({ host: target.hostname, port: Number(target.port || 27017) });
    sockets.add(socket).add(upstream);
    socket.pipe(upstream).pipe(socket);
    const done = () => {
      socket.destroy();
      upstream.destroy();
    };
    socket.on('error', done).on('close', done);
    upstream.on('error', done).on('close', done);
  });
  const close = server.close.bind(server);
  server.close = (callback) => {
    for (const socket of sockets) socket.destroy();
    return close(callback);
  };
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

async function freePort(): Promise<number> {
  const server = await proxy(0);
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('lazy connect', () => {
  it('does not connect before the first operation', async () => {
    const port = await freePort();
    // Nothing listens on the port: creating the store must not fail.
    const store = createMongoEventStore({
      url: `mongodb://127.0.0.1:${port}/?directConnection=true`,
      clientOptions: { serverSelectionTimeoutMS: 200 },
      database,
      connectAttempts: 1,
    });
    closers.push(() => store.close());
    expect(store.names).toEqual({
      database,
      events: 'events',
      meta: 'events_meta',
    });
  });

  it('retries the setup on the next call after a failed first connection (goes bug 7)', async () => {
    const port = await freePort();
    const store = createMongoEventStore({
      url: `mongodb://127.0.0.1:${port}/?directConnection=true`,
      clientOptions: { serverSelectionTimeoutMS: 300, heartbeatFrequencyMS: 500 },
      database,
      collection: `events${++collections}`,
      connectAttempts: 2,
      connectBackoffMs: 10,
    });
    const ns = namespace();
    const first = await store.insert([ns.event('e')]).catch((e: unknown) => e);
    expect(isGoesError(first, 'CONNECTION_FAILED')).toBe(true);
    expect((first as { retryable: boolean }).retryable).toBe(true);

    const server = await proxy(port);
    closers.push(() => new Promise((resolve) => server.close(resolve)));
    closers.push(() => store.close());
    const stored = await store.insert([ns.event('e')]);
    expect(stored).toHaveLength(1);
    // The indexes were created by the retried setup.
    const indexes = await client
      .db(database)
      .collection(store.names.events)
      .listIndexes()
      .toArray();
    expect(indexes.map((index) => index.name)).toEqual(
      expect.arrayContaining(['goes_id', 'goes_aggregate_version']),
    );
  });

  it('creates its indexes idempotently, also from several stores on one collection', async () => {
    const a = open({ collection: 'shared' });
    const b = open({ collection: 'shared' });
    await a.connect();
    await b.connect();
    await a.connect();
    await createMongoEventStore({ client, database, collection: 'shared' }).connect();
    const indexes = await client.db(database).collection('shared').listIndexes().toArray();
    const byName = new Map(indexes.map((index) => [index.name as string, index]));
    expect([...byName.keys()].sort()).toEqual(
      ['_id_', 'goes_aggregate_version', 'goes_id', 'goes_name_position', 'goes_name_time'].sort(),
    );
    expect(indexes).toHaveLength(5);
    expect(byName.get('goes_id')).toMatchObject({ key: { id: 1 }, unique: true });
    expect(byName.get('goes_aggregate_version')).toMatchObject({
      key: { aggregateName: 1, aggregateId: 1, aggregateVersion: 1, slot: 1 },
      unique: true,
    });
  });

  it('fails setup clearly when an index of the same name has other keys, and does not retry it', async () => {
    const name = `events${++collections}`;
    await client.db(database).collection(name).createIndex({ name: 1 }, { name: 'goes_id' });
    const store = open({ collection: name });
    const error = await store.connect().catch((e: unknown) => e);
    expect(isGoesError(error, 'CONNECTION_FAILED')).toBe(true);
    expect((error as { retryable: boolean }).retryable).toBe(false);
    expect(String((error as Error).message)).toContain(`${database}.${name}`);
  });
});

describe('client ownership and closing', () => {
  it('closes the client it made from a URL, and never a client it was given', async () => {
    const own = createMongoEventStore({
      url: MONGODB_URL,
      clientOptions: { serverSelectionTimeoutMS: 5_000 },
      database,
      collection: `events${++collections}`,
    });
    await own.insert([namespace().event('e')]);
    await own.close();
    await expect(own.client.db(database).command({ ping: 1 })).rejects.toBeDefined();

    const given = open();
    await given.insert([namespace().event('e')]);
    await given.close();
    await expect(client.db(database).command({ ping: 1 })).resolves.toMatchObject({ ok: 1 });
  });

  it('answers ClosedError after close, also for queries and finds', async () => {
    const store = open();
    await store.close();
    expect(() => store.query({})).toThrow(expect.objectContaining({ code: 'CLOSED' }));
    expect(
      isGoesError(await store.find(namespace().event('e').id).catch((e: unknown) => e), 'CLOSED'),
    ).toBe(true);
    expect(isGoesError(await store.delete([]).catch((e: unknown) => e), 'CLOSED')).toBe(true);
    await expect(store.close()).resolves.toBeUndefined();
  });

  it('lets writes in flight finish before closing', async () => {
    const store = open();
    const ns = namespace();
    const events = Array.from({ length: 20 }, () => ns.event('e'));
    const writing = Promise.all(events.map((event) => store.insert([event])));
    await store.close();
    await writing;
    const reader = open({ collection: store.names.events });
    expect(await drain(reader.query(query().name(ns.name('e'))))).toHaveLength(20);
  });
});

describe('options', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['neither client nor url', {}, 'exactly one of'],
    ['both client and url', { client, url: MONGODB_URL }, 'exactly one of'],
    ['an unparsable url', { url: 'postgres://nope' }, 'connection string'],
    ['a database name with a dot', { client, database: 'a.b' }, '"a.b"'],
    ['an empty collection name', { client, collection: '' }, 'collection ""'],
    ['a system collection', { client, collection: 'system.users' }, 'system.users'],
    ['a zero batch size', { client, batchSize: 0 }, 'batchSize 0'],
    ['a negative backoff', { client, connectBackoffMs: -1 }, 'connectBackoffMs -1'],
  ];
  it.each(cases)('refuses %s with InvalidArgumentError', (_label, options, mention) => {
    let error: unknown;
    try {
      createMongoEventStore(options as Parameters<typeof createMongoEventStore>[0]);
    } catch (e) {
      error = e;
    }
    expect(isGoesError(error, 'INVALID_ARGUMENT')).toBe(true);
    expect(String((error as Error).message)).toContain(mention);
  });
});

describe('cursors', () => {
  const monitored = testClient({ monitorCommands: true });
  closers.push(() => monitored.close());
  const killed: CommandStartedEvent[] = [];
  monitored.on('commandStarted', (event) => {
    if (event.commandName === 'killCursors') killed.push(event);
  });

  async function fill(store: MongoEventStore, count: number) {
    const ns = namespace();
    const events: Event[] = Array.from({ length: count }, () => ns.event('e'));
    for (let i = 0; i < count; i += 100) await store.insert(events.slice(i, i + 100));
    return ns;
  }

  it('closes the server cursor when the loop breaks', async () => {
    const store = createMongoEventStore({
      client: monitored,
      database,
      collection: `events${++collections}`,
      batchSize: 10,
    });
    closers.push(() => store.close());
    const ns = await fill(store, 50);
    const before = killed.length;
    let read = 0;
    for await (const _ of store.query(query().name(ns.name('e')))) if (++read === 15) break;
    expect(read).toBe(15);
    expect(killed.length).toBe(before + 1);
    expect(killed.at(-1)?.command.killCursors).toBe(store.names.events);
  });

  it('closes the server cursor when the signal aborts, rejecting with its reason', async () => {
    const store = createMongoEventStore({
      client: monitored,
      database,
      collection: `events${++collections}`,
      batchSize: 10,
    });
    closers.push(() => store.close());
    const ns = await fill(store, 50);
    const before = killed.length;
    const controller = new AbortController();
    const reason = new Error('enough');
    let read = 0;
    const reading = (async () => {
      for await (const _ of store.query(query().name(ns.name('e')), {
        signal: controller.signal,
      })) {
        if (++read === 12) controller.abort(reason);
      }
    })();
    await expect(reading).rejects.toBe(reason);
    expect(killed.length).toBe(before + 1);
  });

  it('streams more events than one batch in position order', async () => {
    const store = open({ batchSize: 7 });
    const ns = await fill(store, 120);
    const events = await drain(store.query(query().name(ns.name('e'))));
    expect(events).toHaveLength(120);
    const positions = events.map((e) => e.position as number);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
  });

  it('answers a query no document can match without reading events', async () => {
    const store = createMongoEventStore({
      client: monitored,
      database,
      collection: `events${++collections}`,
    });
    closers.push(() => store.close());
    const finds: string[] = [];
    const listener = (event: CommandStartedEvent) => {
      if (event.commandName === 'find' && event.command.find === store.names.events)
        finds.push(event.commandName);
    };
    monitored.on('commandStarted', listener);
    expect(await drain(store.query({ names: ['lone\uD800'] }))).toEqual([]);
    expect(await drain(store.query({ positions: { max: 0 } }))).toEqual([]);
    monitored.off('commandStarted', listener);
    expect(finds).toEqual([]);
    await store.insert([createEvent('e', {})]);
  });
});
