import type { Event } from '@goes/event';
import { Progressor, type Target } from '@goes/projection';
import type { ShopEvent } from '../domain/events.js';

/** One product as the catalogue shows it. */
export interface CatalogueEntry {
  readonly id: string;
  readonly name: string;
  readonly priceCents: number;
  /** Units that can still be ordered. */
  readonly available: number;
  /** Units held by open orders. */
  readonly reserved: number;
}

/** The product events the catalogue reads. */
export const CATALOGUE_EVENTS = [
  'product.created',
  'product.price_changed',
  'product.restocked',
  'product.reserved',
  'product.released',
] as const;

/**
 * The product catalogue read model: one document with every product, kept by the projection
 * service. It is progress-aware (it extends {@link Progressor}): the position of the last event
 * it applied is saved with it, so every event is applied exactly once, across restarts too.
 */
export class Catalogue extends Progressor implements Target {
  /** The model id: there is one catalogue. */
  readonly id = 'catalogue';
  products: Record<string, CatalogueEntry> = {};

  applyEvent(event: Event): void {
    const e = event as ShopEvent;
    const id = e.aggregate?.id;
    if (id === undefined) return;
    const entry = this.products[id];
    switch (e.name) {
      case 'product.created':
        this.products[id] = {
          id,
          name: e.data.name,
          priceCents: e.data.priceCents,
          available: e.data.stock,
          reserved: 0,
        };
        return;
      case 'product.price_changed':
        if (entry) this.products[id] = { ...entry, priceCents: e.data.priceCents };
        return;
      case 'product.restocked':
        if (entry) this.products[id] = { ...entry, available: entry.available + e.data.quantity };
        return;
      case 'product.reserved':
        if (entry) {
          this.products[id] = {
            ...entry,
            available: entry.available - e.data.quantity,
            reserved: entry.reserved + e.data.quantity,
          };
        }
        return;
      case 'product.released':
        if (entry) {
          this.products[id] = {
            ...entry,
            available: entry.available + e.data.quantity,
            reserved: entry.reserved - e.data.quantity,
          };
        }
        return;
    }
  }

  /** The products, by name. */
  entries(): CatalogueEntry[] {
    return Object.values(this.products).sort((a, b) => a.name.localeCompare(b.name));
  }
}

/** A catalogue from its stored data (a database returns plain JSON). */
export function reviveCatalogue(data: unknown): Catalogue {
  return Object.assign(new Catalogue(), data);
}
