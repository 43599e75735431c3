import {
  createMemorySnapshotStore,
  createSnapshot,
  isConsistencyError,
  isUnknownEventError,
  next,
  SnapshotCorruptError,
  snapshotEvery,
} from '@goes/aggregate';
import { createRegistry } from '@goes/codec';
import {
  createEvent,
  createMemoryEventStore,
  type Event,
  isGoesError,
  query,
  uuidv7,
} from '@goes/event';
import { drain } from '@goes/streams';
import { describe, expect, it } from '@jest/globals';
import { createRepository } from '../src/index.js';
import { observe, Product } from './fixtures.js';

async function seeded(prices: number[] = [1, 2, 3]) {
  const store = createMemoryEventStore();
  const repository = createRepository({ store });
  const products = repository.typed((id) => new Product(id));
  const id = uuidv7();
  await products.use(id, (p) => {
    p.create('SKU', 'Lamp');
    for (const cents of prices) p.price(cents);
  });
  return { store, repository, products, id };
}

const eventsOf = (store: ReturnType<typeof createMemoryEventStore>, id: string) =>
  drain(store.query(query().aggregate('product', id)));

describe('bad input while reading', () => {
  it('answers a stored event of another aggregate in a history with a ConsistencyError (kind id)', async () => {
    const { store, id } = await seeded();
    const foreignId = uuidv7();
    const foreign = createEvent(
      'product.priced',
      { cents: 666 },
      {
        aggregate: { name: 'product', id: foreignId, version: 3 },
      },
    );
    // A broken backend returns another aggregate's event in the middle of this one's history.
    const broken = observe(store, (events) => [...events.slice(0, 2), foreign, ...events.slice(3)]);
    const products = createRepository({ store: broken }).typed((i) => new Product(i));
    const error = await products.fetch(id).catch((e: unknown) => e);
    expect(isConsistencyError(error)).toBe(true);
    expect(error).toMatchObject({ kind: 'id', index: 2, aggregate: { name: 'product', id } });
    expect(String(error)).toContain(foreignId);
    expect(await eventsOf(store, id)).toHaveLength(4);
  });

  it('answers a version gap with a ConsistencyError (kind version)', async () => {
    const { store, products, id } = await seeded();
    const [, v2] = await eventsOf(store, id);
    await store.delete([v2 as Event]);
    const error = await products.fetch(id).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'AGGREGATE_INCONSISTENT', kind: 'version', index: 1 });
    expect(String(error)).toContain('has version 3, want 2');
    const use = await products.use(id, (p) => p.price(9)).catch((e: unknown) => e);
    expect(isConsistencyError(use)).toBe(true);
    expect((await eventsOf(store, id)).map((e) => e.aggregate?.version)).toEqual([1, 3, 4]);
  });

  it('answers an event with an unknown name with UnknownEventError', async () => {
    const { store, products, id } = await seeded([]);
    await store.insert([
      createEvent(
        'product.renamed',
        { name: 'x' },
        { aggregate: { name: 'product', id, version: 2 } },
      ),
    ]);
    const error = await products.fetch(id).catch((e: unknown) => e);
    expect(isUnknownEventError(error)).toBe(true);
    expect(error).toMatchObject({
      eventName: 'product.renamed',
      aggregate: { name: 'product', id },
    });
    await expect(products.use(id, (p) => p.price(1))).rejects.toMatchObject({
      code: 'UNKNOWN_EVENT',
    });
    expect(await eventsOf(store, id)).toHaveLength(2);
  });

  it('answers a corrupt snapshot with SnapshotCorruptError and changes nothing stored', async () => {
    const store = createMemoryEventStore();
    const snapshots = createMemorySnapshotStore();
    const products = createRepository({
      store,
      snapshots: { store: snapshots, schedule: snapshotEvery(2) },
    }).typed((id) => new Product(id));
    const id = uuidv7();
    await products.use(id, (p) => {
      p.create('A', 'B');
      p.price(5);
    });
    const snapshot = await snapshots.latest('product', id);
    await snapshots.save({ ...snapshot, state: 'not json at all' });
    const error = await products.fetch(id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SnapshotCorruptError);
    expect(String(error)).toContain('version 2');
    await expect(products.use(id, (p) => p.price(6))).rejects.toBeInstanceOf(SnapshotCorruptError);
    expect(await eventsOf(store, id)).toHaveLength(2);
  });

  it('answers undecodable stored data with the codec error, naming the event', async () => {
    const codec = createRegistry({ strict: true })
      .register('product.created')
      .register('product.priced', {
        decode: () => {
          throw new Error('bad bytes');
        },
      });
    const store = createMemoryEventStore({ codec });
    const products = createRepository({ store }).typed((id) => new Product(id));
    const id = uuidv7();
    await products.use(id, (p) => {
      p.create('A', 'B');
      p.price(5);
    });
    const error = await products.fetch(id).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CODEC_DECODE_FAILED', dataName: 'product.priced' });
  });

  it('refuses malformed ids before touching the store', async () => {
    const store = observe(createMemoryEventStore());
    const products = createRepository({ store }).typed((id) => new Product(id));
    for (const id of ['', 'abc', uuidv7().toUpperCase(), "x'; DROP TABLE events; --"]) {
      const error = await products.fetch(id).catch((e: unknown) => e);
      expect(isGoesError(error, 'INVALID_ARGUMENT')).toBe(true);
      expect(String(error)).toContain(JSON.stringify(id));
    }
    expect(store.calls.query).toBe(0);
  });
});

