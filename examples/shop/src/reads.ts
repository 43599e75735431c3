import { type CommandBus, type CommandHandlerRegistration, createCommand } from '@goes/command';
import type { SignalOptions } from '@goes/event';
import type { Lookup } from '@goes/projection';
import type { SettleResult, ShopCommands } from './commands/commands.js';
import type { CatalogueEntry } from './projections/catalogue.js';
import type { OrderSummaryData } from './projections/order-summary.js';
import type { Projector } from './projections/projector.js';

/**
 * The read side of the shop: the read models and the customer lookup. In the process that runs
 * the projections it reads them directly ({@link localReads}); anywhere else it asks that
 * process over the command bus ({@link remoteReads}).
 */
export interface ShopReads {
  /** The product catalogue, by name. */
  catalogue(options?: SignalOptions): Promise<CatalogueEntry[]>;
  /** The summaries of these orders (unknown ids are left out). */
  orders(ids: readonly string[], options?: SignalOptions): Promise<OrderSummaryData[]>;
  /** The id of the customer with this e-mail address. */
  customerByEmail(email: string, options?: SignalOptions): Promise<string | undefined>;
  /**
   * Waits until the read models include every event stored so far (read-your-writes), and
   * resolves to the position they reached.
   */
  settle(options?: SignalOptions): Promise<SettleResult>;
}

/** Reads the projector's models and the lookup in this process. */
export function localReads(projector: Projector, customers: Lookup): ShopReads {
  return {
    catalogue: (options) => projector.catalogue(options),
    orders: (ids, options) => projector.orders(ids, options),
    customerByEmail: (email, options) =>
      customers.reverse('customer', 'email', email.trim().toLowerCase(), options),
    settle: async (options) => {
      await customers.ready(options);
      return projector.settle(options);
    },
  };
}

/** Asks the process that runs the projections, through synchronous dispatches. */
export function remoteReads(bus: CommandBus<ShopCommands>): ShopReads {
  return {
    catalogue: (options) =>
      bus.dispatch(createCommand('shop.read.catalogue', {}), { ...options, sync: true }),
    orders: (ids, options) =>
      bus.dispatch(createCommand('shop.read.orders', { ids: [...ids] }), {
        ...options,
        sync: true,
      }),
    customerByEmail: async (email, options) => {
      const found = await bus.dispatch(createCommand('shop.read.customer', { email }), {
        ...options,
        sync: true,
      });
      return found?.id;
    },
    settle: (options) =>
      bus.dispatch(createCommand('shop.read.settle', {}), { ...options, sync: true }),
  };
}

/** Answers the read requests of {@link remoteReads} from `reads`. */
export function serveReads(
  bus: CommandBus<ShopCommands>,
  reads: ShopReads,
): Promise<CommandHandlerRegistration[]> {
  return Promise.all([
    bus.handle('shop.read.catalogue', ({ signal }) => reads.catalogue({ signal })),
    bus.handle('shop.read.orders', ({ payload, signal }) => reads.orders(payload.ids, { signal })),
    bus.handle('shop.read.customer', async ({ payload, signal }) => {
      const id = await reads.customerByEmail(payload.email, { signal });
      return id === undefined ? null : { id };
    }),
    bus.handle('shop.read.settle', ({ signal }) => reads.settle({ signal })),
  ]);
}
