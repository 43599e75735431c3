import { createMemorySnapshotStore, type SnapshotStore, snapshotEvery } from '@goes/aggregate';
import {
  AGGREGATE_DELETED_EVENT,
  type BuiltinCommands,
  type CommandBus,
  createDistributedCommandBus,
  createLocalCommandBus,
} from '@goes/command';
import {
  createMemoryEventBus,
  createMemoryEventStore,
  type Event,
  type EventBus,
  type EventStore,
  isVersionConflictError,
  withBus,
} from '@goes/event';
import { createRepository, type Repository, type TypedRepository } from '../src/index.js';
import { Product, type ProductCommands, type ProductEvents } from './fixtures.js';

export type ShopCommands = ProductCommands & BuiltinCommands;

/** Fast retries: the tests need many attempts, not realistic waits. */
export const FAST_RETRY = { maxAttempts: 10, backoff: { initialMs: 1, maxMs: 5 } } as const;

/**
 * The seed's write path on in-memory backends: an event bus, a store that publishes on it after
 * every insert, a repository with snapshots, and a command bus pair (the dispatching side and
 * the handling side; one instance for the local bus).
 */
export interface World {
  readonly events: EventBus;
  readonly store: EventStore;
  readonly snapshots: SnapshotStore;
  readonly repository: Repository;
  readonly products: TypedRepository<Product>;
  readonly dispatcher: CommandBus<ShopCommands>;
  readonly handler: CommandBus<ShopCommands>;
  /** Domain events (product events and deletion records) published on the event bus, in order. */
  readonly published: Event[];
  /** Version conflicts the repository met on insert. */
  conflicts(): number;
  /** Errors the command buses reported to their `onError`. */
  readonly busErrors: unknown[];
  /** Closes something at the end of the test. */
  defer(resource: { close(): Promise<void> }): void;
  close(): Promise<void>;
}

export type BusKind = 'local' | 'distributed';

export const BUS_KINDS: readonly [string, BusKind][] = [
  ['the local command bus', 'local'],
  ['the distributed command bus over the in-memory event bus', 'distributed'],
];

const PUBLISHED_NAMES: readonly string[] = [
  'product.created',
  'product.priced',
  'product.stocked',
  'product.discontinued',
  'product.relisted',
  AGGREGATE_DELETED_EVENT,
] satisfies readonly (keyof ProductEvents | typeof AGGREGATE_DELETED_EVENT)[];

export async function createWorld(kind: BusKind): Promise<World> {
  const resources: { close(): Promise<void> }[] = [];
  const events = createMemoryEventBus();
  const store = withBus(createMemoryEventStore(), events);
  const snapshots = createMemorySnapshotStore();
  let conflicts = 0;
  const repository = createRepository({
    store,
    snapshots: { store: snapshots, schedule: snapshotEvery(2) },
    retry: FAST_RETRY,
    hooks: {
      onInsertFailed: (_aggregate, error) => {
        if (isVersionConflictError(error)) conflicts++;
      },
    },
  });
  const busErrors: unknown[] = [];
  const onError = (error: unknown) => busErrors.push(error);
  let dispatcher: CommandBus<ShopCommands>;
  let handler: CommandBus<ShopCommands>;
  if (kind === 'local') {
    dispatcher = handler = createLocalCommandBus<ShopCommands>({ onError });
  } else {
    handler = createDistributedCommandBus<ShopCommands>(events, { onError });
    dispatcher = createDistributedCommandBus<ShopCommands>(events, { onError });
  }
  const published: Event[] = [];
  const subscription = await events.subscribe(PUBLISHED_NAMES, { bufferSize: 10_000 });
  const reading = (async () => {
    for await (const event of subscription) published.push(event);
  })();
  return {
    events,
    store,
    snapshots,
    repository,
    products: repository.typed((id) => new Product(id)),
    dispatcher,
    handler,
    published,
    busErrors,
    conflicts: () => conflicts,
    defer: (resource) => resources.push(resource),
    async close() {
      for (const resource of resources.splice(0).reverse()) await resource.close();
      await dispatcher.close();
      await handler.close();
      await subscription.close();
      await reading;
      await events.close();
    },
  };
}

/** Waits until `check` holds (polling; not a timing assertion: it fails only after `ms`). */
export async function until(check: () => boolean, what: string, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** The rejection of a promise that must reject. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** A gate that opens once `count` callers arrived; later callers pass at once. */
export function barrier(count: number): () => Promise<void> {
  let arrived = 0;
  let open: () => void = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return async () => {
    if (arrived >= count) return;
    arrived++;
    if (arrived === count) open();
    await opened;
  };
}