describe('nothing saved half', () => {
  it('stores nothing of changes that do not continue the aggregate', async () => {
    const { store, repository, id } = await seeded([1]);
    const product = await repository.fetch(new Product(id));
    product.price(2);
    product.recordChange(
      createEvent(
        'product.priced',
        { cents: 3 },
        { aggregate: { name: 'product', id: uuidv7(), version: 4 } },
      ),
    );
    const error = await repository.save(product).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'AGGREGATE_INCONSISTENT', kind: 'id', index: 1 });
    expect(await eventsOf(store, id)).toHaveLength(2);
    expect(product.version).toBe(2);
    expect(product.changes).toHaveLength(2);
  });

  it('stores nothing of changes with a gap or a time that goes backwards', async () => {
    const { store, repository, id } = await seeded([1]);
    const gap = await repository.fetch(new Product(id));
    gap.price(2);
    gap.recordChange(
      createEvent(
        'product.priced',
        { cents: 3 },
        { aggregate: { name: 'product', id, version: 5 } },
      ),
    );
    await expect(repository.save(gap)).rejects.toMatchObject({ kind: 'version' });
    const backwards = await repository.fetch(new Product(id));
    const first = next(backwards, 'product.priced', { cents: 2 });
    next(backwards, 'product.priced', { cents: 3 }, { time: first.time - 1n });
    await expect(repository.save(backwards)).rejects.toMatchObject({ kind: 'time', index: 1 });
    expect(await eventsOf(store, id)).toHaveLength(2);
  });

  it('stores nothing of a batch the store refuses half-way, and the aggregate keeps its changes', async () => {
    const { store, repository, id } = await seeded([1]);
    const product = await repository.fetch(new Product(id));
    const existing = (await eventsOf(store, id))[0] as Event;
    product.price(2);
    next(product, 'product.priced', { cents: 3 }, { id: existing.id });
    const error = await repository.save(product).catch((e: unknown) => e);
    expect(isGoesError(error, 'DUPLICATE_EVENT')).toBe(true);
    expect(await eventsOf(store, id)).toHaveLength(2);
    expect(product.version).toBe(2);
    expect(product.changes).toHaveLength(2);
  });

  it('stores nothing when the action of use throws', async () => {
    const { store, products, id } = await seeded([1]);
    await expect(
      products.use(id, (p) => {
        p.price(2);
        p.price(-1);
      }),
    ).rejects.toThrow(RangeError);
    expect(await eventsOf(store, id)).toHaveLength(2);
  });

  it('stores nothing when a snapshot is due for data the snapshot codec cannot encode... only the snapshot is lost', async () => {
    const store = createMemoryEventStore();
    const failures: unknown[] = [];
    const codec = createRegistry().register('product', {
      encode: () => {
        throw new Error('cannot encode');
      },
    });
    const products = createRepository({
      store,
      snapshots: {
        store: createMemorySnapshotStore(),
        schedule: snapshotEvery(1),
        codec,
        onSaveError: (e) => failures.push(e),
      },
    }).typed((id) => new Product(id));
    const id = uuidv7();
    const product = await products.use(id, (p) => p.create('A', 'B'));
    expect(product.version).toBe(1);
    expect(await eventsOf(store, id)).toHaveLength(1);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ code: 'SNAPSHOT_ENCODE_FAILED' });
    expect(() => createSnapshot(product, { codec })).toThrow(/cannot encode/);
  });
});
