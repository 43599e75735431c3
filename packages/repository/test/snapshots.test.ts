import {
  createMemorySnapshotStore,
  createSnapshot,
  SnapshotCorruptError,
  type SnapshotStore,
  SnapshotUnsupportedError,
  snapshotEvery,
} from '@goes/aggregate';
import { createRegistry } from '@goes/codec';
import { createMemoryEventStore, type Event, query, uuidv7 } from '@goes/event';
import { drain } from '@goes/streams';
import { describe, expect, it } from '@jest/globals';
import { AggregateDeletedError, createRepository } from '../src/index.js';
import { Counter, observe, Product } from './fixtures.js';

function setup(every = 10) {
  const store = observe(createMemoryEventStore());
  const snapshots = createMemorySnapshotStore();
  const repository = createRepository({
    store,
    snapshots: { store: snapshots, schedule: snapshotEvery(every) },
  });
  return { store, snapshots, repository, products: repository.typed((id) => new Product(id)) };
}

async function grow(
  products: ReturnType<typeof setup>['products'],
  id: string,
  restocks: number,
  perSave = 1,
) {
  await products.use(id, (p) => p.create('SKU', 'Shelf'));
  for (let done = 0; done < restocks; done += perSave) {
    await products.use(id, (p) => {
      for (let i = 0; i < perSave && done + i < restocks; i++) p.restock(1);
    });
  }
}

const versions = async (snapshots: SnapshotStore, id: string) =>
  (await drain(snapshots.query({ ids: [id] }))).map((s) => s.version);

