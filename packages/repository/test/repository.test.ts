import { type Aggregate, aggregateQuery, type History } from '@goes/aggregate';
import {
  type AggregateRef,
  createEvent,
  createMemoryEventStore,
  type Event,
  isGoesError,
  query,
  uuidv7,
} from '@goes/event';
import { drain } from '@goes/streams';
import { describe, expect, it } from '@jest/globals';
import { createRepository, isVersionNotFoundError } from '../src/index.js';
import { Counter, observe, Product } from './fixtures.js';

async function stored(
  repository = createRepository({ store: createMemoryEventStore() }),
  prices: number[] = [1, 2],
) {
  const product = new Product(uuidv7());
  product.create('SKU', 'Chair');
  for (const cents of prices) product.price(cents);
  await repository.save(product);
  return { repository, product, id: product.id };
}

describe('save', () => {
  it('stores the changes in one insert and commits them', async () => {
    const store = observe(createMemoryEventStore());
    const repository = createRepository({ store });
    const { product, id } = await stored(repository);
    expect(store.calls.insert).toBe(1);
    expect(product.version).toBe(3);
    expect(product.changes).toEqual([]);
    expect(await drain(store.query(query().aggregate('product', id)))).toHaveLength(3);
  });

  it('does nothing for an aggregate without changes', async () => {
    const store = observe(createMemoryEventStore());
    let hooks = 0;
    const repository = createRepository({ store, hooks: { beforeInsert: () => void hooks++ } });
    await repository.save(new Product(uuidv7()));
    expect(store.calls.insert).toBe(0);
    expect(hooks).toBe(0);
  });

  it('runs the hooks in order: beforeInsert, insert, commit, afterInsert', async () => {
    const log: string[] = [];
    const repository = createRepository({
      store: createMemoryEventStore(),
      hooks: {
        beforeInsert: [
          (a) => void log.push(`before1 v${a.version} +${a.changes.length}`),
          async (a) => void log.push(`before2 v${a.version}`),
        ],
        afterInsert: (a) => void log.push(`after v${a.version} +${a.changes.length}`),
      },
    });
    await stored(repository, [5]);
    expect(log).toEqual(['before1 v0 +2', 'before2 v0', 'after v2 +0']);
  });

  it('stores nothing when a beforeInsert hook throws', async () => {
    const store = createMemoryEventStore();
    const repository = createRepository({
      store,
      hooks: {
        beforeInsert: () => {
          throw new Error('not allowed');
        },
      },
    });
    const product = new Product(uuidv7());
    product.create('A', 'B');
    await expect(repository.save(product)).rejects.toThrow('not allowed');
    expect(store.size).toBe(0);
    expect(product.changes).toHaveLength(1);
  });

  it('runs onInsertFailed with the error, which a hook may replace; the aggregate keeps its changes', async () => {
    const store = createMemoryEventStore();
    const seen: unknown[] = [];
    const { id } = await stored(createRepository({ store }));
    const stale = new Product(id);
    stale.create('X', 'Y');
    const repository = createRepository({
      store,
      hooks: { onInsertFailed: (_a, error) => void seen.push(error) },
    });
    const error = await repository.save(stale).catch((e: unknown) => e);
    expect(isGoesError(error, 'VERSION_CONFLICT')).toBe(true);
    expect(seen).toEqual([error]);
    expect(stale.changes).toHaveLength(1);
    expect(stale.version).toBe(0);
    const replacing = createRepository({
      store,
      hooks: {
        onInsertFailed: [
          (_a, e) => {
            throw new Error(`wrapped: ${String(e)}`);
          },
          () => {
            throw new Error('never reached');
          },
        ],
      },
    });
    await expect(replacing.save(stale)).rejects.toThrow(/^wrapped: .*version conflict/);
  });

  it('rejects with an afterInsert error after storing and committing, and still runs later hooks', async () => {
    const store = createMemoryEventStore();
    let second = false;
    const repository = createRepository({
      store,
      hooks: {
        afterInsert: [
          () => {
            throw new Error('publish failed');
          },
          () => {
            second = true;
          },
        ],
      },
    });
    const product = new Product(uuidv7());
    product.create('A', 'B');
    await expect(repository.save(product)).rejects.toThrow('publish failed');
    expect(second).toBe(true);
    expect(product.version).toBe(1);
    expect(store.size).toBe(1);
  });

  it('refuses an already aborted signal and stores nothing', async () => {
    const store = createMemoryEventStore();
    const product = new Product(uuidv7());
    product.create('A', 'B');
    await expect(
      createRepository({ store }).save(product, { signal: AbortSignal.abort() }),
    ).rejects.toBeDefined();
    expect(store.size).toBe(0);
  });
});

