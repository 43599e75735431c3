/**
 * The backend factory: the only module that knows which adapters exist. Everything else in the
 * shop works with the contracts (`EventStore`, `EventBus`, `SnapshotStore`, `ModelRepository`),
 * so swapping a backend is a change of configuration. Adapters are imported on demand, so the
 * in-memory demo loads no database or NATS client.
 */
import { createMemorySnapshotStore, type SnapshotStore } from '@goes/aggregate';
import type { Codec } from '@goes/codec';
import {
  createMemoryEventBus,
  createMemoryEventStore,
  type EventBus,
  type EventStore,
} from '@goes/event';
import { createMemoryModelRepository, type ModelRepository } from '@goes/projection';
import type { ShopConfig } from './config.js';

/** How a read model's stored data becomes a model (a class instance) again. */
export type Revive<M> = (data: unknown) => M;

/** Where events, snapshots and read models are kept. */
interface Persistence {
  readonly store: EventStore;
  readonly snapshots: SnapshotStore;
  models<M extends { readonly id: string }>(name: string, revive: Revive<M>): ModelRepository<M>;
  close(): Promise<void>;
}

/** The backends of one shop process. */
export interface Backends extends AsyncDisposable {
  /** What runs, e.g. `store postgres, bus nats (nats://127.0.0.1:4222)`. */
  readonly description: string;
  /** The event store (without the bus: `createShop` adds `withBus`). */
  readonly store: EventStore;
  /** The event bus of the domain events (what the store publishes). */
  readonly bus: EventBus;
  /**
   * The event bus the distributed command bus coordinates over. In memory it is `bus` (the seed:
   * the command bus uses the event bus); on NATS a core-NATS bus of its own, on the subject prefix
   * `<namespace>.commands`, so a JetStream stream of the domain events never captures the
   * command protocol.
   */
  readonly commandTransport: EventBus;
  /** Where the repositories keep snapshots. */
  readonly snapshots: SnapshotStore;
  /** A read-model repository for the models named `name` (a table or collection of its own). */
  models<M extends { readonly id: string }>(name: string, revive: Revive<M>): ModelRepository<M>;
  /** Closes everything the factory opened, the bus first. */
  close(): Promise<void>;
}

/** Creates the backends the configuration names. */
export async function createBackends(config: ShopConfig, codec: Codec): Promise<Backends> {
  const persistence = await createPersistence(config, codec);
  let bus: EventBus;
  let commandTransport: EventBus;
  try {
    bus = await createBus(config, codec, 'events');
    commandTransport = config.bus === 'memory' ? bus : await createBus(config, codec, 'commands');
  } catch (error) {
    await persistence.close();
    throw error;
  }
  const close = async () => {
    if (commandTransport !== bus) await commandTransport.close();
    await bus.close();
    await persistence.close();
  };
  const storeName =
    config.store === 'memory'
      ? 'memory'
      : `${config.store} (${config.store === 'postgres' ? config.postgresUrl : config.mongodbUrl})`;
  const busName = config.bus === 'memory' ? 'memory' : `nats (${config.natsUrl})`;
  return {
    description: `store ${storeName}, bus ${busName}`,
    store: persistence.store,
    bus,
    commandTransport,
    snapshots: persistence.snapshots,
    models: (name, revive) => persistence.models(name, revive),
    close,
    [Symbol.asyncDispose]: close,
  };
}

async function createPersistence(config: ShopConfig, codec: Codec): Promise<Persistence> {
  switch (config.store) {
    case 'memory':
      return memoryPersistence(codec);
    case 'postgres':
      return postgresPersistence(config, codec);
    case 'mongodb':
      return mongoPersistence(config, codec);
  }
}

/**
 * A {@link Persistence} over one backend: `open` makes a read-model repository (revived by the
 * backend or not), and `close` closes every repository made, the snapshots, the store, then the
 * backend's own connection (`end`).
 */
function persistence(
  store: EventStore,
  snapshots: SnapshotStore,
  open: <M extends { readonly id: string }>(name: string, revive: Revive<M>) => ModelRepository<M>,
  end: () => Promise<void> = async () => {},
): Persistence {
  const opened: ModelRepository<unknown>[] = [];
  return {
    store,
    snapshots,
    models(name, revive) {
      const repository = open(name, revive);
      opened.push(repository as ModelRepository<unknown>);
      return repository;
    },
    async close() {
      for (const repository of opened) await repository.close();
      await snapshots.close();
      await store.close();
      await end();
    },
  };
}

/** Everything in this process: gone when it exits (read models are rebuilt at start). */
function memoryPersistence(codec: Codec): Persistence {
  // The memory repository keeps class instances itself (structuredClone with the prototype):
  // no revive needed.
  return persistence(createMemoryEventStore({ codec }), createMemorySnapshotStore(), () =>
    createMemoryModelRepository(),
  );
}

/** One pool for the events, snapshots and read models of the namespace's schema. */
async function postgresPersistence(config: ShopConfig, codec: Codec): Promise<Persistence> {
  const [{ default: pg }, postgres] = await Promise.all([import('pg'), import('@goes/postgres')]);
  const pool = new pg.Pool({ connectionString: config.postgresUrl, max: 10 });
  const connection = { pool, schema: config.namespace };
  return persistence(
    postgres.createPostgresEventStore({ ...connection, codec }),
    postgres.createPostgresSnapshotStore(connection),
    (name, revive) =>
      postgres.createPostgresModelRepository({
        ...connection,
        table: name,
        decode: (json) => revive(JSON.parse(json)),
      }),
    () => pool.end(),
  );
}

/** One client for the events, snapshots and read models of the namespace's database. */
async function mongoPersistence(config: ShopConfig, codec: Codec): Promise<Persistence> {
  const [{ MongoClient }, mongo] = await Promise.all([import('mongodb'), import('@goes/mongodb')]);
  const client = new MongoClient(config.mongodbUrl);
  const connection = { client, database: config.namespace };
  return persistence(
    mongo.createMongoEventStore({ ...connection, codec }),
    mongo.createMongoSnapshotStore(connection),
    (name, revive) =>
      mongo.createMongoModelRepository({
        ...connection,
        collection: name,
        decode: (text) => revive(JSON.parse(text)),
      }),
    () => client.close(),
  );
}

async function createBus(
  config: ShopConfig,
  codec: Codec,
  purpose: 'events' | 'commands',
): Promise<EventBus> {
  if (config.bus === 'memory') return createMemoryEventBus({ codec });
  const { createNatsEventBus } = await import('@goes/nats');
  // Core NATS for both: projections catch up from the store, the command protocol has deadlines.
  return createNatsEventBus({
    url: config.natsUrl,
    codec,
    subjectPrefix: `${config.namespace}.${purpose}`,
  });
}
