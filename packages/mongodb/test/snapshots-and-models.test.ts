/**
 * Adapter tests of the snapshot store and the model repository beyond their conformance suites:
 * goes' bug 6 (methods that skipped the lazy connect, version filters on lists), storage layout,
 * hostile ids, and optimistic concurrency across clients.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { AggregateRoot, createSnapshot, type Snapshot } from '@goes/aggregate';
import { InvalidArgumentError, isGoesError, nowNanos, uuidv7 } from '@goes/event';
import { isModelConflictError } from '@goes/projection';
import { drain } from '@goes/streams';
import { afterAll, describe, expect, it } from '@jest/globals';
import type { Document } from 'mongodb';
import { createMongoModelRepository, createMongoSnapshotStore } from '../src/index.js';
import { MONGODB_URL, testClient, uniqueDatabase } from './support.js';

const client = testClient();
const database = uniqueDatabase('snapmodel');
let collections = 0;
const closers: (() => Promise<unknown>)[] = [];

afterAll(async () => {
  for (const close of closers) await close();
  await client.db(database).dropDatabase();
  await client.close();
});

class Counter extends AggregateRoot<{ 'counter.set': { n: number } }> {
  n = 0;
  constructor(id: string, version: number) {
    super('counter', id);
    this.setVersion(version);
    this.n = version;
  }
  snapshotState() {
    return { n: this.n };
  }
  restoreSnapshot(state: { n: number }) {
    this.n = state.n;
  }
}

/** A TCP proxy to the server under test whose close() also cuts every open connection. */
function proxy(): Promise<Server> {
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
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const snapshotOf = (id: string, version: number, name = 'counter'): Snapshot => ({
  ...createSnapshot(new Counter(id, version)),
  aggregateName: name,
});

describe('snapshot store', () => {
  const open = () => {
    const store = createMongoSnapshotStore({ client, database, collection: `s${++collections}` });
    closers.push(() => store.close());
    return store;
  };

  it('connects lazily in every method, limit, query and delete included (goes bug 6)', async () => {
    const id = uuidv7();
    const seed = open();
    await seed.save(snapshotOf(id, 3));
    const collection = seed.names.snapshots;
    const fresh = () => {
      const store = createMongoSnapshotStore({ client, database, collection });
      closers.push(() => store.close());
      return store;
    };
    expect((await fresh().limit('counter', id, 5)).version).toBe(3);
    expect(await drain(fresh().query({ ids: [id] }))).toHaveLength(1);
    await fresh().delete([{ aggregateName: 'counter', aggregateId: id, version: 3 }]);
    expect(await drain(fresh().query({ ids: [id] }))).toEqual([]);
  });

  it('applies version min/max lists as "at least one of them" (goes compared with the list)', async () => {
    const store = open();
    const id = uuidv7();
    for (const v of [1, 4, 7, 10]) await store.save(snapshotOf(id, v));
    const versions = async (q: Parameters<typeof store.query>[0]) =>
      (await drain(store.query(q))).map((s) => s.version);
    expect(await versions({ ids: [id], versions: { min: [5, 8] } })).toEqual([7, 10]);
    expect(await versions({ ids: [id], versions: { max: [2, 5] } })).toEqual([1, 4]);
    expect(await versions({ ids: [id], versions: { min: [3], max: [8, 2] } })).toEqual([4, 7]);
  });

  it('stores $-prefixed and dotted aggregate names as values', async () => {
    const store = open();
    const id = uuidv7();
    const names = ['$gt', 'a.b', '$where'];
    for (const name of names) await store.save(snapshotOf(id, 1, name));
    for (const name of names) expect((await store.latest(name, id)).aggregateName).toBe(name);
    expect(await drain(store.query({ names: ['$gt'] }))).toHaveLength(1);
  });

  it('refuses times beyond 64 bits and names MongoDB cannot store', async () => {
    const store = open();
    const id = uuidv7();
    const late = { ...snapshotOf(id, 1), time: 2n ** 63n };
    const lone = snapshotOf(id, 1, 'x\uD800');
    for (const [bad, mention] of [
      [late, '64-bit'],
      [lone, 'surrogate'],
    ] as const) {
      const error = await store.save(bad).catch((e: unknown) => e);
      expect(isGoesError(error, 'INVALID_ARGUMENT')).toBe(true);
      expect(String((error as Error).message)).toContain(mention);
    }
    const extreme = { ...snapshotOf(id, 2), time: 2n ** 63n - 1n };
    await store.save(extreme);
    expect((await store.latest('counter', id)).time).toBe(extreme.time);
    expect(await drain(store.query({ ids: [id], times: { min: 2n ** 70n } }))).toEqual([]);
    expect(await drain(store.query({ ids: [id], times: { max: nowNanos() } }))).toHaveLength(0);
  });

  it('finds no snapshot for a name with a lone surrogate, not the one BSON turns it into', async () => {
    const store = open();
    const id = uuidv7();
    // The driver writes a lone surrogate as U+FFFD, so 'x\uD800' would look up 'x\uFFFD'.
    await store.save(snapshotOf(id, 4, 'x\uFFFD'));
    for (const read of [store.latest('x\uD800', id), store.limit('x\uD800', id, 10)]) {
      expect(await read.catch((e: unknown) => e)).toMatchObject({ code: 'SNAPSHOT_NOT_FOUND' });
    }
    expect(await drain(store.query({ names: ['x\uD800'] }))).toEqual([]);
  });
});

describe('model repository', () => {
  interface Account {
    id: string;
    balance: number;
    owners: string[];
  }
  const open = (collection = `m${++collections}`, c = client) => {
    const repository = createMongoModelRepository<Account>({ client: c, database, collection });
    closers.push(() => repository.close());
    return repository;
  };
  const raw = (collection: string) => client.db(database).collection<Document>(collection);

  it('loses no update under concurrent use from several clients', async () => {
    const clients = [testClient(), testClient(), testClient()];
    closers.push(...clients.map((c) => () => c.close()));
    const collection = `m${++collections}`;
    const repositories = clients.map((c) => open(collection, c));
    const id = uuidv7();
    await Promise.all(
      repositories.flatMap((repository, r) =>
        Array.from({ length: 4 }, (_, i) =>
          repository.use(
            id,
            (account) => {
              account.balance += 1;
              account.owners.push(`${r}-${i}`);
            },
            { create: (newId) => ({ id: newId, balance: 0, owners: [] }), retries: 50 },
          ),
        ),
      ),
    );
    const { model, version } = await repositories[0]!.fetchVersioned(id);
    expect(model.balance).toBe(12);
    expect(model.owners).toHaveLength(12);
    expect(version).toBe(12);
  });

  it('keeps one document with data per model; replaced versions keep only their key', async () => {
    const repository = open();
    const id = uuidv7();
    for (let i = 0; i < 5; i++) await repository.save({ id, balance: i, owners: [] });
    const docs = await raw(repository.names.models).find({}).sort({ _id: 1 }).toArray();
    expect(docs.map((doc) => doc.version)).toEqual([1, 2, 3, 4, 5]);
    expect(docs.filter((doc) => doc.model !== undefined)).toHaveLength(1);
    expect(docs.slice(0, 4).every((doc) => doc.superseded === true)).toBe(true);
    // A writer that read version 1 long ago cannot save after it.
    const error = await repository
      .save({ id, balance: -1, owners: [] }, { expectedVersion: 1 })
      .catch((e: unknown) => e);
    expect(isModelConflictError(error)).toBe(true);
    expect(error).toMatchObject({ expected: 1, actual: 5 });
  });

  it('starts a deleted model again at version 1 in a new generation; old writers stay refused', async () => {
    const repository = open();
    const id = uuidv7();
    await repository.save({ id, balance: 1, owners: [] });
    await repository.save({ id, balance: 2, owners: [] });
    expect(await repository.delete(id)).toBe(true);
    expect(await repository.save({ id, balance: 3, owners: [] }, { expectedVersion: 0 })).toBe(1);
    const stale = await repository
      .save({ id, balance: 99, owners: [] }, { expectedVersion: 2 })
      .catch((e: unknown) => e);
    expect(stale).toMatchObject({ code: 'MODEL_CONFLICT', expected: 2, actual: 1 });
    expect(await repository.fetchVersioned(id)).toEqual({
      model: { id, balance: 3, owners: [] },
      version: 1,
    });
  });

  it('keeps ids apart that are prefixes of each other or contain JSON syntax', async () => {
    const repository = open();
    const base = uuidv7();
    const ids = [base, `${base}"`, `${base}",`, `${base}","0000000000000000`, `${base}x`];
    for (const [i, id] of ids.entries()) await repository.save({ id, balance: i, owners: [] });
    for (const [i, id] of ids.entries()) {
      expect(await repository.fetchVersioned(id)).toEqual({
        model: { id, balance: i, owners: [] },
        version: 1,
      });
    }
  });

  it('uses the given id, encoder and decoder', async () => {
    class Wallet {
      constructor(
        readonly owner: string,
        public cents: number,
      ) {}
      get euros() {
        return this.cents / 100;
      }
    }
    const repository = createMongoModelRepository<Wallet>({
      client,
      database,
      collection: `m${++collections}`,
      modelId: (wallet) => wallet.owner,
      encode: (wallet) => JSON.stringify({ owner: wallet.owner, cents: wallet.cents }),
      decode: (text) => {
        const { owner, cents } = JSON.parse(text) as { owner: string; cents: number };
        return new Wallet(owner, cents);
      },
    });
    closers.push(() => repository.close());
    await repository.save(new Wallet('ada', 250));
    const wallet = await repository.use('ada', (w) => {
      w.cents += 50;
    });
    expect(wallet.euros).toBe(3);
    expect((await repository.fetch('ada')).euros).toBe(3);
  });

  it('refuses a create that makes a model of another id, storing nothing (as PostgreSQL and memory do)', async () => {
    const repository = open();
    const id = uuidv7();
    const other = uuidv7();
    const error = await repository
      .use(id, () => {}, { create: () => ({ id: other, balance: 0, owners: [] }) })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    await expect(repository.fetch(other)).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
    await expect(repository.fetch(id)).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
  });

  it('reports a save as done once its version is stored, even if the connection breaks right after', async () => {
    const server = await proxy();
    const { port } = server.address() as { port: number };
    const collection = `m${++collections}`;
    const id = uuidv7();
    await open(collection).save({ id, balance: 1, owners: [] });
    // Another process, whose connection to the server is cut the moment its insert succeeded.
    const proxied = createMongoModelRepository<Account>({
      url: `mongodb://127.0.0.1:${port}/?serverSelectionTimeoutMS=500&directConnection=true&monitorCommands=true`,
      database,
      collection,
    });
    closers.push(() => proxied.close());
    proxied.client.on('commandSucceeded', (event) => {
      if (event.commandName === 'insert') server.close();
    });
    const outcome = await proxied
      .use(id, (account) => {
        account.balance += 1;
      })
      .then(
        (model) => ({ saved: model.balance }),
        (error: unknown) => ({ error }),
      );
    const stored = await open(collection).fetchVersioned(id);
    // The second version is stored, so the call must say so: a caller told "failed" (a retryable
    // ConnectionError) would apply the change again.
    expect(stored).toEqual({ model: { id, balance: 2, owners: [] }, version: 2 });
    expect(outcome).toEqual({ saved: 2 });
  });
});
