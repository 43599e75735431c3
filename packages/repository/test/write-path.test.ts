import {
  createMemoryEventStore,
  isVersionConflictError,
  query,
  uuidv7,
  VersionConflictError,
} from '@goes/event';
import { drain } from '@goes/streams';
import { describe, expect, it } from '@jest/globals';
import { createRepository, DEFAULT_RETRY_POLICY } from '../src/index.js';
import { resolveRetryPolicy } from '../src/retry.js';
import { Product } from './fixtures.js';

const fast = { backoff: { initialMs: 1, maxMs: 5 } };

describe('the seed write path on in-memory backends', () => {
  it('creates a Product, changes it and fetches it back through use', async () => {
    const store = createMemoryEventStore();
    const products = createRepository({ store }).typed((id) => new Product(id));
    const id = uuidv7();

    const created = await products.use(id, (product) => product.create('SKU-7', 'Lamp'));
    expect(created.version).toBe(1);
    expect(created.changes).toEqual([]);

    const changed = await products.use(id, (product) => {
      expect(product.name).toBe('Lamp');
      product.price(1_999);
      product.restock(3);
    });
    expect(changed.version).toBe(3);

    const fetched = await products.use(id, (product) => {
      expect(product).toMatchObject({
        sku: 'SKU-7',
        name: 'Lamp',
        cents: 1_999,
        stock: 3,
        version: 3,
      });
    });
    expect(fetched.version).toBe(3);
    expect((await products.fetch(id)).cents).toBe(1_999);

    const stored = await drain(store.query(query().aggregate('product', id)));
    expect(stored.map((e) => [e.name, e.aggregate?.version])).toEqual([
      ['product.created', 1],
      ['product.priced', 2],
      ['product.stocked', 3],
    ]);
  });

  it('lets 8 concurrent use calls on one aggregate all succeed through retries; the state reflects all 8', async () => {
    const store = createMemoryEventStore();
    let conflicts = 0;
    const repository = createRepository({
      store,
      hooks: {
        onInsertFailed: (_aggregate, error) => {
          if (isVersionConflictError(error)) conflicts++;
        },
      },
    });
    const products = repository.typed((id) => new Product(id));
    const id = uuidv7();
    await products.use(id, (p) => p.create('SKU-1', 'Desk'));

    const attempts: number[] = Array(8).fill(0);
    await Promise.all(
      attempts.map((_, writer) =>
        products.use(id, (product) => {
          attempts[writer] = (attempts[writer] as number) + 1;
          product.restock(writer + 1);
        }),
      ),
    );

    const product = await products.fetch(id);
    expect(product.stock).toBe(1 + 2 + 3 + 4 + 5 + 6 + 7 + 8);
    expect(product.version).toBe(9);
    expect(conflicts).toBeGreaterThan(0);
    expect(attempts.reduce((a, b) => a + b, 0)).toBe(8 + conflicts);
    const versions = (await drain(store.query(query().aggregate('product', id)))).map(
      (e) => e.aggregate?.version,
    );
    expect(versions).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});

describe('use', () => {
  it('gives every attempt a fresh aggregate, never the mutated one (goes bug 1)', async () => {
    const store = createMemoryEventStore();
    const products = createRepository({ store, retry: fast }).typed((id) => new Product(id));
    const id = uuidv7();
    await products.use(id, (p) => p.create('A', 'B'));
    const seen: Product[] = [];
    let interfered = false;
    const result = await products.use(id, async (product) => {
      seen.push(product);
      product.restock(10);
      if (!interfered) {
        interfered = true;
        // Another writer stores a version first: this attempt's save conflicts.
        await products.use(id, (other) => other.restock(1), { retry: false });
      }
    });
    expect(seen).toHaveLength(2);
    expect(seen[0]).not.toBe(seen[1]);
    expect(seen[1]?.stock).toBe(11);
    expect(result).toBe(seen[1]);
    expect((await products.fetch(id)).stock).toBe(11);
  });

  it('stops after maxAttempts and throws the last VersionConflictError', async () => {
    const store = createMemoryEventStore();
    const products = createRepository({ store, retry: { maxAttempts: 3, backoff: () => 0 } }).typed(
      (id) => new Product(id),
    );
    const id = uuidv7();
    await products.use(id, (p) => p.create('A', 'B'));
    let attempts = 0;
    const error = await products
      .use(id, async (product) => {
        attempts++;
        product.restock(1);
        await products.use(id, (other) => other.restock(1), { retry: false });
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VersionConflictError);
    expect(attempts).toBe(3);
    expect((await products.fetch(id)).stock).toBe(3);
  });

  it('never runs fn again once its changes are stored, even when an afterInsert error is retryable', async () => {
    const store = createMemoryEventStore();
    let failures = 0;
    const repository = createRepository({
      store,
      // Retry everything (e.g. transient network errors): the hook's error qualifies.
      retry: { maxAttempts: 3, backoff: () => 0, retryIf: () => true },
      hooks: {
        afterInsert: () => {
          if (failures-- > 0) throw new Error('notification failed');
        },
      },
    });
    const products = repository.typed((id) => new Product(id));
    const id = uuidv7();
    await products.use(id, (product) => product.create('A', 'B'));
    failures = 1;
    let attempts = 0;
    const outcome = await products
      .use(id, (product) => {
        attempts++;
        product.restock(1);
      })
      .catch((e: unknown) => e);
    // The restock is stored once; the hook's error reaches the caller instead of a second run.
    expect(outcome).toMatchObject({ message: 'notification failed' });
    expect(attempts).toBe(1);
    expect((await products.fetch(id)).stock).toBe(1);
    expect(store.size).toBe(2);
  });

  it('takes the retry policy of the call over the repository one, and retry: false means one attempt', async () => {
    const store = createMemoryEventStore();
    const products = createRepository({ store, retry: { maxAttempts: 5, backoff: () => 0 } }).typed(
      (id) => new Product(id),
    );
    const id = uuidv7();
    await products.use(id, (p) => p.create('A', 'B'));
    for (const [retry, expected] of [
      [false, 1],
      [{ maxAttempts: 2, backoff: () => 0 }, 2],
      [undefined, 5],
    ] as const) {
      let attempts = 0;
      await expect(
        products.use(
          id,
          async (product) => {
            attempts++;
            product.restock(1);
            await products.use(id, (other) => other.restock(1), { retry: false });
          },
          retry === undefined ? {} : { retry },
        ),
      ).rejects.toBeInstanceOf(VersionConflictError);
      expect(attempts).toBe(expected);
    }
  });

  it('does not retry other errors by default, and retries what retryIf accepts', async () => {
    const products = createRepository({ store: createMemoryEventStore() }).typed(
      (id) => new Product(id),
    );
    const id = uuidv7();
    let attempts = 0;
    await expect(
      products.use(id, () => {
        attempts++;
        throw new RangeError('no');
      }),
    ).rejects.toThrow(RangeError);
    expect(attempts).toBe(1);
    attempts = 0;
    const created = await products.use(
      id,
      (product) => {
        attempts++;
        if (attempts < 3) throw new Error('flaky');
        product.create('A', 'B');
      },
      { retry: { retryIf: (e) => String(e).includes('flaky'), backoff: () => 0 } },
    );
    expect(attempts).toBe(3);
    expect(created.version).toBe(1);
  });

  it('backs off exponentially with full jitter by default, capped', () => {
    expect(DEFAULT_RETRY_POLICY.maxAttempts).toBe(10);
    const policy = resolveRetryPolicy(undefined);
    for (let attempt = 1; attempt <= 12; attempt++) {
      const ceiling = Math.min(500, 5 * 2 ** (attempt - 1));
      for (let i = 0; i < 20; i++) {
        const wait = policy.delay(attempt);
        expect(wait).toBeGreaterThanOrEqual(0);
        expect(wait).toBeLessThanOrEqual(ceiling);
      }
    }
    const exact = resolveRetryPolicy({
      backoff: { initialMs: 10, multiplier: 3, maxMs: 100, jitter: false },
    });
    expect([1, 2, 3, 4].map(exact.delay)).toEqual([10, 30, 90, 100]);
    expect(resolveRetryPolicy(false).maxAttempts).toBe(1);
  });

  it('calls a custom backoff function with the attempt number', async () => {
    const waits: number[] = [];
    const products = createRepository({
      store: createMemoryEventStore(),
      retry: {
        maxAttempts: 4,
        backoff: (attempt) => {
          waits.push(attempt);
          return 0;
        },
        retryIf: () => true,
      },
    }).typed((id) => new Product(id));
    await expect(
      products.use(uuidv7(), () => {
        throw new Error('always');
      }),
    ).rejects.toThrow('always');
    expect(waits).toEqual([1, 2, 3]);
  });

  it('refuses a factory that hands out the same instance twice', async () => {
    const repository = createRepository({
      store: createMemoryEventStore(),
      retry: { retryIf: () => true, backoff: () => 0 },
    });
    const product = new Product(uuidv7());
    const error = await repository
      .use(
        () => product,
        () => {
          throw new Error('again');
        },
      )
      .catch((e: unknown) => e);
    expect(String(error)).toContain('fresh aggregate');
  });

  it('refuses a bad retry policy when the repository or the call is made', async () => {
    expect(() =>
      createRepository({ store: createMemoryEventStore(), retry: { maxAttempts: 0 } }),
    ).toThrow(/maxAttempts 0/);
    const repository = createRepository({ store: createMemoryEventStore() });
    await expect(
      repository.use(
        () => new Product(uuidv7()),
        () => {},
        { retry: { backoff: { initialMs: -1 } } },
      ),
    ).rejects.toThrow(/initialMs -1/);
  });

  it('stops waiting and rejects with the reason when the signal aborts', async () => {
    const products = createRepository({
      store: createMemoryEventStore(),
      retry: { retryIf: () => true, backoff: () => 60_000 },
    }).typed((id) => new Product(id));
    const controller = new AbortController();
    const reason = new Error('shutdown');
    const pending = products.use(
      uuidv7(),
      () => {
        queueMicrotask(() => controller.abort(reason));
        throw new Error('retry me');
      },
      { signal: controller.signal },
    );
    await expect(pending).rejects.toBe(reason);
    await expect(
      products.use(uuidv7(), () => {}, { signal: AbortSignal.abort(reason) }),
    ).rejects.toBe(reason);
  });
});
