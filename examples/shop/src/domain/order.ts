import { AggregateRoot, next } from '@goes/aggregate';
import type { OrderEvents, OrderLine } from './events.js';
import { reject } from './rejections.js';

/** Where an order stands. */
export type OrderStatus = 'new' | 'placed' | 'cancelled';

/**
 * An order of one customer: lines priced when it was placed, and whether it was cancelled.
 * Stock is the products' business: the command handler reserves it before placing the order.
 */
export class Order extends AggregateRoot<OrderEvents> {
  status: OrderStatus = 'new';
  customerId = '';
  lines: readonly OrderLine[] = [];
  totalCents = 0;

  constructor(id: string) {
    super('order', id);
    this.applyWith({
      'order.placed': ({ data }) => {
        this.status = 'placed';
        this.customerId = data.customerId;
        this.lines = data.lines;
        this.totalCents = data.totalCents;
      },
      'order.cancelled': () => {
        this.status = 'cancelled';
      },
    });
  }

  place(customerId: string, lines: readonly OrderLine[]): void {
    if (this.status !== 'new') throw reject('ORDER_EXISTS', `order ${this.id} exists already`);
    if (lines.length === 0) throw reject('EMPTY_ORDER', `order ${this.id} has no lines`);
    const totalCents = lines.reduce((sum, line) => sum + line.quantity * line.unitPriceCents, 0);
    next(this, 'order.placed', { customerId, lines, totalCents });
  }

  /** Cancels a placed order; cancelling it again changes nothing. */
  cancel(reason: string): void {
    if (this.status === 'new') throw reject('UNKNOWN_ORDER', `there is no order ${this.id}`);
    if (this.status === 'placed') next(this, 'order.cancelled', { reason });
  }
}
