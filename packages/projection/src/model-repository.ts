import { InvalidArgumentError, type SignalOptions } from '@goes/event';
import { sleep } from '@goes/streams';
import { isModelConflictError, isModelNotFoundError } from './errors.js';

/**
 * A model with the version its repository stored it under.
 *
 * @example
 * ```ts
 * const { model, version } = await models.fetchVersioned(id);
 * await models.save(change(model), { expectedVersion: version });
 * ```
 */
export interface Versioned<M> {
  readonly model: M;
  /** 1 after the first save, +1 per save. */
  readonly version: number;
}

/**
 * Options of {@link ModelRepository.save}.
 *
 * @example
 * ```ts
 * await models.save(model, { expectedVersion: 0 }); // insert only: fails if it exists
 * ```
 */
export interface SaveOptions extends SignalOptions {
  /**
   * Optimistic concurrency: the version the caller read (0 = the model must not exist yet).
   * A different stored version fails with {@link ModelConflictError} and nothing is written.
   * Omitted: an unconditional upsert.
   */
  readonly expectedVersion?: number | undefined;
}

/**
 * Options of {@link ModelRepository.delete}.
 *
 * @example
 * ```ts
 * await models.delete(id, { expectedVersion: version });
 * ```
 */
export interface DeleteOptions extends SignalOptions {
  /** Delete only if this version is stored ({@link ModelConflictError} otherwise). */
  readonly expectedVersion?: number | undefined;
}

/**
 * Options of {@link ModelRepository.use}.
 *
 * @example
 * ```ts
 * await models.use(id, (m) => { m.count++; }, { create: (id) => ({ id, count: 0 }), retries: 20 });
 * ```
 */
export interface UseOptions<M> extends SignalOptions {
  /** Makes a fresh model when none is stored (goes' `ModelFactory`); without it `use` throws {@link ModelNotFoundError}. */
  readonly create?: ((id: string) => M) | undefined;
  /** How often a conflicting save is retried with a freshly fetched model. Default 10. */
  readonly retries?: number | undefined;
}

/**
 * What `use`'s function returns: nothing (save the model) or `false` (nothing changed: skip the save).
 *
 * @example
 * ```ts
 * const fn: UseFunction<Summary> = (m) => (m.closed ? false : void (m.count += 1));
 * ```
 */
// biome-ignore lint/suspicious/noConfusingVoidType: an async function without a return value resolves to void
export type UseFunction<M> = (model: M) => void | boolean | PromiseLike<void | boolean>;

/**
 * The read-model repository contract (goes' `model.Repository`), designed for databases: a
 * repository stores a model's data under a string id together with a version it keeps itself,
 * and checks that version on every conditional write (optimistic concurrency), so concurrent
 * `use` calls never lose an update — goes' MongoDB repository had no such check.
 *
 * Implementations must:
 * - return a new model instance from every fetch (changes to it are stored only by `save`);
 * - start a model at version 1 and add 1 per save; a deleted model starts again at 1;
 * - refuse a `save`/`delete` whose `expectedVersion` is not the stored version with
 *   {@link ModelConflictError} `{ modelId, expected, actual }`, atomically (also across processes);
 * - answer `fetch` of an unknown id with {@link ModelNotFoundError};
 * - refuse an empty or non-string id with `InvalidArgumentError`;
 * - honour `signal` (an aborted call writes nothing) and refuse calls after `close()`.
 *
 * `@goes/testing`'s `modelRepositoryConformance` checks all of this. {@link useModel} implements
 * `use` on top of `fetchVersioned` and `save` for implementations that have no better way.
 *
 * @example
 * ```ts
 * const models: ModelRepository<OrderSummary> = createMemoryModelRepository<OrderSummary>();
 * await models.use(orderId, (summary) => job.apply(summary), { create: (id) => new OrderSummary(id) });
 * ```
 */
export interface ModelRepository<M> extends AsyncDisposable {
  /** The model stored under `id`. @throws {@link ModelNotFoundError} */
  fetch(id: string, options?: SignalOptions): Promise<M>;
  /** The model stored under `id` and its version. @throws {@link ModelNotFoundError} */
  fetchVersioned(id: string, options?: SignalOptions): Promise<Versioned<M>>;
  /**
   * Stores the model under its id and resolves to its new version.
   * @throws {@link ModelConflictError} when `expectedVersion` is given and not the stored version.
   */
  save(model: M, options?: SaveOptions): Promise<number>;
  /**
   * Fetches the model (or creates it with `options.create`), calls `fn` with it and saves it
   * with the fetched version as expected version; on {@link ModelConflictError} it starts over
   * with a freshly fetched model, up to `retries` times. If `fn` throws, nothing is saved and the
   * error is rethrown; if it returns `false`, nothing is saved. Resolves to the model as saved.
   */
  use(id: string, fn: UseFunction<M>, options?: UseOptions<M>): Promise<M>;
  /** Deletes the model; resolves to false when none was stored. */
  delete(id: string, options?: DeleteOptions): Promise<boolean>;
  /** Releases what the repository opened. */
  close(): Promise<void>;
}

