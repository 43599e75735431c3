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

/** The backends of one shop process. */
export interface Backends extends AsyncDisposable {
  /** What runs, e.g. `store memory, bus nats (nats://127.0.0.1:4222)`. */
  readonly description: string;
  /** The event store (without the bus: `createShop` adds `withBus`). */
  readonly store: EventStore;
  /** The event bus for domain events and the command bus' messages. */
  readonly bus: EventBus;
  /** Where the repositories keep snapshots. */
  readonly snapshots: SnapshotStore;
  /** A read-model repository for the models named `name`. */
  models<M extends { readonly id: string }>(name: string): ModelRepository<M>;
  /** Closes everything the factory opened, buses first. */
  close(): Promise<void>;
}

/**
 * Creates the backends the configuration names. Read models and snapshots stay in memory in
 * every configuration: they are rebuilt from the store when a process starts (the projections'
 * startup jobs; the snapshot store is a cache).
 */
export async function createBackends(config: ShopConfig, codec: Codec): Promise<Backends> {
  const store = createMemoryEventStore({ codec });
  const bus = await createBus(config, codec);
  const snapshots = createMemorySnapshotStore();
  const models: ModelRepository<unknown>[] = [];
  const close = async () => {
    await bus.close();
    for (const repository of models) await repository.close();
    await snapshots.close();
    await store.close();
  };
  return {
    description: `store ${config.store}, bus ${config.bus === 'nats' ? `nats (${config.natsUrl})` : 'memory'}`,
    store,
    bus,
    snapshots,
    models<M extends { readonly id: string }>(_name: string) {
      const repository = createMemoryModelRepository<M>();
      models.push(repository as ModelRepository<unknown>);
      return repository;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

async function createBus(config: ShopConfig, codec: Codec): Promise<EventBus> {
  if (config.bus === 'memory') return createMemoryEventBus({ codec });
  const { createNatsEventBus } = await import('@goes/nats');
  return createNatsEventBus({
    url: config.natsUrl,
    codec,
    subjectPrefix: `${config.namespace}.events`,
  });
}
