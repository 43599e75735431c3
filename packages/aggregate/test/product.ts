import { createEvent, type Event, type Nanos, uuidv7 } from '@goes/event';
import { AggregateRoot, next, type SnapshotHooks } from '../src/index.js';

export type ProductEvents = {
  'product.created': { sku: string; name: string };
  'product.priced': { cents: number };
  'product.discontinued': Record<string, never>;
  'product.relisted': Record<string, never>;
};

export interface ProductState {
  readonly sku: string;
  readonly name: string;
  readonly cents: number;
}

/** The test aggregate: a product with a name (a field that must not collide with the base). */
export class Product extends AggregateRoot<ProductEvents> implements SnapshotHooks<ProductState> {
  sku = '';
  name = '';
  cents = 0;
  applied: string[] = [];

  constructor(id: string) {
    super('product', id, {
      softDelete: { deleteEvents: ['product.discontinued'], restoreEvents: ['product.relisted'] },
    });
    this.applyWith({
      'product.created': (event) => {
        this.sku = event.data.sku;
        this.name = event.data.name;
        this.applied.push(event.name);
      },
      'product.priced': (event) => {
        this.cents = event.data.cents;
        this.applied.push(event.name);
      },
      'product.discontinued': (event) => {
        this.applied.push(event.name);
      },
      'product.relisted': (event) => {
        this.applied.push(event.name);
      },
    });
  }

  create(sku: string, name: string): void {
    if (this.version > 0 || this.changes.length > 0) throw new Error('product exists already');
    next(this, 'product.created', { sku, name });
  }

  price(cents: number): void {
    if (cents < 0) throw new Error(`negative price ${cents}`);
    next(this, 'product.priced', { cents });
  }

  discontinue(): void {
    next(this, 'product.discontinued', {});
  }

  relist(): void {
    next(this, 'product.relisted', {});
  }

  snapshotState(): ProductState {
    return { sku: this.sku, name: this.name, cents: this.cents };
  }

  restoreSnapshot(state: ProductState): void {
    if (typeof state?.sku !== 'string' || typeof state.cents !== 'number') {
      throw new Error(`not a product state: ${JSON.stringify(state)}`);
    }
    this.sku = state.sku;
    this.name = state.name;
    this.cents = state.cents;
  }
}

/** An aggregate without snapshot hooks. */
export class Counter extends AggregateRoot<{ 'counter.incremented': { by: number } }> {
  count = 0;

  constructor(id: string) {
    super('counter', id);
    this.applyWith({
      'counter.incremented': (event) => {
        this.count += event.data.by;
      },
    });
  }

  increment(by = 1): void {
    next(this, 'counter.incremented', { by });
  }
}

/** Stored-looking events of a product: created, then priced `prices.length` times. */
export function productHistory(
  id: string = uuidv7(),
  prices: readonly number[] = [100, 200],
  start: Nanos = 1_700_000_000_000_000_000n,
): Event[] {
  const aggregate = (version: number) => ({ name: 'product', id, version });
  return [
    createEvent(
      'product.created',
      { sku: 'SKU-1', name: 'Chair' },
      { aggregate: aggregate(1), time: start },
    ),
    ...prices.map((cents, i) =>
      createEvent(
        'product.priced',
        { cents },
        { aggregate: aggregate(i + 2), time: start + BigInt(i + 1) },
      ),
    ),
  ];
}

/** The error `fn` throws (undefined when it returns). */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}
