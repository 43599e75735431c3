import { createRegistry } from '@goes/codec';
import { isGoesError, nowNanos, uuidv7 } from '@goes/event';
import { drain } from '@goes/streams';
import { describe, expect, it } from '@jest/globals';
import {
  AggregateRoot,
  applyHistory,
  applySnapshot,
  cleanupSnapshots,
  createMemorySnapshotStore,
  createSnapshot,
  next,
  type Snapshot,
  SnapshotCorruptError,
  SnapshotEncodeError,
  SnapshotUnsupportedError,
  snapshotEvery,
  startSnapshotCleanup,
  supportsSnapshots,
  UncommittedChangesError,
  validateSnapshot,
} from '../src/index.js';
import { Counter, Product, productHistory, thrown } from './product.js';

function loadedProduct(prices: number[] = [100, 200]): Product {
  const id = uuidv7();
  const product = new Product(id);
  applyHistory(product, productHistory(id, prices));
  return product;
}

describe('createSnapshot / applySnapshot', () => {
  it('round-trips the state, the committed version and the soft-delete flag', () => {
    const product = loadedProduct();
    product.discontinue();
    product.commit();
    const time = nowNanos();
    const snapshot = createSnapshot(product, { time });
    expect(snapshot).toEqual({
      aggregateName: 'product',
      aggregateId: product.id,
      version: 4,
      time,
      state: JSON.stringify({ sku: 'SKU-1', name: 'Chair', cents: 200 }),
      softDeleted: true,
    });
    const restored = new Product(product.id);
    applySnapshot(restored, snapshot);
    expect(restored.version).toBe(4);
    expect(restored.cents).toBe(200);
    expect(restored.name).toBe('Chair');
    expect(restored.softDeleted).toBe(true);
    expect(restored.applied).toEqual([]);
  });

  it('raises events after the last snapshotted event, even when it was written by a clock ahead', () => {
    const id = uuidv7();
    const ahead = nowNanos() + 3_600_000_000_000n;
    const product = new Product(id);
    applyHistory(product, productHistory(id, [100], ahead));
    const snapshot = createSnapshot(product);
    expect(snapshot.time).toBeGreaterThanOrEqual(ahead + 1n);
    const restored = new Product(id);
    applySnapshot(restored, snapshot);
    const raised = next(restored, 'product.priced', { cents: 5 });
    expect(raised.time).toBeGreaterThan(ahead + 1n);
  });

  it('refuses to snapshot an aggregate with uncommitted changes', () => {
    const product = loadedProduct();
    product.price(1);
    expect(() => createSnapshot(product)).toThrow(UncommittedChangesError);
  });

  it('never stores an empty state for an aggregate without hooks (goes bug 40)', () => {
    const counter = new Counter(uuidv7());
    expect(supportsSnapshots(counter)).toBe(false);
    expect(supportsSnapshots(new Product(uuidv7()))).toBe(true);
    const error = thrown(() => createSnapshot(counter));
    expect(error).toBeInstanceOf(SnapshotUnsupportedError);
    expect(String(error)).toContain('snapshotState()');
    const snapshot = createSnapshot(loadedProduct());
    const target = new Counter(uuidv7());
    expect(() =>
      applySnapshot(target, { ...snapshot, aggregateName: 'counter', aggregateId: target.id }),
    ).toThrow(SnapshotUnsupportedError);
  });

  it('wraps a codec that cannot encode the state in SnapshotEncodeError', () => {
    class Big extends AggregateRoot<{ 'big.set': { n: number } }> {
      n = 0n;
      constructor() {
        super('big', uuidv7());
        this.applyWith({ 'big.set': () => {} });
      }
      snapshotState() {
        return { n: this.n };
      }
      restoreSnapshot() {}
    }
    const error = thrown(() => createSnapshot(new Big()));
    expect(error).toBeInstanceOf(SnapshotEncodeError);
    expect((error as SnapshotEncodeError).code).toBe('SNAPSHOT_ENCODE_FAILED');
  });

  it('answers a corrupt state with SnapshotCorruptError and leaves the version alone', () => {
    const snapshot = createSnapshot(loadedProduct());
    const target = new Product(snapshot.aggregateId);
    const error = thrown(() => applySnapshot(target, { ...snapshot, state: '{not json' }));
    expect(error).toBeInstanceOf(SnapshotCorruptError);
    expect(error).toMatchObject({ code: 'SNAPSHOT_CORRUPT', version: 3 });
    expect(target.version).toBe(0);
    const refused = thrown(() => applySnapshot(target, { ...snapshot, state: '{"sku":1}' }));
    expect(refused).toBeInstanceOf(SnapshotCorruptError);
    expect(String(refused)).toContain('not a product state');
    expect(target.version).toBe(0);
  });

  it('validates decoded states with a schema registered in the snapshot codec', () => {
    const codec = createRegistry().register('product', {
      schema: {
        '~standard': {
          version: 1,
          vendor: 'test',
          validate: (value: unknown) =>
            typeof value === 'object' &&
            value !== null &&
            'cents' in value &&
            (value as { cents: number }).cents >= 0
              ? { value }
              : { issues: [{ message: 'cents must be >= 0' }] },
        },
      },
    });
    const product = loadedProduct([5]);
    const snapshot = createSnapshot(product, { codec });
    const bad = { ...snapshot, state: JSON.stringify({ sku: 'x', name: 'y', cents: -1 }) };
    expect(() => applySnapshot(new Product(product.id), bad, { codec })).toThrow(
      /cents must be >= 0/,
    );
    const good = new Product(product.id);
    applySnapshot(good, snapshot, { codec });
    expect(good.cents).toBe(5);
  });

  it('refuses a snapshot of another aggregate and an aggregate with changes', () => {
    const snapshot = createSnapshot(loadedProduct());
    expect(() => applySnapshot(new Product(uuidv7()), snapshot)).toThrow(/cannot restore/);
    const dirty = new Product(snapshot.aggregateId);
    dirty.create('a', 'b');
    expect(() => applySnapshot(dirty, snapshot)).toThrow(UncommittedChangesError);
  });

  it('validates snapshot shapes for stores', () => {
    const snapshot = createSnapshot(loadedProduct());
    expect(() => validateSnapshot(snapshot)).not.toThrow();
    const bad: [Partial<Record<keyof Snapshot, unknown>>, RegExp][] = [
      [{ aggregateName: '' }, /aggregate name/],
      [{ aggregateId: 'x' }, /not a lowercase UUID/],
      [{ version: -1 }, /version -1/],
      [{ time: 5 }, /bigint/],
      [{ state: {} }, /state must be a string/],
      [{ softDeleted: 'no' }, /softDeleted/],
    ];
    for (const [patch, message] of bad) {
      const error = thrown(() => validateSnapshot({ ...snapshot, ...patch } as Snapshot));
      expect(isGoesError(error, 'INVALID_ARGUMENT')).toBe(true);
      expect(String(error)).toMatch(message);
    }
  });
});