describe('repository snapshots', () => {
  it('takes a snapshot when a save reaches or crosses a multiple of the schedule', async () => {
    const { snapshots, products } = setup(10);
    const id = uuidv7();
    await grow(products, id, 24);
    expect(await versions(snapshots, id)).toEqual([10, 20]);
    const jumpy = uuidv7();
    await grow(products, jumpy, 26, 7);
    expect(await versions(snapshots, jumpy)).toEqual([15, 22]);
  });

  it('fetches from the newest snapshot and applies only the later events', async () => {
    const { snapshots, products } = setup(10);
    const id = uuidv7();
    await grow(products, id, 24);
    const product = await products.fetch(id);
    expect(product).toMatchObject({ version: 25, stock: 24, sku: 'SKU' });
    expect(product.applied).toHaveLength(5);
    expect(await versions(snapshots, id)).toEqual([10, 20]);
    const fresh = setup(10);
    const plain = createRepository({ store: fresh.store }).typed((i) => new Product(i));
    const other = uuidv7();
    await grow(plain, other, 24);
    expect((await plain.fetch(other)).applied).toHaveLength(25);
  });

  it('fetches a version from the newest snapshot at or below it', async () => {
    const { products } = setup(10);
    const id = uuidv7();
    await grow(products, id, 24);
    const at15 = await products.fetchVersion(id, 15);
    expect(at15).toMatchObject({ version: 15, stock: 14 });
    expect(at15.applied).toHaveLength(5);
    const at5 = await products.fetchVersion(id, 5);
    expect(at5).toMatchObject({ version: 5, stock: 4 });
    expect(at5.applied).toHaveLength(5);
  });

  it('refreshes a loaded aggregate from a newer snapshot', async () => {
    const { products } = setup(10);
    const id = uuidv7();
    await grow(products, id, 3);
    const loaded = await products.fetch(id);
    await grow(products, uuidv7(), 0);
    for (let i = 0; i < 20; i++) await products.use(id, (p) => p.restock(1));
    await products.refresh(loaded);
    expect(loaded).toMatchObject({ version: 24, stock: 23 });
    expect(loaded.applied).toHaveLength(4 + 4);
  });

  it('still reports a soft delete older than the snapshot (goes bug 10)', async () => {
    const { snapshots, products } = setup(5);
    const id = uuidv7();
    await grow(products, id, 3);
    // One save: the delete event at version 5, another event at 6; the snapshot is taken at 6.
    await products.use(id, (p) => {
      p.discontinue();
      p.restock(1);
    });
    expect(await versions(snapshots, id)).toEqual([6]);
    expect((await snapshots.latest('product', id)).softDeleted).toBe(true);
    const error = await products.fetch(id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AggregateDeletedError);
    expect(error).toMatchObject({ version: 6 });
    await expect(products.fetchVersion(id, 6)).rejects.toBeInstanceOf(AggregateDeletedError);
    await expect(products.fetchVersion(id, 4)).resolves.toMatchObject({ version: 4, stock: 3 });
    const all = await drain(products.query({}, { includeSoftDeleted: true }));
    expect(all.map((p) => p.softDeleted)).toEqual([true]);
    expect(await drain(products.query())).toEqual([]);
  });

  it('loads a restored aggregate whose snapshot was taken while it was deleted', async () => {
    const { snapshots, repository, products } = setup(2);
    const id = uuidv7();
    await products.use(id, (p) => {
      p.create('A', 'B');
      p.discontinue();
    });
    expect((await snapshots.latest('product', id)).softDeleted).toBe(true);
    const deleted = new Product(id);
    await expect(repository.fetch(deleted)).rejects.toBeInstanceOf(AggregateDeletedError);
    deleted.relist();
    await repository.save(deleted);
    const product = await products.fetch(id);
    expect(product).toMatchObject({ version: 3, softDeleted: false, sku: 'A' });
    expect(product.applied).toEqual(['product.relisted']);
  });

  it('answers a corrupt snapshot with SnapshotCorruptError', async () => {
    const { snapshots, products } = setup(100);
    const id = uuidv7();
    await grow(products, id, 3);
    const good = createSnapshot(await products.fetch(id));
    await snapshots.save({ ...good, state: '{"sku": ' });
    const error = await products.fetch(id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SnapshotCorruptError);
    expect(error).toMatchObject({
      code: 'SNAPSHOT_CORRUPT',
      version: 4,
      aggregate: { name: 'product', id },
    });
    await snapshots.save({ ...good, state: JSON.stringify({ nope: true }) });
    await expect(products.fetch(id)).rejects.toThrow(/not a product state/);
  });

  it('refuses to save an aggregate the schedule picks but that cannot be snapshotted, before storing anything', async () => {
    const { store, repository } = setup(1);
    const counter = new Counter(uuidv7());
    counter.increment();
    await expect(repository.save(counter)).rejects.toBeInstanceOf(SnapshotUnsupportedError);
    expect(store.calls.insert).toBe(0);
    expect(counter.changes).toHaveLength(1);
    const limited = createRepository({
      store,
      snapshots: {
        store: createMemorySnapshotStore(),
        schedule: snapshotEvery(1, { names: ['product'] }),
      },
    });
    await limited.save(counter);
    expect((await limited.fetch(new Counter(counter.id))).count).toBe(1);
  });

  it('reports a failed snapshot save but keeps the save successful', async () => {
    const store = createMemoryEventStore();
    const snapshots = createMemorySnapshotStore();
    const failures: [unknown, string][] = [];
    const repository = createRepository({
      store,
      snapshots: {
        store: {
          save: () => Promise.reject(new Error('disk full')),
          latest: (name, id, o) => snapshots.latest(name, id, o),
          version: (name, id, v, o) => snapshots.version(name, id, v, o),
          limit: (name, id, v, o) => snapshots.limit(name, id, v, o),
          query: (q, o) => snapshots.query(q, o),
          delete: (keys, o) => snapshots.delete(keys, o),
          close: () => snapshots.close(),
          [Symbol.asyncDispose]: () => snapshots.close(),
        } satisfies SnapshotStore,
        schedule: snapshotEvery(1),
        onSaveError: (error, aggregate) => failures.push([error, aggregate.id]),
      },
    });
    const product = new Product(uuidv7());
    product.create('A', 'B');
    await repository.save(product);
    expect(product.version).toBe(1);
    expect(failures).toHaveLength(1);
    expect(String(failures[0]?.[0])).toContain('disk full');
    expect(await drain(store.query(query().aggregate('product', product.id)))).toHaveLength(1);
  });

  it('takes snapshot states through the configured codec', async () => {
    const codec = createRegistry().register('product', {
      encode: (state: unknown) => `v1:${JSON.stringify(state)}`,
      decode: (text: string) => JSON.parse(text.replace(/^v1:/, '')),
    });
    const snapshots = createMemorySnapshotStore();
    const repository = createRepository({
      store: createMemoryEventStore(),
      snapshots: { store: snapshots, schedule: snapshotEvery(2), codec },
    });
    const typed = repository.typed((id) => new Product(id));
    const id = uuidv7();
    await grow(typed, id, 1);
    expect((await snapshots.latest('product', id)).state).toMatch(/^v1:\{/);
    expect(await typed.fetch(id)).toMatchObject({ version: 2, stock: 1 });
  });

  it('deletes the snapshots of a deleted aggregate first, so a new aggregate under the id starts clean', async () => {
    const { snapshots, products } = setup(5);
    const id = uuidv7();
    await grow(products, id, 12);
    expect(await versions(snapshots, id)).toEqual([5, 10]);
    await products.delete(id);
    expect(await versions(snapshots, id)).toEqual([]);
    await products.use(id, (p) => p.create('NEW', 'Bench'));
    expect(await products.fetch(id)).toMatchObject({ version: 1, stock: 0, sku: 'NEW' });
  });

  it('does not bring back a deleted aggregate from a snapshot saved while it was being deleted', async () => {
    const store = createMemoryEventStore();
    const snapshots = createMemorySnapshotStore();
    let entered!: () => void;
    const saving = new Promise<void>((resolve) => {
      entered = resolve;
    });
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const products = createRepository({
      store,
      snapshots: {
        // The snapshot save of a command that is still running when the delete runs.
        store: {
          save: async (snapshot, o) => {
            entered();
            await gate;
            return snapshots.save(snapshot, o);
          },
          latest: (name, id, o) => snapshots.latest(name, id, o),
          version: (name, id, v, o) => snapshots.version(name, id, v, o),
          limit: (name, id, v, o) => snapshots.limit(name, id, v, o),
          query: (q, o) => snapshots.query(q, o),
          delete: (keys, o) => snapshots.delete(keys, o),
          close: () => snapshots.close(),
          [Symbol.asyncDispose]: () => snapshots.close(),
        } satisfies SnapshotStore,
        schedule: snapshotEvery(1),
      },
    }).typed((id) => new Product(id));
    const id = uuidv7();
    const creating = products.use(id, (p) => p.create('OLD', 'Shelf'));
    await saving;
    await products.delete(id);
    open();
    await creating;
    await expect(products.fetch(id)).rejects.toMatchObject({ code: 'AGGREGATE_NOT_FOUND' });
    await products.use(id, (p) => p.create('NEW', 'Bench'));
    expect(await products.fetch(id)).toMatchObject({ version: 1, sku: 'NEW' });
  });

  it('removes a snapshot taken while the delete was removing the events', async () => {
    const memory = createMemoryEventStore();
    let entered!: () => void;
    const deleting = new Promise<void>((resolve) => {
      entered = resolve;
    });
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const store = {
      insert: (events: readonly Event[], o?: { signal?: AbortSignal }) => memory.insert(events, o),
      find: (id: string, o?: { signal?: AbortSignal }) => memory.find(id, o),
      query: (q: Parameters<typeof memory.query>[0], o?: { signal?: AbortSignal }) =>
        memory.query(q, o),
      // A slow delete of the first round: a save gets in with its snapshot meanwhile.
      delete: async (events: readonly { readonly id: string }[], o?: { signal?: AbortSignal }) => {
        entered();
        await gate;
        return memory.delete(events, o);
      },
      close: () => memory.close(),
      [Symbol.asyncDispose]: () => memory.close(),
    };
    const snapshots = createMemorySnapshotStore();
    const products = createRepository({
      store,
      snapshots: { store: snapshots, schedule: snapshotEvery(2) },
    }).typed((id) => new Product(id));
    const id = uuidv7();
    await products.use(id, (p) => p.create('OLD', 'Shelf'));
    const deleted = products.delete(id);
    await deleting;
    await products.use(id, (p) => p.restock(1));
    expect(await versions(snapshots, id)).toEqual([2]);
    open();
    await deleted;
    expect(await versions(snapshots, id)).toEqual([]);
    await expect(products.fetch(id)).rejects.toMatchObject({ code: 'AGGREGATE_NOT_FOUND' });
  });

  it('reads snapshots without a schedule, and does not take any', async () => {
    const store = createMemoryEventStore();
    const snapshots = createMemorySnapshotStore();
    const writer = createRepository({
      store,
      snapshots: { store: snapshots, schedule: snapshotEvery(3) },
    }).typed((id) => new Product(id));
    const reader = createRepository({ store, snapshots: { store: snapshots } }).typed(
      (id) => new Product(id),
    );
    const id = uuidv7();
    await grow(writer, id, 3);
    await grow(reader, uuidv7(), 5);
    expect(await drain(snapshots.query({}))).toHaveLength(1);
    const product = await reader.fetch(id);
    expect(product.applied).toHaveLength(1);
    const events = await drain(store.query(query().aggregate('product', id)));
    expect((events.at(-1) as Event).aggregate?.version).toBe(4);
  });
});
