import { createRegistry } from '@goes/codec';
import type { EventOf } from '@goes/event';

/** The shop's product events and their data. */
export type ProductEvents = {
  'product.created': { readonly name: string; readonly priceCents: number };
  'product.priced': { readonly priceCents: number };
  'product.restocked': { readonly quantity: number };
};

/** Any product event, narrowed by name. */
export type ProductEvent = EventOf<ProductEvents>;

/** The codec: every product event name is known, unknown names are refused. */
export const productCodec = createRegistry<ProductEvents>({ strict: true })
  .register('product.created')
  .register('product.priced')
  .register('product.restocked');
