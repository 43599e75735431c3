import { isGoesError, uuidv7 } from '@goes/event';
import {
  isModelConflictError,
  isModelNotFoundError,
  type ModelConflictError,
  type ModelRepository,
} from '@goes/projection';
import { afterEach, describe, expect, it } from '@jest/globals';
import { delay } from './bus-expect.js';

/**
 * The read model the model repository conformance suite stores: plain JSON-safe data with a
 * string `id`, so every backend (a JSON column, a document) can hold it.
 *
 * @example
 * ```ts
 * const model: ConformanceModel = conformanceModel(uuidv7(), { count: 3 });
 * ```
 */
export interface ConformanceModel {
  readonly id: string;
  title: string;
  count: number;
  tags: string[];
  nested: { flag: boolean; note: string | null; numbers: number[] };
}

/**
 * Makes a {@link ConformanceModel}.
 *
 * @example
 * ```ts
 * await repository.save(conformanceModel(id, { title: 'first' }));
 * ```
 */
export function conformanceModel(
  id: string,
  overrides: Partial<Omit<ConformanceModel, 'id'>> = {},
): ConformanceModel {
  return {
    id,
    title: 'model',
    count: 0,
    tags: [],
    nested: { flag: false, note: null, numbers: [] },
    ...overrides,
  };
}

/**
 * Makes the model repository under test, for {@link ConformanceModel}s (id: the `id` field).
 * Called once per test; repositories of one suite may share a table or collection, since every
 * test uses its own model ids.
 *
 * @example
 * ```ts
 * const factory: ModelRepositoryFactory = () => createMemoryModelRepository<ConformanceModel>();
 * ```
 */
export type ModelRepositoryFactory = () =>
  | ModelRepository<ConformanceModel>
  | Promise<ModelRepository<ConformanceModel>>;

/**
 * Options of {@link modelRepositoryConformance}.
 *
 * @example
 * ```ts
 * modelRepositoryConformance('postgres', factory, { concurrentUses: 16 });
 * ```
 */
export interface ModelRepositoryConformanceOptions {
  /** Concurrent `use` calls on one model in the lost-update tests. Default 8. */
  readonly concurrentUses?: number | undefined;
  /** Called after each test with the repository (after the suite closed it). */
  readonly teardown?:
    | ((repository: ModelRepository<ConformanceModel>) => void | Promise<void>)
    | undefined;
}

/**
 * The model repository conformance suite for `ModelRepository` implementations (goes'
 * `model.Repository`, with what goes' repositories lacked): save and fetch round trips, fetched
 * copies, versions and optimistic concurrency (`expectedVersion`, `ModelConflictError` with
 * `expected`/`actual`), `use` with creation, retries on conflicts and no lost updates under
 * concurrent calls, `fn` errors and `false` saving nothing, delete, hostile strings and ids, bad
 * input answered with typed errors, cancellation, and `close()`.
 *
 * @example
 * ```ts
 * import { createMemoryModelRepository } from '@goes/projection';
 * import { type ConformanceModel, modelRepositoryConformance } from '@goes/testing';
 *
 * modelRepositoryConformance('in-memory', () => createMemoryModelRepository<ConformanceModel>());
 * ```
 */
