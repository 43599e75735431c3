import { AggregateRoot, next, type SnapshotHooks } from '@goes/aggregate';
import { CommandError, type CommandHandlerMap, type CommandSpec } from '@goes/command';
import type { Event, EventQuery, EventStore, SignalOptions } from '@goes/event';

export type ProductEvents = {
  'product.created': { sku: string; name: string };
  'product.priced': { cents: number };
  'product.stocked': { units: number };
  'product.discontinued': Record<string, never>;
  'product.relisted': Record<string, never>;
};

/** The commands a Product handles: each name fixes its payload and its result. */
export type ProductCommands = {
  'product.create': CommandSpec<{ sku: string; name: string }, void>;
  /** Resolves to the price before the change. */
  'product.price': CommandSpec<{ cents: number }, { previous: number }>;
  /** Resolves to the stock after the change. */
  'product.restock': CommandSpec<{ units: number }, { stock: number }>;
  'product.discontinue': CommandSpec<Record<string, never>, void>;
};

export interface ProductState {
  readonly sku: string;
  readonly name: string;
  readonly cents: number;
  readonly stock: number;
}

/** The seed's Product aggregate. `stock` accumulates, so a re-applied event would show. */
export class Product extends AggregateRoot<ProductEvents> implements SnapshotHooks<ProductState> {
  sku = '';
  name = '';
  cents = 0;
  stock = 0;
  /** Events applied to this instance, in order (snapshot restores apply none). */
  readonly applied: string[] = [];

  /** The commands this aggregate handles (run through a repository by handleAggregateCommands). */
  static readonly commands: CommandHandlerMap<ProductCommands, Product> = {
    'product.create': (product, { payload }) => product.create(payload.sku, payload.name),
    'product.price': (product, { payload }) => {
      if (payload.cents < 0) {
        throw new CommandError('NEGATIVE_PRICE', `a price cannot be negative: ${payload.cents}`, {
          details: { cents: payload.cents },
        });
      }
      const previous = product.cents;
      product.price(payload.cents);
      return { previous };
    },
    'product.restock': (product, { payload }) => {
      product.restock(payload.units);
      return { stock: product.stock };
    },
    'product.discontinue': (product) => product.discontinue(),
  };

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
      'product.stocked': (event) => {
        this.stock += event.data.units;
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
    if (this.version > 0 || this.changes.length > 0) throw new Error(`product ${this.id} exists`);
    next(this, 'product.created', { sku, name });
  }

  price(cents: number): void {
    if (this.version === 0 && this.changes.length === 0)
      throw new Error(`product ${this.id} does not exist`);
    if (cents < 0) throw new RangeError(`negative price ${cents}`);
    next(this, 'product.priced', { cents });
  }

  restock(units: number): void {
    next(this, 'product.stocked', { units });
  }

  discontinue(): void {
    next(this, 'product.discontinued', {});
  }

  relist(): void {
    next(this, 'product.relisted', {});
  }

  snapshotState(): ProductState {
    return { sku: this.sku, name: this.name, cents: this.cents, stock: this.stock };
  }

  restoreSnapshot(state: ProductState): void {
    if (typeof state?.sku !== 'string' || typeof state.stock !== 'number') {
      throw new Error(`not a product state: ${JSON.stringify(state)}`);
    }
    this.sku = state.sku;
    this.name = state.name;
    this.cents = state.cents;
    this.stock = state.stock;
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

/**
 * A store decorator that records the calls made to the real store underneath and can rewrite
 * what a query returns (fault injection: a broken backend returning foreign events).
 */
export function observe(
  store: EventStore,
  rewrite?: (events: Event[], q: EventQuery) => Event[],
): EventStore & { calls: { insert: number; delete: number; query: number; deleted: number } } {
  const calls = { insert: 0, delete: 0, query: 0, deleted: 0 };
  return {
    calls,
    insert(events: readonly Event[], options?: SignalOptions) {
      calls.insert++;
      return store.insert(events, options);
    },
    find: (id, options) => store.find(id, options),
    query(q: EventQuery, options?: SignalOptions) {
      calls.query++;
      const source = store.query(q, options);
      if (!rewrite) return source;
      return {
        async *[Symbol.asyncIterator]() {
          const events: Event[] = [];
          for await (const event of source) events.push(event);
          yield* rewrite(events, q);
        },
      };
    },
    delete(events, options) {
      calls.delete++;
      calls.deleted += events.length;
      return store.delete(events, options);
    },
    close: () => store.close(),
    [Symbol.asyncDispose]: () => store.close(),
  };
}
