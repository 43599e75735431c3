/**
 * The shop's events: what happened to products, customers and orders, with their data. One event
 * map per aggregate, and the codec registry that stores and buses use to encode them.
 */
import { createRegistry, type Registry } from '@goes/codec';
import {
  type BuiltinEvents,
  type CommandBusEventMap,
  registerBuiltinEvents,
  registerCommandBusEvents,
} from '@goes/command';
import type { EventOf } from '@goes/event';

/** Product events. Prices are integer cents, stock whole units. */
export type ProductEvents = {
  'product.created': { readonly name: string; readonly priceCents: number; readonly stock: number };
  'product.price_changed': { readonly priceCents: number };
  'product.restocked': { readonly quantity: number };
  /** Units set aside for an order: they leave the available stock. */
  'product.reserved': { readonly orderId: string; readonly quantity: number };
  /** Units of a cancelled order back in stock. */
  'product.released': { readonly orderId: string; readonly quantity: number };
};

/** Customer events. */
export type CustomerEvents = {
  'customer.registered': { readonly name: string; readonly email: string };
  'customer.email_changed': { readonly email: string };
};

/** One line of an order, priced when the order was placed. */
export interface OrderLine {
  readonly productId: string;
  readonly name: string;
  readonly quantity: number;
  readonly unitPriceCents: number;
}

/** Order events. */
export type OrderEvents = {
  'order.placed': {
    readonly customerId: string;
    readonly lines: readonly OrderLine[];
    readonly totalCents: number;
  };
  'order.cancelled': { readonly reason: string };
};

/** Every event of the shop. */
export type ShopEvents = ProductEvents & CustomerEvents & OrderEvents;

/** Any shop event, narrowed by name. */
export type ShopEvent = EventOf<ShopEvents>;

/** The names of every shop event, for subscriptions and queries. */
export const SHOP_EVENT_NAMES = [
  'product.created',
  'product.price_changed',
  'product.restocked',
  'product.reserved',
  'product.released',
  'customer.registered',
  'customer.email_changed',
  'order.placed',
  'order.cancelled',
] as const satisfies readonly (keyof ShopEvents)[];

/**
 * The event codec of the shop: a strict registry (unknown names are refused) with the shop's
 * events, goes' built-in `goes.command.aggregate.deleted` (stored when an aggregate is deleted),
 * and the command bus' protocol events, which travel over the same event bus.
 */
export function shopEventCodec(): Registry<ShopEvents & BuiltinEvents & CommandBusEventMap> {
  const registry = createRegistry<ShopEvents>({ strict: true });
  for (const name of SHOP_EVENT_NAMES) registry.register(name);
  return registerCommandBusEvents(registerBuiltinEvents(registry));
}
