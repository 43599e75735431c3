/** Code of docs/guides/aggregates.md, run by ../test/aggregates.test.ts. */
// #region imports
import { AggregateRoot, applyHistory, isConsistencyError, next } from '@goes/aggregate';
import { createEvent, type Event, uuidv7 } from '@goes/event';
// #endregion imports

// #region aggregate
/** The events of a product and their data. */
export type ProductEvents = {
  'product.created': { readonly name: string; readonly priceCents: number };
  'product.price_changed': { readonly priceCents: number };
  'product.discontinued': { readonly reason: string };
};

export class Product extends AggregateRoot<ProductEvents> {
  name = '';
  priceCents = 0;

  constructor(id: string) {
    // Events named here soft-delete the aggregate: the repository refuses to load it afterwards.
    super('product', id, { softDelete: { deleteEvents: ['product.discontinued'] } });
    // One applier per event of the map — a missing one is a type error. Appliers change state
    // only; they never check rules (history is history).
    this.applyWith({
      'product.created': ({ data }) => {
        this.name = data.name;
        this.priceCents = data.priceCents;
      },
      'product.price_changed': ({ data }) => {
        this.priceCents = data.priceCents;
      },
      'product.discontinued': () => {},
    });
  }

  // Domain methods check the rules, then raise events with next(): the event is applied at
  // once and recorded as an uncommitted change with the next version.
  create(name: string, priceCents: number): void {
    if (this.currentVersion > 0) throw new Error(`product ${this.id} exists already`);
    next(this, 'product.created', { name, priceCents });
  }

  changePrice(priceCents: number): void {
    if (priceCents <= 0) throw new RangeError(`price ${priceCents} must be positive`);
    if (priceCents !== this.priceCents) next(this, 'product.price_changed', { priceCents });
  }

  discontinue(reason: string): void {
    next(this, 'product.discontinued', { reason });
  }
}
// #endregion aggregate

export function raise() {
  // #region raise
  const product = new Product(uuidv7());
  product.create('Wireless Mouse', 2_999);
  product.changePrice(2_499);

  product.priceCents; // 2499: applied at once
  product.version; // 0: nothing is stored yet
  product.changes.map((event) => `${event.name} v${event.aggregate?.version}`);
  // ['product.created v1', 'product.price_changed v2']
  // #endregion raise
  return product;
}

export function rebuild(stored: readonly Event[], id: string) {
  // #region history
  // Rebuild from stored events (what a repository does on fetch): versions must follow on from
  // the aggregate's version without a gap, and belong to this aggregate.
  const product = new Product(id);
  applyHistory(product, stored);
  product.version; // the version of the last event applied
  // #endregion history
  return product;
}

export function refusedHistory(id: string): string {
  const created = createEvent(
    'product.created',
    { name: 'Mouse', priceCents: 1 },
    { aggregate: { name: 'product', id, version: 1 } },
  );
  const skipped = createEvent(
    'product.price_changed',
    { priceCents: 2 },
    { aggregate: { name: 'product', id, version: 3 } },
  );
  // #region consistency
  try {
    applyHistory(new Product(id), [created, skipped]); // version 2 is missing
  } catch (error) {
    if (isConsistencyError(error)) return error.kind; // 'version'
    throw error;
  }
  // #endregion consistency
  return 'accepted';
}
