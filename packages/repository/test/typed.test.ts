import { createMemoryEventStore, NIL_UUID, uuidv7 } from '@goes/event';
import { drain } from '@goes/streams';
import { describe, expect, it } from '@jest/globals';
import {
  AggregateNotFoundError,
  createRepository,
  createTypedRepository,
  isAggregateDeletedError,
  isAggregateNotFoundError,
  VersionNotFoundError,
} from '../src/index.js';
import { Counter, Product } from './fixtures.js';

function setup() {
  const repository = createRepository({ store: createMemoryEventStore() });
  return { repository, products: repository.typed((id) => new Product(id)) };
}

async function created(products: ReturnType<typeof setup>['products'], prices: number[] = []) {
  const id = uuidv7();
  await products.use(id, (p) => {
    p.create('SKU', 'Chair');
    for (const cents of prices) p.price(cents);
  });
  return id;
}

describe('typed repository', () => {
  it('takes its name from the factory and makes aggregates', () => {
    const { products, repository } = setup();
    expect(products.aggregateName).toBe('product');
    expect(products.repository).toBe(repository);
    const id = uuidv7();
    expect(products.make(id)).toBeInstanceOf(Product);
    expect(() => products.make('nope')).toThrow(/"nope" is not a lowercase UUID/);
    expect(createTypedRepository(repository, (id) => new Counter(id)).aggregateName).toBe(
      'counter',
    );
  });

  it('refuses a factory that makes aggregates of another name or id', () => {
    const { repository } = setup();
    const fixed = uuidv7();
    const wrongId = repository.typed(() => new Product(fixed));
    expect(() => wrongId.make(uuidv7())).toThrow(/made product/);
    expect(() => repository.typed(() => ({}) as never)).toThrow(/aggregateName/);
    expect(() => createTypedRepository(repository, null as never)).toThrow(/factory/);
    let calls = 0;
    const switching = repository.typed((id) => (calls++ === 0 ? new Product(id) : new Counter(id)));
    expect(() => switching.make(uuidv7())).toThrow(/made counter/);
  });

  it('fetches a stored aggregate, and answers AggregateNotFoundError for an unknown one', async () => {
    const { products } = setup();
    const id = await created(products, [7]);
    expect(await products.fetch(id)).toMatchObject({ version: 2, cents: 7 });
    const unknown = uuidv7();
    const error = await products.fetch(unknown).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AggregateNotFoundError);
    expect(isAggregateNotFoundError(error)).toBe(true);
    expect(error).toMatchObject({ aggregate: { name: 'product', id: unknown } });
    expect(String(error)).toContain(unknown);
    await expect(products.fetch(NIL_UUID)).rejects.toBeInstanceOf(AggregateNotFoundError);
  });

  it('answers AggregateDeletedError for a soft-deleted aggregate', async () => {
    const { products } = setup();
    const id = await created(products);
    await products.use(id, (p) => p.discontinue());
    expect(isAggregateDeletedError(await products.fetch(id).catch((e: unknown) => e))).toBe(true);
    expect(isAggregateDeletedError(await products.use(id, () => {}).catch((e: unknown) => e))).toBe(
      true,
    );
  });

  it('fetches a version, and tells an unknown aggregate from a missing version', async () => {
    const { products } = setup();
    const id = await created(products, [1, 2, 3]);
    expect(await products.fetchVersion(id, 2)).toMatchObject({ version: 2, cents: 1 });
    await expect(products.fetchVersion(id, 5)).rejects.toBeInstanceOf(VersionNotFoundError);
    await expect(products.fetchVersion(uuidv7(), 1)).rejects.toBeInstanceOf(AggregateNotFoundError);
    await expect(products.fetchVersion(id, 0)).rejects.toThrow(/positive integer/);
  });

  it('refreshes a loaded aggregate', async () => {
    const { products } = setup();
    const id = await created(products);
    const loaded = await products.fetch(id);
    await products.use(id, (p) => p.price(42));
    expect((await products.refresh(loaded)).cents).toBe(42);
  });

  it('saves only its own aggregates', async () => {
    const { products } = setup();
    const counter = new Counter(uuidv7());
    counter.increment();
    await expect(products.save(counter as never)).rejects.toThrow(/cannot take a "counter"/);
    const product = products.make(uuidv7());
    product.create('A', 'B');
    await products.save(product);
    expect((await products.fetch(product.id)).version).toBe(1);
  });

  it('queries its own aggregates, rebuilt, leaving out soft-deleted ones unless asked', async () => {
    const { repository, products } = setup();
    const ids = [
      await created(products, [1]),
      await created(products, [1, 2]),
      await created(products),
    ];
    const counter = new Counter(uuidv7());
    counter.increment();
    await repository.save(counter);
    await products.use(ids[2] as string, (p) => p.discontinue());

    const all = await drain(products.query());
    expect(all.every((p) => p instanceof Product)).toBe(true);
    expect(all.map((p) => p.id).sort()).toEqual([ids[0], ids[1]].sort());
    const withDeleted = await drain(products.query({}, { includeSoftDeleted: true }));
    expect(withDeleted.map((p) => p.id).sort()).toEqual([...ids].sort());
    const sorted = await drain(products.query({ sort: [{ by: 'version', dir: 'desc' }] }));
    expect(sorted.map((p) => p.version)).toEqual([3, 2]);
    expect(sorted[0]?.cents).toBe(2);
    expect(await drain(products.query({ versions: { exact: [2] } }))).toHaveLength(1);
    expect(await drain(products.query({ names: ['counter'] }))).toEqual([]);
    expect(await drain(products.query({ names: ['product', 'counter'] }))).toHaveLength(2);
    expect(() => products.query({ versions: { min: [-1] } })).toThrow(/versions.min/);
  });

  it('deletes by id or aggregate', async () => {
    const { products } = setup();
    const id = await created(products);
    await products.delete(id);
    await expect(products.fetch(id)).rejects.toBeInstanceOf(AggregateNotFoundError);
    const other = await products.fetch(await created(products));
    await products.delete(other);
    await expect(products.fetch(other.id)).rejects.toBeInstanceOf(AggregateNotFoundError);
  });
});

describe('typed repository input', () => {
  it('rejects a malformed id asynchronously from every method', async () => {
    const { products } = setup();
    for (const call of [
      () => products.use('nope', () => {}),
      () => products.fetch('nope'),
      () => products.fetchVersion('nope', 1),
      () => products.delete('nope'),
    ]) {
      const pending = call();
      expect(pending).toBeInstanceOf(Promise);
      await expect(pending).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
  });
});
