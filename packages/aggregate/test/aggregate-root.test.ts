import { createEvent, isGoesError, NIL_UUID, nowNanos, uuidv7 } from '@goes/event';
import { describe, expect, it } from '@jest/globals';
import {
  AggregateRoot,
  applyHistory,
  isUnknownEventError,
  next,
  refOf,
  type UncommittedChangesError,
  UnknownEventError,
} from '../src/index.js';
import { Counter, Product, type ProductEvents, productHistory, thrown } from './product.js';

describe('AggregateRoot', () => {
  it('has a name, an id, version 0 and no changes when new', () => {
    const id = uuidv7();
    const product = new Product(id);
    expect(product.aggregateName).toBe('product');
    expect(product.id).toBe(id);
    expect(product.version).toBe(0);
    expect(product.currentVersion).toBe(0);
    expect(product.changes).toEqual([]);
    expect(product.softDeleted).toBe(false);
    expect(product.lastEventTime).toBeUndefined();
    expect(product.ref).toEqual({ name: 'product', id });
    expect(refOf(product)).toEqual({ name: 'product', id });
  });

  it('refuses an empty name and an id that is not a lowercase UUID, naming the value', () => {
    class Named extends AggregateRoot<{ x: null }> {}
    expect(() => new Named('', uuidv7())).toThrow(/aggregate name ""/);
    const error = thrown(() => new Named('thing', 'ABC'));
    expect(isGoesError(error, 'INVALID_ARGUMENT')).toBe(true);
    expect(String(error)).toContain('"ABC"');
    expect(() => new Named('thing', uuidv7().toUpperCase())).toThrow(/not a lowercase UUID/);
    expect(new Named('thing', NIL_UUID).id).toBe(NIL_UUID);
  });

  it('lets a subclass have a domain field called name without colliding with the aggregate name', () => {
    const product = new Product(uuidv7());
    product.create('A-1', 'Table');
    expect(product.name).toBe('Table');
    expect(product.aggregateName).toBe('product');
  });

  it('refuses a second applyWith call', () => {
    class Twice extends AggregateRoot<{ x: null }> {
      constructor() {
        super('twice', uuidv7());
        this.applyWith({ x: () => {} });
        this.applyWith({ x: () => {} });
      }
    }
    expect(() => new Twice()).toThrow(/already registered/);
  });

  it('throws UnknownEventError for an event without applier, and hints at applyWith when none are registered', () => {
    const product = new Product(uuidv7());
    const foreign = createEvent('order.placed', {});
    const error = thrown(() => product.applyEvent(foreign)) as UnknownEventError;
    expect(error).toBeInstanceOf(UnknownEventError);
    expect(isUnknownEventError(error)).toBe(true);
    expect(error?.code).toBe('UNKNOWN_EVENT');
    expect(error?.eventName).toBe('order.placed');
    expect(error?.message).toContain('"order.placed"');

    class Forgetful extends AggregateRoot<{ x: null }> {}
    expect(() => new Forgetful('f', uuidv7()).applyEvent(createEvent('x', null))).toThrow(
      /call applyWith\(\) in the constructor/,
    );
  });

  it('tracks soft delete and restore events as they are applied', () => {
    const product = new Product(uuidv7());
    product.create('A', 'Chair');
    expect(product.softDeleted).toBe(false);
    product.discontinue();
    expect(product.softDeleted).toBe(true);
    product.price(5);
    expect(product.softDeleted).toBe(true);
    product.relist();
    expect(product.softDeleted).toBe(false);
  });

  it('commits: the version becomes the last change version and the changes empty', () => {
    const product = new Product(uuidv7());
    product.create('A', 'Chair');
    product.price(10);
    expect(product.currentVersion).toBe(2);
    product.commit();
    expect(product.version).toBe(2);
    expect(product.changes).toEqual([]);
    product.commit();
    expect(product.version).toBe(2);
  });

  it('refuses setVersion while there are changes, and bad versions', () => {
    const product = new Product(uuidv7());
    expect(() => product.setVersion(-1)).toThrow(/non-negative integer/);
    expect(() => product.setVersion(1.5)).toThrow(/non-negative integer/);
    product.create('A', 'Chair');
    const error = thrown(() => product.setVersion(3)) as UncommittedChangesError;
    expect(error?.code).toBe('UNCOMMITTED_CHANGES');
    expect(error?.changes).toBe(1);
  });
});