describe('fetch', () => {
  it('rebuilds an aggregate and refreshes a loaded one with newer events only', async () => {
    const { repository, id } = await stored();
    const product = await repository.fetch(new Product(id));
    expect(product).toMatchObject({ version: 3, cents: 2 });
    expect(product.applied).toHaveLength(3);
    const writer = await repository.fetch(new Product(id));
    writer.price(3);
    await repository.save(writer);
    await repository.fetch(product);
    expect(product).toMatchObject({ version: 4, cents: 3 });
    expect(product.applied).toHaveLength(4);
  });

  it('leaves an aggregate nothing is stored for at version 0 (the untyped repository does not throw)', async () => {
    const repository = createRepository({ store: createMemoryEventStore() });
    expect((await repository.fetch(new Product(uuidv7()))).version).toBe(0);
  });

  it('refuses an aggregate with uncommitted changes', async () => {
    const { repository, id } = await stored();
    const dirty = new Product(id);
    dirty.create('A', 'B');
    await expect(repository.fetch(dirty)).rejects.toMatchObject({ code: 'UNCOMMITTED_CHANGES' });
  });

  it('answers AggregateDeletedError for a soft-deleted aggregate, and loads it again after a restore', async () => {
    const { repository, id } = await stored();
    const product = await repository.fetch(new Product(id));
    product.discontinue();
    await repository.save(product);
    const error = await repository.fetch(new Product(id)).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'AGGREGATE_DELETED',
      version: 4,
      aggregate: { name: 'product', id },
    });
    product.relist();
    await repository.save(product);
    expect((await repository.fetch(new Product(id))).version).toBe(5);
  });

  it('ignores version-0 events of the aggregate', async () => {
    const store = createMemoryEventStore();
    const { repository, id } = await stored(createRepository({ store }));
    await store.insert([
      createEvent('product.marked', {}, { aggregate: { name: 'product', id, version: 0 } }),
    ]);
    expect((await repository.fetch(new Product(id))).version).toBe(3);
  });
});

describe('fetchVersion', () => {
  it('loads exactly the requested version', async () => {
    const { repository, id } = await stored(undefined, [10, 20, 30]);
    const v2 = await repository.fetchVersion(new Product(id), 2);
    expect(v2).toMatchObject({ version: 2, cents: 10 });
    await repository.fetchVersion(v2, 4);
    expect(v2).toMatchObject({ version: 4, cents: 30 });
    expect((await repository.fetchVersion(new Product(id), 0)).version).toBe(0);
  });

  it('answers VersionNotFoundError above the highest version', async () => {
    const { repository, id } = await stored();
    const error = await repository.fetchVersion(new Product(id), 9).catch((e: unknown) => e);
    expect(isVersionNotFoundError(error)).toBe(true);
    expect(error).toMatchObject({ version: 9, actual: 3 });
  });

  it('refuses negative versions and versions below the aggregate', async () => {
    const { repository, id } = await stored();
    await expect(repository.fetchVersion(new Product(id), -1)).rejects.toThrow(/-1/);
    const loaded = await repository.fetch(new Product(id));
    await expect(repository.fetchVersion(loaded, 1)).rejects.toThrow(/fresh aggregate/);
  });
});

