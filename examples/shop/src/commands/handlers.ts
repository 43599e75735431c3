import {
  type CommandBus,
  type CommandContext,
  type CommandHandler,
  type HandleOptions,
  requireAggregateTarget,
} from '@goes/command';
import type { SignalOptions } from '@goes/event';
import type { Lookup } from '@goes/projection';
import {
  handleAggregateCommands,
  handleBuiltinCommands,
  isAggregateNotFoundError,
  type Repository,
  type TypedRepository,
} from '@goes/repository';
import { Customer, normalizeEmail } from '../domain/customer.js';
import type { OrderLine } from '../domain/events.js';
import type { Order } from '../domain/order.js';
import { Product } from '../domain/product.js';
import { reject } from '../domain/rejections.js';
import type { ShopCommands } from './commands.js';

/** What the command handlers work with. */
export interface HandlerDependencies {
  /** The repository of every aggregate (for the built-in delete command). */
  readonly repository: Repository;
  readonly products: TypedRepository<Product>;
  readonly customers: TypedRepository<Customer>;
  readonly orders: TypedRepository<Order>;
  /** E-mail → customer id, to refuse an address that is taken. */
  readonly customerLookup: Lookup;
  /** Commands one process runs at once, per command name. Default 16. */
  readonly concurrency?: number | undefined;
  /** Failures of asynchronous dispatches. */
  readonly onError?: ((error: unknown) => void) | undefined;
}

/** How many commands of each name this process ran, and how many of them failed. */
export type HandledCounts = Record<string, { readonly succeeded: number; readonly failed: number }>;

/** The registered handlers and their counters. */
export interface CommandHandlers {
  readonly registrations: readonly { close(): Promise<void> }[];
  /** Counters per command name. */
  counts(): HandledCounts;
}

/**
 * Registers the shop's command handlers on a command bus: the seed's write path.
 *
 * - Products and customers handle their own commands (`Product.commands`,
 *   `Customer.commands`): `handleAggregateCommands` loads the targeted aggregate through the
 *   repository, runs the method and saves the events in one atomic insert, retrying with a
 *   fresh aggregate when another writer got there first. A before-hook asks the customer lookup
 *   whether an e-mail address is taken.
 * - goes' built-in `goes.command.aggregate.delete` deletes any aggregate through the repository
 *   and stores `goes.command.aggregate.deleted` (published by `withBus`).
 * - Placing and cancelling an order span several aggregates, so they are handlers of their own
 *   that call `repository.use` for each: placing reserves stock on every product, then places
 *   the order, and releases what it reserved when a later step fails.
 */
export async function registerCommandHandlers(
  bus: CommandBus<ShopCommands>,
  deps: HandlerDependencies,
): Promise<CommandHandlers> {
  const { products, customers, orders, customerLookup } = deps;
  const options: HandleOptions = { concurrency: deps.concurrency ?? 16, onError: deps.onError };
  const counts: Record<string, { succeeded: number; failed: number }> = {};
  const counting = countingBus(bus, counts);
  const emailFree = async (
    customer: Customer,
    context: { readonly payload: { email: string } },
  ) => {
    const email = normalizeEmail(context.payload.email);
    const owner = await customerLookup.reverse('customer', 'email', email);
    if (owner !== undefined && owner !== customer.id) {
      throw reject('EMAIL_TAKEN', `${email} belongs to another customer`, { email });
    }
  };
  const signalOf = (context: CommandContext): SignalOptions => ({ signal: context.signal });

  const registrations = [
    await handleAggregateCommands(counting, products, { commands: Product.commands, ...options }),
    await handleAggregateCommands(counting, customers, {
      commands: Customer.commands,
      before: { 'customer.register': emailFree, 'customer.change_email': emailFree },
      ...options,
    }),
    await handleBuiltinCommands(counting, deps.repository, {
      publishEvents: { store: deps.repository.store },
    }),
    await counting.handle(
      'order.place',
      (ctx) =>
        placeOrder(deps, requireAggregateTarget(ctx, 'order').id, ctx.payload, signalOf(ctx)),
      options,
    ),
    await counting.handle(
      'order.cancel',
      async (ctx) => {
        const orderId = requireAggregateTarget(ctx, 'order').id;
        const order = await orders.use(orderId, (o) => o.cancel(ctx.payload.reason), signalOf(ctx));
        // The order is cancelled now: its units go back even if the command's time runs out
        // meanwhile (with its signal, a timeout after the first release kept the others held
        // by a cancelled order). Idempotent: a cancel that failed half-way is completed by
        // sending it again.
        for (const line of order.lines) {
          await products.use(line.productId, (p) => p.release(orderId));
        }
      },
      options,
    ),
  ];
  return { registrations, counts: () => structuredClone(counts) };
}