describe('next', () => {
  it('applies at once, records the change, and numbers versions from the committed version', () => {
    const id = uuidv7();
    const product = new Product(id);
    applyHistory(product, productHistory(id, [100]));
    expect(product.version).toBe(2);
    const priced = next(product, 'product.priced', { cents: 300 });
    expect(product.cents).toBe(300);
    expect(priced.aggregate).toEqual({ name: 'product', id, version: 3 });
    expect(priced.data.cents).toBe(300);
    const again = next(product, 'product.priced', { cents: 400 });
    expect(again.aggregate.version).toBe(4);
    expect(product.changes.map((e) => e.aggregate?.version)).toEqual([3, 4]);
    expect(product.version).toBe(2);
    expect(product.currentVersion).toBe(4);
  });

  it('makes times strictly increasing, even after an event from a clock far ahead', () => {
    const id = uuidv7();
    const product = new Product(id);
    const future = nowNanos() + 3_600_000_000_000n;
    applyHistory(product, productHistory(id, [], future));
    const events = Array.from({ length: 50 }, (_, i) =>
      next(product, 'product.priced', { cents: i }),
    );
    expect(events[0]?.time).toBe(future + 1n);
    for (let i = 1; i < events.length; i++) {
      expect((events[i]?.time as bigint) > (events[i - 1]?.time as bigint)).toBe(true);
    }
  });

  it('uses the clock when it is ahead, and honours an explicit id and time', () => {
    const product = new Product(uuidv7());
    const before = nowNanos();
    const created = next(product, 'product.created', { sku: 'A', name: 'B' });
    expect(created.time > before).toBe(true);
    const id = uuidv7();
    const priced = next(product, 'product.priced', { cents: 1 }, { id, time: 42n });
    expect(priced.id).toBe(id);
    expect(priced.time).toBe(42n);
  });

  it('does not record the event when the applier throws', () => {
    class Picky extends AggregateRoot<{ 'picky.set': { n: number } }> {
      constructor() {
        super('picky', uuidv7());
        this.applyWith({
          'picky.set': (event) => {
            if (event.data.n < 0) throw new Error('negative');
          },
        });
      }
    }
    const picky = new Picky();
    expect(() => next(picky, 'picky.set', { n: -1 })).toThrow('negative');
    expect(picky.changes).toHaveLength(0);
    next(picky, 'picky.set', { n: 1 });
    expect(picky.changes).toHaveLength(1);
  });

  it('types names and data from the event map', () => {
    const product = new Product(uuidv7());
    const counter = new Counter(uuidv7());
    // @ts-expect-error: not an event of the product
    expect(() => next(product, 'counter.incremented', { by: 1 })).toThrow(UnknownEventError);
    // @ts-expect-error: cents must be a number
    next(product, 'product.priced', { cents: 'ten' });
    counter.increment(2);
    expect(counter.count).toBe(2);
  });

  it('makes a missing applier a type error', () => {
    class Incomplete extends AggregateRoot<ProductEvents> {
      constructor() {
        super('incomplete', uuidv7());
        // @ts-expect-error: 'product.discontinued' and 'product.relisted' have no applier
        this.applyWith({ 'product.created': () => {}, 'product.priced': () => {} });
      }
    }
    const incomplete = new Incomplete();
    expect(() => incomplete.applyEvent(createEvent('product.discontinued', {}))).toThrow(
      UnknownEventError,
    );
  });
});
