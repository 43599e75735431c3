import { snapshotEvery } from '@goes/aggregate';
import { type CommandBus, createDistributedCommandBus } from '@goes/command';
import { type EventBus, type EventStore, withBus } from '@goes/event';
import type { Lookup } from '@goes/projection';
import { createRepository, type TypedRepository } from '@goes/repository';
import { type Backends, createBackends } from './backends.js';
import { type ShopCommands, shopCommandCodec } from './commands/commands.js';
import { type HandledCounts, registerCommandHandlers } from './commands/handlers.js';
import type { ShopConfig } from './config.js';
import { Customer } from './domain/customer.js';
import { shopEventCodec } from './domain/events.js';
import { Order } from './domain/order.js';
import { Product } from './domain/product.js';
import { reviveCatalogue } from './projections/catalogue.js';
import { createCustomerLookup } from './projections/customer-lookup.js';
import { reviveOrderSummary } from './projections/order-summary.js';
import { type ProjectionStats, type Projector, startProjector } from './projections/projector.js';
import { localReads, remoteReads, type ShopReads, serveReads } from './reads.js';

/** What a shop process runs. A process that runs neither role is a client. */
export interface ShopOptions {
  /** Run the command handlers (the write side). Default true. */
  readonly handlers?: boolean | undefined;
  /** Run the projections and answer read requests (the read side). Default true. */
  readonly projections?: boolean | undefined;
  /** Commands of one name this process runs at once. Default 16 (the scenario keeps 16 in flight). */
  readonly concurrency?: number | undefined;
  /** Debounce of the projections' schedules, in milliseconds. Default 25. */
  readonly debounce?: number | undefined;
  /** Take a product snapshot every this many versions. Default 50. */
  readonly snapshotEvery?: number | undefined;
  /** Background failures (asynchronous dispatches, projection jobs). Default `console.error`. */
  readonly onError?: ((error: unknown) => void) | undefined;
}

/** Counters of a shop process. */
export interface ShopStats {
  /** Commands this process handled, per name (empty without the handlers role). */
  readonly handled: HandledCounts;
  /** Snapshots in this process' snapshot store. */
  readonly snapshots: number;
  /** Projection jobs and applied events (without the projections role: undefined). */
  readonly projections:
    | { readonly catalogue: ProjectionStats; readonly orders: ProjectionStats }
    | undefined;
}

/** A running shop process. */
export interface Shop extends AsyncDisposable {
  readonly config: ShopConfig;
  /** Which backends run. */
  readonly description: string;
  /** The event store; every insert is published on {@link Shop.events} (`withBus`). */
  readonly store: EventStore;
  /** The event bus. */
  readonly events: EventBus;
  /** The command bus: dispatch the shop's commands here, from any process. */
  readonly commands: CommandBus<ShopCommands>;
  /** Aggregate repositories (for reading aggregates; changes go through commands). */
  readonly products: TypedRepository<Product>;
  readonly customers: TypedRepository<Customer>;
  readonly orders: TypedRepository<Order>;
  /** The read models: in this process when it runs the projections, else over the command bus. */
  readonly reads: ShopReads;
  stats(): Promise<ShopStats>;
  /** Stops handlers and projections, then closes the buses and the store. */
  close(): Promise<void>;
}

/**
 * Wires a shop process from configuration: backends (the only place that knows the adapters),
 * the distributed command bus over the event bus (so any number of processes can dispatch and
 * handle, each command executed once), repositories with product snapshots, and — by role — the
 * command handlers, the projections with the customer lookup, and the read requests they answer.
 *
 * @example
 * ```ts
 * await using shop = await createShop(readConfig());
 * await shop.commands.dispatch(commands.createProduct(uuidv7(), { name: 'Mouse', priceCents: 2999, stock: 10 }), { sync: true });
 * await shop.reads.settle();
 * console.log(await shop.reads.catalogue());
 * ```
 */
export async function createShop(config: ShopConfig, options: ShopOptions = {}): Promise<Shop> {
  const runHandlers = options.handlers ?? true;
  const runProjections = options.projections ?? true;
  const onError = options.onError ?? ((error: unknown) => console.error(error));
  const backends: Backends = await createBackends(config, shopEventCodec());
  const store = withBus(backends.store, backends.bus, { onPublishError: onError });
  const commands = createDistributedCommandBus<ShopCommands>(backends.commandTransport, {
    codec: shopCommandCodec(),
    onError,
  });
  const repository = createRepository({
    store,
    snapshots: {
      store: backends.snapshots,
      schedule: snapshotEvery(options.snapshotEvery ?? 50, { names: ['product'] }),
      onSaveError: onError,
    },
  });
  const products = repository.typed((id) => new Product(id));
  const customers = repository.typed((id) => new Customer(id));
  const orders = repository.typed((id) => new Order(id));

  const registrations: { close(): Promise<void> }[] = [];
  let lookup: Lookup | undefined;
  let projector: Projector | undefined;
  let counts: () => HandledCounts = () => ({});
  const close = async () => {
    for (const registration of registrations.splice(0)) await registration.close();
    await commands.close();
    await projector?.close();
    await lookup?.close();
    await backends.close();
  };

  try {
    if (runHandlers || runProjections) {
      lookup = createCustomerLookup(store, backends.bus);
      await lookup.start();
    }
    let reads: ShopReads = remoteReads(commands);
    if (runProjections && lookup) {
      projector = await startProjector({
        store,
        bus: backends.bus,
        catalogue: backends.models('catalogue', reviveCatalogue),
        orders: backends.models('order_summaries', reviveOrderSummary),
        debounce: options.debounce,
        onError,
      });
      reads = localReads(projector, lookup);
      registrations.push(...(await serveReads(commands, reads)));
    }
    if (runHandlers && lookup) {
      const handlers = await registerCommandHandlers(commands, {
        repository,
        products,
        customers,
        orders,
        customerLookup: lookup,
        concurrency: options.concurrency,
        onError,
      });
      registrations.push(...handlers.registrations);
      counts = handlers.counts;
    }
    const running = projector;
    return {
      config,
      description: backends.description,
      store,
      events: backends.bus,
      commands,
      products,
      customers,
      orders,
      reads,
      stats: async () => {
        let snapshots = 0;
        for await (const _ of backends.snapshots.query({})) snapshots++;
        return { handled: counts(), snapshots, projections: running?.stats() };
      },
      close,
      [Symbol.asyncDispose]: close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