export function modelRepositoryConformance(
  name: string,
  factory: ModelRepositoryFactory,
  options: ModelRepositoryConformanceOptions = {},
): void {
  const concurrency = options.concurrentUses ?? 8;
  const opened: ModelRepository<ConformanceModel>[] = [];
  const open = async (): Promise<ModelRepository<ConformanceModel>> => {
    const repository = await factory();
    opened.push(repository);
    return repository;
  };
  const conflict = async (promise: Promise<unknown>): Promise<ModelConflictError> => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isModelConflictError(error)).toBe(true);
    return error as ModelConflictError;
  };

  describe(`model repository conformance: ${name}`, () => {
    afterEach(async () => {
      for (const repository of opened.splice(0)) {
        await repository.close();
        await options.teardown?.(repository);
      }
    });

    describe('save and fetch', () => {
      it('fetches a model equal to the one saved', async () => {
        const repository = await open();
        const model = conformanceModel(uuidv7(), {
          title: 'first',
          count: 42,
          tags: ['a', 'b'],
          nested: { flag: true, note: 'n', numbers: [1, 2.5, -3] },
        });
        await repository.save(model);
        expect(await repository.fetch(model.id)).toEqual(model);
      });

      it('answers ModelNotFoundError naming the id for an unknown id', async () => {
        const repository = await open();
        const id = uuidv7();
        const error = await repository.fetch(id).catch((e: unknown) => e);
        expect(isModelNotFoundError(error)).toBe(true);
        expect(String((error as Error).message)).toContain(id);
        expect(
          isModelNotFoundError(await repository.fetchVersioned(id).catch((e: unknown) => e)),
        ).toBe(true);
      });

      it('returns copies: changing a fetched model does not change the stored one', async () => {
        const repository = await open();
        const model = conformanceModel(uuidv7(), { tags: ['kept'] });
        await repository.save(model);
        model.tags.push('after save');
        const fetched = await repository.fetch(model.id);
        fetched.count = 99;
        fetched.tags.push('changed');
        expect(await repository.fetch(model.id)).toEqual(
          conformanceModel(model.id, { tags: ['kept'] }),
        );
      });

      it('upserts and counts versions from 1 (fetchVersioned)', async () => {
        const repository = await open();
        const model = conformanceModel(uuidv7());
        expect(await repository.save(model)).toBe(1);
        model.count = 1;
        expect(await repository.save(model)).toBe(2);
        model.count = 2;
        expect(await repository.save(model)).toBe(3);
        const { model: stored, version } = await repository.fetchVersioned(model.id);
        expect(version).toBe(3);
        expect(stored.count).toBe(2);
      });

      it('with expectedVersion 0 inserts only: an existing model is a conflict and stays unchanged', async () => {
        const repository = await open();
        const model = conformanceModel(uuidv7(), { title: 'original' });
        expect(await repository.save(model, { expectedVersion: 0 })).toBe(1);
        const error = await conflict(
          repository.save({ ...model, title: 'overwrite' }, { expectedVersion: 0 }),
        );
        expect(error.code).toBe('MODEL_CONFLICT');
        expect(error.modelId).toBe(model.id);
        expect(error.expected).toBe(0);
        expect(error.actual).toBe(1);
        expect(String(error.message)).toContain(model.id);
        expect((await repository.fetch(model.id)).title).toBe('original');
      });

      it('with a stale expectedVersion fails and stores nothing; with the current one it saves', async () => {
        const repository = await open();
        const model = conformanceModel(uuidv7());
        await repository.save(model);
        await repository.save({ ...model, count: 1 });
        const error = await conflict(
          repository.save({ ...model, count: 100 }, { expectedVersion: 1 }),
        );
        expect([error.expected, error.actual]).toEqual([1, 2]);
        expect((await repository.fetch(model.id)).count).toBe(1);
        expect(await repository.save({ ...model, count: 2 }, { expectedVersion: 2 })).toBe(3);
        expect((await repository.fetchVersioned(model.id)).model.count).toBe(2);
      });

      it('with an expectedVersion for a missing model fails with actual 0', async () => {
        const repository = await open();
        const model = conformanceModel(uuidv7());
        const error = await conflict(repository.save(model, { expectedVersion: 3 }));
        expect([error.expected, error.actual]).toEqual([3, 0]);
        expect(
          isModelNotFoundError(await repository.fetch(model.id).catch((e: unknown) => e)),
        ).toBe(true);
      });

      it('keeps unicode and hostile strings exactly', async () => {
        const repository = await open();
        const hostile = [
          "'; DROP TABLE models; --",
          '{"$where": "sleep(1000)"}',
          '$set',
          'dotted.key',
          'Grüße 👋 \u2028 \t\n\\',
          '',
        ];
        const model = conformanceModel(uuidv7(), {
          title: hostile[0] as string,
          tags: hostile,
          nested: {
            flag: true,
            note: hostile[4] as string,
            numbers: [0, -0.5, 1e21, Number.MAX_SAFE_INTEGER],
          },
        });
        await repository.save(model);
        expect(await repository.fetch(model.id)).toEqual(model);
      });

      it('accepts ids that are not UUIDs: slashes, quotes, unicode, long ones', async () => {
        const repository = await open();
        const base = uuidv7();
        const ids = [
          `${base}/a/b`,
          `${base}'"quoted"`,
          `${base}-Grüße-👋`,
          `${base}-${'x'.repeat(200)}`,
          `${base} space`,
        ];
        for (const id of ids) await repository.save(conformanceModel(id, { title: id }));
        for (const id of ids) expect((await repository.fetch(id)).title).toBe(id);
      });

      it('keeps models of different ids apart', async () => {
        const repository = await open();
        const a = conformanceModel(uuidv7(), { count: 1 });
        const b = conformanceModel(uuidv7(), { count: 2 });
        await repository.save(a);
        await repository.save(b);
        await repository.save({ ...a, count: 10 });
        expect((await repository.fetch(b.id)).count).toBe(2);
        expect((await repository.fetchVersioned(b.id)).version).toBe(1);
      });
    });

    describe('use', () => {
      it('fetches, changes and saves, resolving to the saved model', async () => {
        const repository = await open();
        const model = conformanceModel(uuidv7(), { count: 1 });
        await repository.save(model);
        const saved = await repository.use(model.id, (m) => {
          m.count += 1;
          m.tags.push('used');
        });
        expect(saved.count).toBe(2);
        const { model: stored, version } = await repository.fetchVersioned(model.id);
        expect(stored).toEqual(conformanceModel(model.id, { count: 2, tags: ['used'] }));
        expect(version).toBe(2);
      });

      it('answers ModelNotFoundError without create, and creates the model with it', async () => {
        const repository = await open();
        const id = uuidv7();
        const error = await repository.use(id, () => {}).catch((e: unknown) => e);
        expect(isModelNotFoundError(error)).toBe(true);
        await repository.use(
          id,
          async (m) => {
            await delay(1);
            m.count = 7;
          },
          { create: (newId) => conformanceModel(newId) },
        );
        const { model, version } = await repository.fetchVersioned(id);
        expect(model.count).toBe(7);
        expect(version).toBe(1);
      });

      it('saves nothing when fn throws, and rethrows that error', async () => {
        const repository = await open();
        const model = conformanceModel(uuidv7(), { count: 1 });
        await repository.save(model);
        const failure = new Error('projection failed');
        const error = await repository
          .use(model.id, (m) => {
            m.count = 100;
            throw failure;
          })
          .catch((e: unknown) => e);
        expect(error).toBe(failure);
        const created = await repository
          .use(
            uuidv7(),
            () => {
              throw failure;
            },
            { create: (id) => conformanceModel(id) },
          )
          .catch((e: unknown) => e);
        expect(created).toBe(failure);
        expect(await repository.fetchVersioned(model.id)).toEqual({ model, version: 1 });
      });

      it('saves nothing when fn returns false', async () => {
        const repository = await open();
        const model = conformanceModel(uuidv7());
        await repository.save(model);
        await repository.use(model.id, (m) => {
          m.count = 5;
          return false;
        });
        expect(await repository.fetchVersioned(model.id)).toEqual({ model, version: 1 });
        const id = uuidv7();
        await repository.use(id, async () => false, { create: (newId) => conformanceModel(newId) });
        expect(isModelNotFoundError(await repository.fetch(id).catch((e: unknown) => e))).toBe(
          true,
        );
      });

      it('starts over with a fresh model when a save got in between (optimistic concurrency)', async () => {
        const repository = await open();
        const model = conformanceModel(uuidv7());
        await repository.save(model);
        let calls = 0;
        await repository.use(model.id, async (m) => {
          calls++;
          if (calls === 1) await repository.save({ ...model, tags: ['other writer'] });
          m.count += 1;
        });
        expect(calls).toBe(2);
        const { model: stored, version } = await repository.fetchVersioned(model.id);
        expect(stored.tags).toEqual(['other writer']);
        expect(stored.count).toBe(1);
        expect(version).toBe(3);
      });

      it('gives up with ModelConflictError after its retries', async () => {
        const repository = await open();
        const model = conformanceModel(uuidv7());
        await repository.save(model);
        let calls = 0;
        const error = await conflict(
          repository.use(
            model.id,
            async (m) => {
              calls++;
              await repository.save({ ...model, title: `interference ${calls}` });
              m.count += 1;
            },
            { retries: 2 },
          ),
        );
        expect(calls).toBe(3);
        expect(error.modelId).toBe(model.id);
        expect((await repository.fetch(model.id)).count).toBe(0);
      });

      it(`loses no update under ${concurrency} concurrent use calls on one model`, async () => {
        const repository = await open();
        const model = conformanceModel(uuidv7());
        await repository.save(model);
        await Promise.all(
          Array.from({ length: concurrency }, (_, i) =>
            repository.use(
              model.id,
              async (m) => {
                await delay(1);
                m.count += 1;
                m.tags.push(`writer ${i}`);
              },
              { retries: concurrency * 2 },
            ),
          ),
        );
        const { model: stored, version } = await repository.fetchVersioned(model.id);
        expect(stored.count).toBe(concurrency);
        expect([...stored.tags].sort()).toEqual(
          Array.from({ length: concurrency }, (_, i) => `writer ${i}`).sort(),
        );
        expect(version).toBe(concurrency + 1);
      });

      it(`loses no update when ${concurrency} concurrent use calls create the same model`, async () => {
        const repository = await open();
        const id = uuidv7();
        await Promise.all(
          Array.from({ length: concurrency }, () =>
            repository.use(
              id,
              async (m) => {
                await delay(1);
                m.count += 1;
              },
              { create: (newId) => conformanceModel(newId), retries: concurrency * 2 },
            ),
          ),
        );
        const { model, version } = await repository.fetchVersioned(id);
        expect(model.count).toBe(concurrency);
        expect(version).toBe(concurrency);
      });
    });

    describe('delete', () => {
      it('deletes a model: it is not found any more, others stay, a second delete answers false', async () => {
        const repository = await open();
        const a = conformanceModel(uuidv7());
        const b = conformanceModel(uuidv7());
        await repository.save(a);
        await repository.save(b);
        expect(await repository.delete(a.id)).toBe(true);
        expect(isModelNotFoundError(await repository.fetch(a.id).catch((e: unknown) => e))).toBe(
          true,
        );
        expect(await repository.fetch(b.id)).toEqual(b);
        expect(await repository.delete(a.id)).toBe(false);
      });

      it('with a stale expectedVersion refuses to delete; with the current one deletes', async () => {
        const repository = await open();
        const model = conformanceModel(uuidv7());
        await repository.save(model);
        await repository.save(model);
        const error = await conflict(repository.delete(model.id, { expectedVersion: 1 }));
        expect([error.expected, error.actual]).toEqual([1, 2]);
        expect(await repository.fetch(model.id)).toEqual(model);
        expect(await repository.delete(model.id, { expectedVersion: 2 })).toBe(true);
      });

      it('starts a model saved again after its deletion at version 1', async () => {
        const repository = await open();
        const model = conformanceModel(uuidv7());
        await repository.save(model);
        await repository.save(model);
        await repository.delete(model.id);
        expect(await repository.save(model, { expectedVersion: 0 })).toBe(1);
      });
    });

    describe('bad input, cancellation and closing', () => {
      it('refuses empty and non-string ids with InvalidArgumentError', async () => {
        const repository = await open();
        for (const id of ['', 42 as unknown as string, undefined as unknown as string]) {
          const calls: (() => Promise<unknown>)[] = [
            () => repository.fetch(id),
            () => repository.use(id, () => {}),
            () => repository.delete(id),
            () => repository.save(conformanceModel(id)),
          ];
          for (const call of calls) {
            const error = await Promise.resolve()
              .then(call)
              .catch((e: unknown) => e);
            expect(isGoesError(error, 'INVALID_ARGUMENT')).toBe(true);
          }
        }
      });

      it('refuses a bad expectedVersion with InvalidArgumentError and stores nothing', async () => {
        const repository = await open();
        const model = conformanceModel(uuidv7());
        for (const expectedVersion of [-1, 1.5, '1' as unknown as number, Number.NaN]) {
          const error = await repository.save(model, { expectedVersion }).catch((e: unknown) => e);
          expect(isGoesError(error, 'INVALID_ARGUMENT')).toBe(true);
          const deleted = await repository
            .delete(model.id, { expectedVersion })
            .catch((e: unknown) => e);
          expect(isGoesError(deleted, 'INVALID_ARGUMENT')).toBe(true);
        }
        expect(
          isModelNotFoundError(await repository.fetch(model.id).catch((e: unknown) => e)),
        ).toBe(true);
      });

      it('rejects with the reason of an aborted signal and writes nothing', async () => {
        const repository = await open();
        const model = conformanceModel(uuidv7());
        const reason = new Error('cancelled');
        const signal = AbortSignal.abort(reason);
        await expect(repository.save(model, { signal })).rejects.toBe(reason);
        await expect(repository.fetch(model.id, { signal })).rejects.toBe(reason);
        await expect(
          repository.use(model.id, () => {}, { signal, create: (id) => conformanceModel(id) }),
        ).rejects.toBe(reason);
        await expect(repository.delete(model.id, { signal })).rejects.toBe(reason);
        expect(
          isModelNotFoundError(await repository.fetch(model.id).catch((e: unknown) => e)),
        ).toBe(true);
      });

      it('refuses calls after close()', async () => {
        const repository = await open();
        await repository.close();
        const error = await repository.fetch(uuidv7()).catch((e: unknown) => e);
        expect(isGoesError(error, 'CLOSED')).toBe(true);
        const saved = await repository.save(conformanceModel(uuidv7())).catch((e: unknown) => e);
        expect(isGoesError(saved, 'CLOSED')).toBe(true);
      });
    });
  });
}
