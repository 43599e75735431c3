import type { Event, EventStore } from '@goes/event';
import { drain } from '@goes/streams';
import type { OrderLine, ShopEvent } from '../src/domain/events.js';

/** A product as the stored events say, folded in position order. */
export interface FoldedProduct {
  supplied: number;
  stock: number;
  /** The lowest stock any prefix of the events left. */
  lowest: number;
  reservations: Map<string, number>;
}

/** An order as the stored events say. */
export interface FoldedOrder {
  customerId: string;
  lines: readonly OrderLine[];
  totalCents: number;
  status: 'placed' | 'cancelled';
}

/** Every product and order folded from the store: the truth the read models must match. */
export async function foldStore(store: EventStore) {
  const events = (await drain(store.query({}))) as Event[];
  events.sort((a, b) => (a.position ?? 0) - (b.position ?? 0));
  const products = new Map<string, FoldedProduct>();
  const orders = new Map<string, FoldedOrder>();
  for (const event of events as ShopEvent[]) {
    const id = event.aggregate?.id ?? '';
    const product = products.get(id);
    switch (event.name) {
      case 'product.created':
        products.set(id, {
          supplied: event.data.stock,
          stock: event.data.stock,
          lowest: event.data.stock,
          reservations: new Map(),
        });
        break;
      case 'product.restocked':
        if (!product) throw new Error(`restock of unknown product ${id}`);
        product.supplied += event.data.quantity;
        product.stock += event.data.quantity;
        break;
      case 'product.reserved':
        if (!product) throw new Error(`reservation on unknown product ${id}`);
        if (product.reservations.has(event.data.orderId)) {
          throw new Error(`order ${event.data.orderId} reserved ${id} twice`);
        }
        product.stock -= event.data.quantity;
        product.lowest = Math.min(product.lowest, product.stock);
        product.reservations.set(event.data.orderId, event.data.quantity);
        break;
      case 'product.released':
        if (!product) throw new Error(`release on unknown product ${id}`);
        if (product.reservations.get(event.data.orderId) !== event.data.quantity) {
          throw new Error(`order ${event.data.orderId} released what it did not hold on ${id}`);
        }
        product.stock += event.data.quantity;
        product.reservations.delete(event.data.orderId);
        break;
      case 'order.placed':
        orders.set(id, { ...event.data, status: 'placed' });
        break;
      case 'order.cancelled': {
        const order = orders.get(id);
        if (!order) throw new Error(`cancel of unknown order ${id}`);
        order.status = 'cancelled';
        break;
      }
    }
  }
  return { products, orders };
}

/**
 * What must hold between products and orders: every reservation belongs to an open (placed, not
 * cancelled) order and has the quantity of that order's line; every open order holds a
 * reservation for each of its lines. Returns the violations (empty when all hold).
 */
export function reservationViolations(folded: Awaited<ReturnType<typeof foldStore>>): string[] {
  const violations: string[] = [];
  for (const [productId, product] of folded.products) {
    if (product.lowest < 0) violations.push(`${productId}: stock went down to ${product.lowest}`);
    for (const [orderId, quantity] of product.reservations) {
      const order = folded.orders.get(orderId);
      const line = order?.lines.find((l) => l.productId === productId);
      if (order?.status !== 'placed' || line?.quantity !== quantity) {
        violations.push(
          `${productId}: ${quantity} reserved for order ${orderId} (${order?.status ?? 'not placed'})`,
        );
      }
    }
  }
  for (const [orderId, order] of folded.orders) {
    if (order.status !== 'placed') continue;
    for (const line of order.lines) {
      const held = folded.products.get(line.productId)?.reservations.get(orderId);
      if (held !== line.quantity) {
        violations.push(
          `order ${orderId} holds ${held ?? 0} of ${line.quantity} on ${line.productId}`,
        );
      }
    }
  }
  return violations;
}