describe('snapshotEvery', () => {
  function at(version: number, changes: number) {
    const counter = new Counter(uuidv7());
    counter.setVersion(version);
    for (let i = 0; i < changes; i++) counter.increment();
    return counter;
  }

  it('triggers when a save reaches or crosses a multiple of n (goes Every)', () => {
    const every = snapshotEvery(3);
    expect(every.shouldSnapshot(at(0, 2))).toBe(false);
    expect(every.shouldSnapshot(at(0, 3))).toBe(true);
    expect(every.shouldSnapshot(at(2, 1))).toBe(true);
    expect(every.shouldSnapshot(at(2, 5))).toBe(true);
    expect(every.shouldSnapshot(at(3, 2))).toBe(false);
    expect(every.shouldSnapshot(at(3, 0))).toBe(false);
    expect(every.shouldSnapshot(at(5, 10))).toBe(true);
    expect(snapshotEvery(1).shouldSnapshot(at(7, 1))).toBe(true);
  });

  it('can be limited to some aggregate names', () => {
    expect(snapshotEvery(1, { names: ['product'] }).shouldSnapshot(at(0, 1))).toBe(false);
    expect(snapshotEvery(1, { names: ['counter'] }).shouldSnapshot(at(0, 1))).toBe(true);
  });

  it('refuses n that is not a positive integer', () => {
    for (const n of [0, -1, 1.5, Number.NaN])
      expect(() => snapshotEvery(n)).toThrow(/positive integer/);
  });
});