/**
 * The bus as seen by the handlers: every handler registered through it (also those
 * `handleAggregateCommands` registers) is counted per command name and outcome.
 */
function countingBus(
  bus: CommandBus<ShopCommands>,
  counts: Record<string, { succeeded: number; failed: number }>,
): CommandBus<ShopCommands> {
  const handle = <N extends keyof ShopCommands & string>(
    name: N,
    handler: CommandHandler<ShopCommands, N>,
    handleOptions?: HandleOptions,
  ) => {
    const count = { succeeded: 0, failed: 0 };
    counts[name] = count;
    return bus.handle(
      name,
      async (context) => {
        try {
          const result = await handler(context);
          count.succeeded++;
          return result;
        } catch (error) {
          count.failed++;
          throw error;
        }
      },
      handleOptions,
    );
  };
  return new Proxy(bus, {
    get(target, property) {
      if (property === 'handle') return handle;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

async function exists(
  repository: TypedRepository<Customer> | TypedRepository<Order>,
  aggregateId: string,
  options: SignalOptions,
): Promise<boolean> {
  try {
    await repository.fetch(aggregateId, options);
    return true;
  } catch (error) {
    if (isAggregateNotFoundError(error)) return false;
    throw error;
  }
}

async function placeOrder(
  deps: HandlerDependencies,
  orderId: string,
  payload: ShopCommands['order.place']['payload'],
  options: SignalOptions,
): Promise<{ totalCents: number }> {
  const { products, customers, orders } = deps;
  if (!(await exists(customers, payload.customerId, options))) {
    throw reject('UNKNOWN_CUSTOMER', `there is no customer ${payload.customerId}`);
  }
  if (await exists(orders, orderId, options)) {
    throw reject('ORDER_EXISTS', `order ${orderId} exists already`);
  }

  // The same product on two lines is one reservation.
  const quantities = new Map<string, number>();
  for (const { productId, quantity } of payload.lines) {
    quantities.set(productId, (quantities.get(productId) ?? 0) + quantity);
  }
  const lines: OrderLine[] = [];
  // Products this command reserved on itself. A second command for the same order (a client
  // retrying a dispatch that timed out) finds the reservation made and adds none: it must not
  // give back units it does not hold.
  const reservedHere = new Set<string>();
  try {
    for (const [productId, quantity] of quantities) {
      const product = await products.use(
        productId,
        (p) => {
          p.reserve(orderId, quantity);
          // `use` runs this again after a version conflict: the last attempt decides.
          if (p.changes.length > 0) reservedHere.add(productId);
          else reservedHere.delete(productId);
        },
        options,
      );
      lines.push({ productId, name: product.name, quantity, unitPriceCents: product.priceCents });
    }
    const order = await orders.use(orderId, (o) => o.place(payload.customerId, lines), options);
    return { totalCents: order.totalCents };
  } catch (error) {
    await releaseReservations(deps, orderId, reservedHere);
    throw error;
  }
}

/**
 * Gives back what a failed `order.place` reserved, unless the order was placed after all (by
 * another command for the same order, or by an insert whose answer was lost): then the units
 * are that order's. It runs without the command's signal — a command whose time ran out is
 * exactly the one that must not keep its units — and tries every product even when one fails,
 * so that the command still fails with its own error.
 */
async function releaseReservations(
  deps: HandlerDependencies,
  orderId: string,
  productIds: ReadonlySet<string>,
): Promise<void> {
  if (productIds.size === 0) return;
  try {
    if (await exists(deps.orders, orderId, {})) return;
  } catch (error) {
    deps.onError?.(error);
    return;
  }
  for (const productId of productIds) {
    try {
      await deps.products.use(productId, (p) => p.release(orderId));
    } catch (error) {
      deps.onError?.(error);
    }
  }
}