describe('delete', () => {
  it('removes every event of the aggregate in one store call, then runs afterDelete', async () => {
    const inner = createMemoryEventStore();
    const store = observe(inner);
    const deleted: AggregateRef[] = [];
    const repository = createRepository({
      store,
      hooks: { afterDelete: (ref) => void deleted.push(ref) },
    });
    const { id } = await stored(repository, [1, 2, 3, 4]);
    const other = await stored(repository);
    await inner.insert([
      createEvent('product.marked', {}, { aggregate: { name: 'product', id, version: 0 } }),
    ]);
    await repository.delete({ name: 'product', id });
    expect(store.calls.delete).toBe(1);
    expect(store.calls.deleted).toBe(6);
    expect(await drain(inner.query(query().aggregate('product', id)))).toEqual([]);
    expect(await drain(inner.query(query().aggregate('product', other.id)))).toHaveLength(3);
    expect(deleted).toEqual([{ name: 'product', id }]);
  });

  it('lets the aggregate be created again from version 1', async () => {
    const { repository, product, id } = await stored();
    await repository.delete(product);
    const again = new Product(id);
    again.create('NEW', 'Sofa');
    await repository.save(again);
    expect(await repository.fetch(new Product(id))).toMatchObject({
      version: 1,
      sku: 'NEW',
      cents: 0,
    });
  });

  it('deletes events a concurrent writer appended while it deleted', async () => {
    const inner = createMemoryEventStore();
    let raced = false;
    const racing = observe(inner);
    const store = {
      ...racing,
      async delete(events: readonly { readonly id: string }[]) {
        await racing.delete(events);
        if (!raced) {
          raced = true;
          const late = createEvent(
            'product.priced',
            { cents: 9 },
            { aggregate: { name: 'product', id: idOf(), version: 1 } },
          );
          await inner.insert([late]);
        }
      },
    };
    let target = '';
    const idOf = () => target;
    const repository = createRepository({ store });
    const { id } = await stored(repository);
    target = id;
    await repository.delete({ name: 'product', id });
    expect(await drain(inner.query(query().aggregate('product', id)))).toEqual([]);
    expect(racing.calls.delete).toBe(2);
  });

  it('gives up with DeleteIncompleteError when writers never stop', async () => {
    const inner = createMemoryEventStore();
    let target = '';
    const store = {
      ...observe(inner),
      async delete(events: readonly { readonly id: string }[]) {
        await inner.delete(events);
        await inner.insert([
          createEvent(
            'product.priced',
            { cents: 1 },
            { aggregate: { name: 'product', id: target, version: 1 } },
          ),
        ]);
      },
    };
    const repository = createRepository({ store });
    const { id } = await stored(repository);
    target = id;
    await expect(repository.delete({ name: 'product', id })).rejects.toMatchObject({
      code: 'DELETE_INCOMPLETE',
    });
  });

  it('rejects with an afterDelete error after the events are gone', async () => {
    const store = createMemoryEventStore();
    const repository = createRepository({
      store,
      hooks: {
        afterDelete: () => {
          throw new Error('read model cleanup failed');
        },
      },
    });
    const { id } = await stored(repository);
    await expect(repository.delete({ name: 'product', id })).rejects.toThrow(
      'read model cleanup failed',
    );
    expect(await drain(store.query(query().aggregate('product', id)))).toEqual([]);
  });

  it('is a no-op for an unknown aggregate', async () => {
    const store = observe(createMemoryEventStore());
    await createRepository({ store }).delete({ name: 'product', id: uuidv7() });
    expect(store.calls.delete).toBe(0);
  });
});

