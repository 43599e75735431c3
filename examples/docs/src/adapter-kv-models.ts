/**
 * The worked example of docs/writing-an-adapter.md: a read-model repository on any key-value
 * store with compare-and-set (Redis WATCH/MULTI, DynamoDB conditional writes, etcd
 * transactions, …), which passes `modelRepositoryConformance` (../test/adapter.test.ts).
 */
// #region imports
import { ClosedError, type SignalOptions } from '@goes/event';
import {
  checkExpectedVersion,
  checkModelId,
  type DeleteOptions,
  ModelConflictError,
  ModelNotFoundError,
  type ModelRepository,
  type SaveOptions,
  type UseFunction,
  type UseOptions,
  useModel,
  type Versioned,
} from '@goes/projection';
// #endregion imports

// #region contract
/** The storage the adapter needs: read a key, and replace its value only if it is unchanged. */
export interface KeyValueStore {
  get(key: string): Promise<string | undefined>;
  /** Sets `key` to `next` (deletes it for undefined) if its value is `expected`; false if not. */
  compareAndSet(
    key: string,
    expected: string | undefined,
    next: string | undefined,
  ): Promise<boolean>;
}
// #endregion contract

// #region adapter
/** Stored per model: the version the repository keeps, and the model's data. */
interface Row<M> {
  readonly version: number;
  readonly model: M;
}

export function createKeyValueModelRepository<M extends { readonly id: string }>(
  kv: KeyValueStore,
  options: { readonly prefix?: string } = {},
): ModelRepository<M> {
  const prefix = options.prefix ?? 'model:';
  let closed = false;

  // Every call starts here: honour the signal, refuse use after close().
  const begin = (options: SignalOptions | undefined) => {
    options?.signal?.throwIfAborted();
    if (closed) throw new ClosedError('the key-value model repository');
  };
  const read = async (id: string): Promise<{ raw: string | undefined; row?: Row<M> }> => {
    const raw = await kv.get(prefix + id);
    return raw === undefined ? { raw } : { raw, row: JSON.parse(raw) as Row<M> };
  };

  const repository: ModelRepository<M> = {
    async fetchVersioned(id: string, options?: SignalOptions): Promise<Versioned<M>> {
      begin(options);
      checkModelId(id);
      const { row } = await read(id);
      if (!row) throw new ModelNotFoundError(id);
      return row; // parsed from text: a new copy on every fetch, as the contract asks
    },

    async fetch(id, options) {
      return (await repository.fetchVersioned(id, options)).model;
    },

    async save(model: M, options: SaveOptions = {}): Promise<number> {
      begin(options);
      checkModelId(model.id);
      checkExpectedVersion(options.expectedVersion);
      for (;;) {
        const { raw, row } = await read(model.id);
        const actual = row?.version ?? 0;
        const expected = options.expectedVersion;
        if (expected !== undefined && expected !== actual) {
          throw new ModelConflictError(model.id, expected, actual);
        }
        const next = JSON.stringify({ version: actual + 1, model } satisfies Row<M>);
        options.signal?.throwIfAborted(); // an aborted call writes nothing
        if (await kv.compareAndSet(prefix + model.id, raw, next)) return actual + 1;
        // Someone wrote in between: a conditional save re-reads and reports the conflict,
        // an unconditional one (no expectedVersion) tries again.
      }
    },

    use(id: string, fn: UseFunction<M>, options?: UseOptions<M>): Promise<M> {
      return useModel(repository, id, fn, options); // fetch, fn, save with expectedVersion, retry
    },

    async delete(id: string, options: DeleteOptions = {}): Promise<boolean> {
      begin(options);
      checkModelId(id);
      checkExpectedVersion(options.expectedVersion);
      for (;;) {
        const { raw, row } = await read(id);
        const actual = row?.version ?? 0;
        const expected = options.expectedVersion;
        if (expected !== undefined && expected !== actual) {
          throw new ModelConflictError(id, expected, actual);
        }
        if (!row) return false;
        options.signal?.throwIfAborted();
        if (await kv.compareAndSet(prefix + id, raw, undefined)) return true;
      }
    },

    async close() {
      closed = true;
    },
    [Symbol.asyncDispose]() {
      return repository.close();
    },
  };
  return repository;
}
// #endregion adapter

// #region memory-kv
/** A KeyValueStore in memory, for the tests (swap in your database's client). */
export function createMemoryKeyValueStore(): KeyValueStore {
  const data = new Map<string, string>();
  return {
    async get(key) {
      return data.get(key);
    },
    async compareAndSet(key, expected, next) {
      if (data.get(key) !== expected) return false;
      if (next === undefined) data.delete(key);
      else data.set(key, next);
      return true;
    },
  };
}
// #endregion memory-kv
