import { type Event, formatNanos } from '@goes/event';
import { Progressor, type Target } from '@goes/projection';
import type { OrderLine, ShopEvent } from '../domain/events.js';

/** An order as the order-summary read model shows it (plain JSON). */
export interface OrderSummaryData {
  readonly id: string;
  readonly customerId: string;
  readonly status: 'placed' | 'cancelled';
  readonly lines: readonly OrderLine[];
  readonly items: number;
  readonly totalCents: number;
  /** When it was placed (ISO 8601 with nanoseconds). */
  readonly placedAt: string;
  readonly cancelReason?: string;
}

/** The order events the summaries read. */
export const ORDER_SUMMARY_EVENTS = ['order.placed', 'order.cancelled'] as const;

/**
 * The order-summary read model: one document per order, built by `job.applyToModels`, which
 * gives each order's summary exactly that order's events, after the position saved with it.
 */
export class OrderSummary extends Progressor implements Target {
  customerId = '';
  status: 'new' | 'placed' | 'cancelled' = 'new';
  lines: readonly OrderLine[] = [];
  totalCents = 0;
  placedAt = '';
  cancelReason: string | undefined;

  constructor(readonly id: string) {
    super();
  }

  applyEvent(event: Event): void {
    const e = event as ShopEvent;
    switch (e.name) {
      case 'order.placed':
        this.status = 'placed';
        this.customerId = e.data.customerId;
        this.lines = e.data.lines;
        this.totalCents = e.data.totalCents;
        this.placedAt = formatNanos(e.time);
        return;
      case 'order.cancelled':
        this.status = 'cancelled';
        this.cancelReason = e.data.reason;
        return;
    }
  }

  /** The summary as plain data (what read requests return). */
  toData(): OrderSummaryData {
    const data = {
      id: this.id,
      customerId: this.customerId,
      status: this.status === 'cancelled' ? 'cancelled' : 'placed',
      lines: this.lines,
      items: this.lines.reduce((sum, line) => sum + line.quantity, 0),
      totalCents: this.totalCents,
      placedAt: this.placedAt,
    } as const;
    return this.cancelReason === undefined ? data : { ...data, cancelReason: this.cancelReason };
  }
}

/** An order summary from its stored data (a database returns plain JSON). */
export function reviveOrderSummary(data: unknown): OrderSummary {
  const { id } = data as { readonly id: string };
  return Object.assign(new OrderSummary(id), data);
}