describe('query', () => {
  async function world() {
    const store = createMemoryEventStore();
    const repository = createRepository({ store });
    const products: Product[] = [];
    for (const prices of [[1], [1, 2, 3], [], [5, 6]])
      products.push((await stored(repository, prices)).product);
    const counter = new Counter(uuidv7());
    counter.increment();
    counter.increment();
    await repository.save(counter);
    await store.insert([createEvent('unrelated', {})]);
    return { store, repository, products, counter };
  }

  const versionsOf = (histories: readonly History[]) => histories.map((h) => h.version);

  it('streams one history per aggregate, by name and id, ascending', async () => {
    const { repository, products, counter } = await world();
    const all = await drain(repository.query());
    const expected = [
      { name: 'counter', id: counter.id, version: 2 },
      ...products
        .map((p) => ({ name: 'product', id: p.id, version: p.version }))
        .sort((a, b) => (a.id < b.id ? -1 : 1)),
    ];
    expect(all.map((h) => ({ ...h.aggregate, version: h.version }))).toEqual(expected);
    const product = new Product(products[1]?.id as string);
    all.find((h) => h.aggregate.id === product.id)?.apply(product);
    expect(product).toMatchObject({ version: 4, cents: 3 });
  });

  it('filters by name and id in the store', async () => {
    const { repository, products } = await world();
    expect(await drain(repository.query({ names: ['counter'] }))).toHaveLength(1);
    const picked = [products[0]?.id, products[2]?.id] as string[];
    const found = await drain(
      repository.query(
        aggregateQuery()
          .name('product')
          .id(...picked),
      ),
    );
    expect(found.map((h) => h.aggregate.id).sort()).toEqual([...picked].sort());
  });

  it('selects aggregates by their version, not "rebuild up to" (goes bug 29)', async () => {
    const { repository } = await world();
    const exact = await drain(
      repository.query({ names: ['product'], versions: { exact: [2, 3] } }),
    );
    expect(versionsOf(exact).sort()).toEqual([2, 3]);
    for (const history of exact) expect(history.events).toHaveLength(history.version);
    const atLeast = await drain(repository.query({ names: ['product'], versions: { min: [3] } }));
    expect(versionsOf(atLeast).sort()).toEqual([3, 4]);
  });

  it('sorts as asked, by version too', async () => {
    const { repository, products } = await world();
    const byVersion = await drain(
      repository.query({ names: ['product'], sort: [{ by: 'version', dir: 'desc' }] }),
    );
    expect(versionsOf(byVersion)).toEqual([4, 3, 2, 1]);
    const byIdDesc = await drain(
      repository.query({ names: ['product'], sort: [{ by: 'id', dir: 'desc' }] }),
    );
    expect(byIdDesc.map((h) => h.aggregate.id)).toEqual(
      products
        .map((p) => p.id)
        .sort()
        .reverse(),
    );
    const byNameDesc = await drain(
      repository.query({
        sort: [
          { by: 'name', dir: 'desc' },
          { by: 'version', dir: 'asc' },
        ],
      }),
    );
    expect(byNameDesc.map((h) => h.aggregate.name)).toEqual([
      'product',
      'product',
      'product',
      'product',
      'counter',
    ]);
  });

  it('leaves out soft-deleted aggregates when told which events delete', async () => {
    const { repository, products } = await world();
    const victim = await repository.fetch(new Product(products[0]?.id as string));
    victim.discontinue();
    await repository.save(victim);
    const policy = { deleteEvents: ['product.discontinued'] };
    const visible = await drain(repository.query({ names: ['product'] }, { softDelete: policy }));
    expect(visible.map((h) => h.aggregate.id)).not.toContain(victim.id);
    expect(visible).toHaveLength(3);
    const all = await drain(
      repository.query({ names: ['product'] }, { softDelete: policy, includeSoftDeleted: true }),
    );
    expect(all.find((h) => h.aggregate.id === victim.id)?.softDeleted).toBe(true);
  });

  it('applies modifyQuery to the event query', async () => {
    const store = createMemoryEventStore();
    const seen: unknown[] = [];
    const repository = createRepository({
      store,
      modifyQuery: [
        (eventQuery, aggregateQuery) => {
          seen.push(aggregateQuery);
          return { ...eventQuery, aggregateNames: ['counter'] };
        },
      ],
    });
    await stored(repository);
    const counter = new Counter(uuidv7());
    counter.increment();
    await repository.save(counter);
    const found = await drain(repository.query({ names: ['product'] }));
    expect(found.map((h) => h.aggregate.name)).toEqual(['counter']);
    expect(seen).toEqual([{ names: ['product'] }]);
  });

  it('throws an inconsistent history, or reports it to onError and goes on', async () => {
    const store = createMemoryEventStore();
    const repository = createRepository({ store });
    const broken = await stored(repository, [1, 2]);
    const fine = await stored(repository, [1]);
    const [, middle] = await drain(store.query(query().aggregate('product', broken.id)));
    await store.delete([middle as Event]);
    await expect(drain(repository.query({ names: ['product'] }))).rejects.toMatchObject({
      code: 'AGGREGATE_INCONSISTENT',
      kind: 'version',
    });
    const errors: unknown[] = [];
    const rest = await drain(
      repository.query({ names: ['product'] }, { onError: (e) => errors.push(e) }),
    );
    expect(rest.map((h) => h.aggregate.id)).toEqual([fine.id]);
    expect(errors).toHaveLength(1);
  });

  it('refuses a malformed query at call', () => {
    const repository = createRepository({ store: createMemoryEventStore() });
    expect(() => repository.query({ ids: ['nope'] })).toThrow(/ids\[0\] "nope"/);
  });

  it('stops when the signal aborts', async () => {
    const { repository } = await world();
    const controller = new AbortController();
    const reason = new Error('enough');
    const read = async () => {
      for await (const _ of repository.query({}, { signal: controller.signal }))
        controller.abort(reason);
    };
    await expect(read()).rejects.toBe(reason);
  });
});

describe('createRepository', () => {
  it('refuses missing stores', () => {
    expect(() => createRepository({} as never)).toThrow(/event store/);
    expect(() =>
      createRepository({ store: createMemoryEventStore(), snapshots: {} as never }),
    ).toThrow(/snapshot store/);
  });

  it('accepts any Aggregate implementation', async () => {
    const repository = createRepository({ store: createMemoryEventStore() });
    const counter = new Counter(uuidv7());
    counter.increment(4);
    const aggregate: Aggregate = counter;
    await repository.save(aggregate);
    expect((await repository.fetch(new Counter(counter.id))).count).toBe(4);
  });
});