describe('cleanupSnapshots', () => {
  const hour = 3_600_000_000_000n;

  async function seed() {
    const store = createMemorySnapshotStore();
    const now = nowNanos();
    const product = loadedProduct();
    const id = product.id;
    const snap = (version: number, age: bigint): Snapshot => ({
      ...createSnapshot(product),
      version,
      time: now - age,
    });
    await store.save(snap(1, 5n * hour));
    await store.save(snap(2, 3n * hour));
    await store.save(snap(3, 1n * hour));
    const other = loadedProduct();
    await store.save({ ...createSnapshot(other), time: now - 10n * hour });
    return { store, now, id, other: other.id };
  }

  it('deletes snapshots older than maxAge but keeps each aggregate latest by default', async () => {
    const { store, now, id, other } = await seed();
    expect(await cleanupSnapshots(store, { maxAgeMs: 2 * 3_600_000, now })).toBe(2);
    const left = await drain(store.query({}));
    expect(left.map((s) => [s.aggregateId, s.version])).toEqual(
      [
        [id, 3],
        [other, 3],
      ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
  });

  it('deletes the latest too with keepLatest: false (goes semantics)', async () => {
    const { store, now, id } = await seed();
    expect(await cleanupSnapshots(store, { maxAgeMs: 2 * 3_600_000, now, keepLatest: false })).toBe(
      3,
    );
    expect((await drain(store.query({}))).map((s) => [s.aggregateId, s.version])).toEqual([
      [id, 3],
    ]);
  });

  it('refuses a bad maxAge', async () => {
    const store = createMemorySnapshotStore();
    await expect(cleanupSnapshots(store, { maxAgeMs: -1 })).rejects.toThrow(/maxAgeMs -1/);
  });

  it('runs periodically until closed, reporting each run', async () => {
    const { store } = await seed();
    const runs: number[] = [];
    let resolveRun: () => void = () => {};
    const ran = new Promise<void>((resolve) => {
      resolveRun = resolve;
    });
    const job = startSnapshotCleanup(store, {
      everyMs: 5,
      maxAgeMs: 2 * 3_600_000,
      onRun: (deleted) => {
        runs.push(deleted);
        resolveRun();
      },
    });
    await ran;
    await job.close();
    expect(runs[0]).toBe(2);
    expect(() => startSnapshotCleanup(store, { everyMs: 0, maxAgeMs: 1 })).toThrow(/everyMs 0/);
  });

  it('reports failed runs to onError and keeps running', async () => {
    const store = createMemorySnapshotStore();
    await store.close();
    const errors: unknown[] = [];
    let resolveTwice: () => void = () => {};
    const twice = new Promise<void>((resolve) => {
      resolveTwice = resolve;
    });
    const job = startSnapshotCleanup(store, {
      everyMs: 1,
      maxAgeMs: 0,
      onError: (error) => {
        errors.push(error);
        if (errors.length === 2) resolveTwice();
      },
    });
    await twice;
    await job[Symbol.asyncDispose]();
    expect(isGoesError(errors[0], 'CLOSED')).toBe(true);
  });
});

describe('next + snapshots', () => {
  it('raises after a restored snapshot like after a history', () => {
    const product = loadedProduct();
    const restored = new Product(product.id);
    applySnapshot(restored, createSnapshot(product));
    const event = next(restored, 'product.priced', { cents: 7 });
    expect(event.aggregate.version).toBe(4);
  });
});
