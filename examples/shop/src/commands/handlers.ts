import {
  type CommandBus,
  type CommandContext,
  type CommandHandler,
  type CommandHandlerRegistration,
  type HandleOptions,
  requireAggregateTarget,
} from '@goes/command';
import type { SignalOptions } from '@goes/event';
import type { Lookup } from '@goes/projection';
import { isAggregateNotFoundError, type TypedRepository } from '@goes/repository';
import { type Customer, normalizeEmail } from '../domain/customer.js';
import type { OrderLine } from '../domain/events.js';
import type { Order } from '../domain/order.js';
import type { Product } from '../domain/product.js';
import { reject } from '../domain/rejections.js';
import type { ShopCommands, ShopWriteCommands } from './commands.js';

/** What the command handlers work with. */
export interface HandlerDependencies {
  readonly products: TypedRepository<Product>;
  readonly customers: TypedRepository<Customer>;
  readonly orders: TypedRepository<Order>;
  /** E-mail → customer id, to refuse an address that is taken. */
  readonly customerLookup: Lookup;
  /** Commands one process runs at once, per command name. Default 8. */
  readonly concurrency?: number | undefined;
  /** Failures of asynchronous dispatches. */
  readonly onError?: ((error: unknown) => void) | undefined;
}

/** How many commands of each name this process ran, and how many of them failed. */
export type HandledCounts = Record<string, { readonly succeeded: number; readonly failed: number }>;

/** The registered handlers and their counters. */
export interface CommandHandlers {
  readonly registrations: readonly CommandHandlerRegistration[];
  /** Counters per command name. */
  counts(): HandledCounts;
}

/**
 * Registers the shop's command handlers on a command bus: the seed's write path. Each handler
 * takes the command's aggregate target and calls `repository.use(id, fn)`, which fetches the
 * aggregate, runs the domain method (raising events with `next`), and saves the changes in one
 * atomic insert — retrying with a fresh aggregate when another writer got there first.
 *
 * Placing an order touches several aggregates: it reserves stock on each product, then places the
 * order, and releases what it reserved when a later step fails.
 */
export async function registerCommandHandlers(
  bus: CommandBus<ShopCommands>,
  deps: HandlerDependencies,
): Promise<CommandHandlers> {
  const { products, customers, orders, customerLookup } = deps;
  const options: HandleOptions = { concurrency: deps.concurrency ?? 8, onError: deps.onError };
  const id = (context: CommandContext, aggregate: 'product' | 'customer' | 'order') =>
    requireAggregateTarget(context, aggregate).id;
  const counts: Record<string, { succeeded: number; failed: number }> = {};
  const handle = <N extends keyof ShopWriteCommands>(
    name: N,
    handler: CommandHandler<ShopCommands, N>,
    handleOptions: HandleOptions,
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

  const registrations = await Promise.all([
    handle(
      'product.create',
      async (ctx) => {
        const { name, priceCents, stock } = ctx.payload;
        await products.use(
          id(ctx, 'product'),
          (p) => p.create(name, priceCents, stock),
          signalOf(ctx),
        );
      },
      options,
    ),
    handle(
      'product.change_price',
      async (ctx) => {
        await products.use(
          id(ctx, 'product'),
          (p) => p.changePrice(ctx.payload.priceCents),
          signalOf(ctx),
        );
      },
      options,
    ),
    handle(
      'product.restock',
      async (ctx) => {
        await products.use(
          id(ctx, 'product'),
          (p) => p.restock(ctx.payload.quantity),
          signalOf(ctx),
        );
      },
      options,
    ),
    handle(
      'customer.register',
      async (ctx) => {
        const customerId = id(ctx, 'customer');
        const email = normalizeEmail(ctx.payload.email);
        await ensureEmailFree(customerLookup, email, customerId, signalOf(ctx));
        await customers.use(customerId, (c) => c.register(ctx.payload.name, email), signalOf(ctx));
      },
      options,
    ),
    handle(
      'customer.change_email',
      async (ctx) => {
        const customerId = id(ctx, 'customer');
        const email = normalizeEmail(ctx.payload.email);
        await ensureEmailFree(customerLookup, email, customerId, signalOf(ctx));
        await customers.use(customerId, (c) => c.changeEmail(email), signalOf(ctx));
      },
      options,
    ),
    handle(
      'order.place',
      (ctx) => placeOrder(deps, id(ctx, 'order'), ctx.payload, signalOf(ctx)),
      options,
    ),
    handle(
      'order.cancel',
      async (ctx) => {
        const orderId = id(ctx, 'order');
        const order = await orders.use(orderId, (o) => o.cancel(ctx.payload.reason), signalOf(ctx));
        // Idempotent: a cancel that stopped half-way is completed by sending it again.
        for (const line of order.lines) {
          await products.use(line.productId, (p) => p.release(orderId), signalOf(ctx));
        }
      },
      options,
    ),
  ]);
  return {
    registrations,
    counts: () => structuredClone(counts),
  };
}

const signalOf = (context: CommandContext): SignalOptions => ({ signal: context.signal });

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

async function ensureEmailFree(
  lookup: Lookup,
  email: string,
  customerId: string,
  options: SignalOptions,
): Promise<void> {
  const owner = await lookup.reverse('customer', 'email', email, options);
  if (owner !== undefined && owner !== customerId) {
    throw reject('EMAIL_TAKEN', `${email} belongs to another customer`, { email });
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
  try {
    for (const [productId, quantity] of quantities) {
      const product = await products.use(productId, (p) => p.reserve(orderId, quantity), options);
      lines.push({ productId, name: product.name, quantity, unitPriceCents: product.priceCents });
    }
    const order = await orders.use(orderId, (o) => o.place(payload.customerId, lines), options);
    return { totalCents: order.totalCents };
  } catch (error) {
    // Give back what this command reserved; the order was not placed.
    for (const line of lines) {
      await products.use(line.productId, (p) => p.release(orderId), options);
    }
    throw error;
  }
}
