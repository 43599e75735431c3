import { ClosedError, InvalidArgumentError, type SignalOptions } from '@goes/event';
import { ModelConflictError, ModelNotFoundError } from './errors.js';
import {
  checkExpectedVersion,
  checkModelId,
  type DeleteOptions,
  type ModelRepository,
  type SaveOptions,
  type UseFunction,
  type UseOptions,
  useModel,
  type Versioned,
} from './model-repository.js';

/**
 * Options of {@link createMemoryModelRepository}.
 *
 * @example
 * ```ts
 * createMemoryModelRepository<Summary>({ modelId: (s) => s.orderId, clone: (s) => Summary.from(s) });
 * ```
 */
export interface MemoryModelRepositoryOptions<M> {
  /** The id of a model. Default: its `id` property. */
  readonly modelId?: ((model: M) => string) | undefined;
  /**
   * Copies a model into and out of the repository, so that, as with a database, a fetched model
   * is the caller's own and only `save` changes what is stored. Default: `structuredClone` with
   * the model's prototype restored (class instances keep their methods; `#private` fields and
   * functions are not copied). Pass `(m) => m` to share instances as goes did.
   */
  readonly clone?: ((model: M) => M) | undefined;
}

/**
 * The in-memory model repository of a {@link createMemoryModelRepository}: a {@link ModelRepository}
 * plus a look at everything stored.
 *
 * @example
 * ```ts
 * const models: MemoryModelRepository<Summary> = createMemoryModelRepository();
 * console.log(models.size, [...models.snapshot().keys()]);
 * ```
 */
export interface MemoryModelRepository<M> extends ModelRepository<M> {
  /** How many models are stored. */
  readonly size: number;
  /** Copies of all stored models by id (goes' `Models`). */
  snapshot(): Map<string, M>;
}

/**
 * Creates the in-memory read-model repository (goes' `memory.NewModelRepository`), for
 * development and tests. It keeps the contract a database keeps: copies in and out, versions
 * checked on save, typed not-found. `use` waits for other `use` calls of the same id through a
 * queue (goes polled a 50 ms ticker, so every call took at least 50 ms) and still checks the
 * version, so a plain `save` in between is never overwritten.
 *
 * @example
 * ```ts
 * interface Counter { id: string; count: number }
 * const counters = createMemoryModelRepository<Counter>();
 * await counters.use('orders', (c) => { c.count++; }, { create: (id) => ({ id, count: 0 }) });
 * ```
 */
export function createMemoryModelRepository<M>(
  options: MemoryModelRepositoryOptions<M> = {},
): MemoryModelRepository<M> {
  return new InMemoryModelRepository(options);
}

interface Stored<M> {
  readonly model: M;
  readonly version: number;
}

class InMemoryModelRepository<M> implements MemoryModelRepository<M> {
  readonly #models = new Map<string, Stored<M>>();
  /** The tail of the queue of `use` calls per id. */
  readonly #locks = new Map<string, Promise<void>>();
  readonly #modelId: (model: M) => string;
  readonly #clone: (model: M) => M;
  #closed = false;

  constructor(options: MemoryModelRepositoryOptions<M>) {
    this.#modelId = options.modelId ?? defaultModelId;
    this.#clone = options.clone ?? cloneWithPrototype;
  }

  get size(): number {
    return this.#models.size;
  }

  snapshot(): Map<string, M> {
    const copy = new Map<string, M>();
    for (const [id, { model }] of this.#models) copy.set(id, this.#clone(model));
    return copy;
  }

  async fetch(id: string, options: SignalOptions = {}): Promise<M> {
    return (await this.fetchVersioned(id, options)).model;
  }

  async fetchVersioned(id: string, options: SignalOptions = {}): Promise<Versioned<M>> {
    this.#check(options);
    checkModelId(id);
    const stored = this.#models.get(id);
    if (!stored) throw new ModelNotFoundError(id);
    return { model: this.#clone(stored.model), version: stored.version };
  }

  async save(model: M, options: SaveOptions = {}): Promise<number> {
    this.#check(options);
    checkExpectedVersion(options.expectedVersion);
    const id = this.#idOf(model);
    const actual = this.#models.get(id)?.version ?? 0;
    if (options.expectedVersion !== undefined && options.expectedVersion !== actual) {
      throw new ModelConflictError(id, options.expectedVersion, actual);
    }
    const version = actual + 1;
    this.#models.set(id, { model: this.#copyIn(id, model), version });
    return version;
  }

  async use(id: string, fn: UseFunction<M>, options: UseOptions<M> = {}): Promise<M> {
    this.#check(options);
    checkModelId(id);
    if (typeof fn !== 'function') throw new InvalidArgumentError('use: fn must be a function');
    const release = await this.#lock(id, options.signal);
    try {
      return await useModel(this, id, fn, options, (model) => this.#idOf(model));
    } finally {
      release();
    }
  }

  async delete(id: string, options: DeleteOptions = {}): Promise<boolean> {
    this.#check(options);
    checkModelId(id);
    checkExpectedVersion(options.expectedVersion);
    const actual = this.#models.get(id)?.version ?? 0;
    if (options.expectedVersion !== undefined && options.expectedVersion !== actual) {
      throw new ModelConflictError(id, options.expectedVersion, actual);
    }
    return this.#models.delete(id);
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #check(options: SignalOptions): void {
    if (this.#closed) throw new ClosedError('the in-memory model repository');
    options.signal?.throwIfAborted();
  }

  #idOf(model: M): string {
    const id = this.#modelId(model);
    checkModelId(id);
    return id;
  }

  #copyIn(id: string, model: M): M {
    try {
      return this.#clone(model);
    } catch (error) {
      throw new InvalidArgumentError(
        `model ${JSON.stringify(id)} cannot be copied (${error instanceof Error ? error.message : String(error)}); pass a clone option`,
      );
    }
  }

  /** Waits for the earlier `use` calls of `id`; resolves to the function that lets the next one go. */
  async #lock(id: string, signal: AbortSignal | undefined): Promise<() => void> {
    const previous = this.#locks.get(id) ?? Promise.resolve();
    let release!: () => void;
    const current = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => current);
    this.#locks.set(id, tail);
    const done = () => {
      release();
      if (this.#locks.get(id) === tail) this.#locks.delete(id);
    };
    if (!signal) {
      await previous;
      return done;
    }
    try {
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(signal.reason);
        if (signal.aborted) return onAbort();
        signal.addEventListener('abort', onAbort, { once: true });
        previous.then(() => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        });
      });
    } catch (error) {
      // Our turn still comes after `previous`; pass it on at once.
      done();
      throw error;
    }
    return done;
  }
}

function defaultModelId(model: unknown): string {
  const id = (model as { id?: unknown } | null)?.id;
  if (typeof id !== 'string' || id.length === 0) {
    throw new InvalidArgumentError(
      `the model has no string "id" property (got ${JSON.stringify(id) ?? String(id)}); pass a modelId option`,
    );
  }
  return id;
}

function cloneWithPrototype<M>(model: M): M {
  const copy = structuredClone(model);
  if (typeof model === 'object' && model !== null) {
    const prototype = Object.getPrototypeOf(model) as object | null;
    if (prototype !== Object.prototype && prototype !== null && !Array.isArray(model)) {
      Object.setPrototypeOf(copy, prototype);
    }
  }
  return copy;
}
