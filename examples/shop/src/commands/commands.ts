/**
 * The shop's commands: what a client asks for, with the payload it sends and the result it gets
 * back. Each write command targets one aggregate (`command.aggregate`); read requests ask the
 * projection service for read models. Payloads are validated by zod schemas in the command
 * codec, so a malformed command is refused before any handler runs (`INVALID_COMMAND`).
 */
import { createRegistry, type StandardSchemaV1 } from '@goes/codec';
import {
  type BuiltinCommands,
  type Command,
  type CommandSpec,
  createCommand,
  registerBuiltinCommands,
} from '@goes/command';
import { z } from 'zod';
import type { CatalogueEntry } from '../projections/catalogue.js';
import type { OrderSummaryData } from '../projections/order-summary.js';

const id = z.uuid();
const cents = z.number().int().positive();
const units = z.number().int().positive();

const schemas = {
  'product.create': z.object({
    name: z.string().min(1),
    priceCents: cents,
    stock: z.number().int().min(0),
  }),
  'product.change_price': z.object({ priceCents: cents }),
  'product.restock': z.object({ quantity: units }),
  'customer.register': z.object({ name: z.string().min(1), email: z.string().min(3) }),
  'customer.change_email': z.object({ email: z.string().min(3) }),
  'order.place': z.object({
    customerId: id,
    lines: z.array(z.object({ productId: id, quantity: units })).min(1),
  }),
  'order.cancel': z.object({ reason: z.string() }),
  'shop.read.catalogue': z.object({}),
  'shop.read.orders': z.object({ ids: z.array(id) }),
  'shop.read.customer': z.object({ email: z.string() }),
  'shop.read.settle': z.object({}),
} as const;

type Payload<N extends keyof typeof schemas> = z.infer<(typeof schemas)[N]>;

/** The write commands: each targets the aggregate it changes. */
export type ShopWriteCommands = {
  'product.create': CommandSpec<Payload<'product.create'>, void>;
  'product.change_price': CommandSpec<Payload<'product.change_price'>, void>;
  'product.restock': CommandSpec<Payload<'product.restock'>, void>;
  'customer.register': CommandSpec<Payload<'customer.register'>, void>;
  'customer.change_email': CommandSpec<Payload<'customer.change_email'>, void>;
  'order.place': CommandSpec<Payload<'order.place'>, { readonly totalCents: number }>;
  'order.cancel': CommandSpec<Payload<'order.cancel'>, void>;
};

/** What the projection service reports after catching up. */
export interface SettleResult {
  /** The store position every projection has processed. */
  readonly position: number;
  /** Projection jobs run so far. */
  readonly jobs: number;
}

/**
 * Read requests, answered by whoever runs the projections (in another process, over the
 * command bus): a request with a result, like any synchronous command.
 */
export type ShopReadRequests = {
  'shop.read.catalogue': CommandSpec<Payload<'shop.read.catalogue'>, CatalogueEntry[]>;
  'shop.read.orders': CommandSpec<Payload<'shop.read.orders'>, OrderSummaryData[]>;
  'shop.read.customer': CommandSpec<Payload<'shop.read.customer'>, { id: string } | null>;
  'shop.read.settle': CommandSpec<Payload<'shop.read.settle'>, SettleResult>;
};

/**
 * Everything the shop's command bus carries, including goes' built-in delete-aggregate command
 * (`deleteAggregateCommand({ name, id })`).
 */
export type ShopCommands = ShopWriteCommands & ShopReadRequests & BuiltinCommands;

/** The names of the write commands. */
export const WRITE_COMMANDS = [
  'product.create',
  'product.change_price',
  'product.restock',
  'customer.register',
  'customer.change_email',
  'order.place',
  'order.cancel',
] as const satisfies readonly (keyof ShopWriteCommands)[];

/** The command codec: strict, with a payload schema per command. */
export function shopCommandCodec() {
  const registry = registerBuiltinCommands(createRegistry({ strict: true }));
  for (const [name, schema] of Object.entries(schemas)) {
    registry.register<string, unknown>(name, {
      schema: schema as StandardSchemaV1<unknown, unknown>,
    });
  }
  return registry;
}

const target = (name: 'product' | 'customer' | 'order', aggregateId: string) => ({
  aggregate: { name, id: aggregateId },
});

/** Command creators: the name, the payload and the aggregate target in one call. */
export const commands = {
  createProduct: (productId: string, payload: Payload<'product.create'>) =>
    createCommand('product.create', payload, target('product', productId)),
  changePrice: (productId: string, priceCents: number) =>
    createCommand('product.change_price', { priceCents }, target('product', productId)),
  restock: (productId: string, quantity: number) =>
    createCommand('product.restock', { quantity }, target('product', productId)),
  registerCustomer: (customerId: string, payload: Payload<'customer.register'>) =>
    createCommand('customer.register', payload, target('customer', customerId)),
  changeEmail: (customerId: string, email: string) =>
    createCommand('customer.change_email', { email }, target('customer', customerId)),
  placeOrder: (orderId: string, payload: Payload<'order.place'>) =>
    createCommand('order.place', payload, target('order', orderId)),
  cancelOrder: (orderId: string, reason: string) =>
    createCommand('order.cancel', { reason }, target('order', orderId)),
} satisfies Record<string, (...args: never[]) => Command>;