/**
 * The storage half of a {@link ModelRepository}, enough to implement `use` with {@link useModel}.
 *
 * @example
 * ```ts
 * const storage: VersionedModelStorage<Summary> = { fetchVersioned, save };
 * ```
 */
export type VersionedModelStorage<M> = Pick<ModelRepository<M>, 'fetchVersioned' | 'save'>;

/** Default retries of {@link useModel}. */
const DEFAULT_USE_RETRIES = 10;

/**
 * `ModelRepository.use` built on `fetchVersioned` and a version-checked `save`, for repository
 * implementations: fetch (or create), call `fn`, save with `expectedVersion`, and on a conflict
 * start over with a fresh model after a short random back-off (so hot models settle), up to
 * `retries` times. With `modelId` (how the repository reads a model's id), a model that
 * `create` makes for another id is refused: it would be saved under that other id with the
 * version read for this one, while this one stayed missing.
 *
 * @throws whatever `fn` throws (nothing saved), {@link ModelNotFoundError} without `create`,
 *   {@link ModelConflictError} after the last retry, `signal.reason` on abort,
 *   {@link InvalidArgumentError} when `create` made a model of another id.
 * @example
 * ```ts
 * class PostgresModels<M> implements ModelRepository<M> {
 *   use(id: string, fn: UseFunction<M>, options?: UseOptions<M>) {
 *     return useModel(this, id, fn, options, (model) => this.modelId(model));
 *   }
 * }
 * ```
 */
export async function useModel<M>(
  storage: VersionedModelStorage<M>,
  id: string,
  fn: UseFunction<M>,
  options: UseOptions<M> = {},
  modelId?: (model: M) => string,
): Promise<M> {
  const retries = options.retries ?? DEFAULT_USE_RETRIES;
  if (!Number.isSafeInteger(retries) || retries < 0) {
    throw new InvalidArgumentError(
      `use: retries ${String(retries)} must be a non-negative integer`,
    );
  }
  const { signal } = options;
  for (let attempt = 0; ; attempt++) {
    signal?.throwIfAborted();
    let model: M;
    let version: number;
    try {
      ({ model, version } = await storage.fetchVersioned(id, { signal }));
    } catch (error) {
      if (!options.create || !isModelNotFoundError(error)) throw error;
      model = options.create(id);
      const made = modelId?.(model);
      if (made !== undefined && made !== id) {
        throw new InvalidArgumentError(
          `use: create(${JSON.stringify(id)}) made a model with id ${JSON.stringify(made)}`,
        );
      }
      version = 0;
    }
    const changed = await fn(model);
    if (changed === false) return model;
    signal?.throwIfAborted();
    try {
      await storage.save(model, { expectedVersion: version, signal });
      return model;
    } catch (error) {
      if (!isModelConflictError(error) || attempt >= retries) throw error;
    }
    // Spread the next attempts of concurrent writers of one model apart.
    await sleep(Math.random() * Math.min(50, 2 * (attempt + 1)), { signal });
  }
}

/**
 * Checks a model id: a non-empty string.
 *
 * @throws {@link InvalidArgumentError} naming the value.
 * @example
 * ```ts
 * checkModelId(id); // throws for '' or 42
 * ```
 */
export function checkModelId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || id.length === 0) {
    throw new InvalidArgumentError(`model id ${describeValue(id)} must be a non-empty string`);
  }
}

/**
 * Checks an `expectedVersion` option: undefined or a non-negative integer.
 *
 * @throws {@link InvalidArgumentError} naming the value.
 * @example
 * ```ts
 * checkExpectedVersion(options.expectedVersion);
 * ```
 */
export function checkExpectedVersion(version: unknown): asserts version is number | undefined {
  if (version === undefined) return;
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0) {
    throw new InvalidArgumentError(
      `expectedVersion ${describeValue(version)} must be a non-negative integer`,
    );
  }
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  return String(value);
}
