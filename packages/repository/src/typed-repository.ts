import {
  type Aggregate,
  type AggregateQuery,
  refOf,
  validateAggregateQuery,
} from '@goes/aggregate';
import { InvalidArgumentError, isUuid, NIL_UUID, type SignalOptions } from '@goes/event';
import { AggregateNotFoundError, isVersionNotFoundError } from './errors.js';
import type { RepositoryQueryOptions, UseOptions } from './options.js';
import type { Repository } from './repository.js';

/**
 * A repository of one aggregate type (goes' `TypedRepository`), built from a factory
 * `(id) => new Product(id)`: it creates the aggregates it loads, and `fetch` of an aggregate
 * nothing is stored for answers {@link AggregateNotFoundError} (goes returned a version-0
 * aggregate).
 *
 * @example
 * ```ts
 * const products = repository.typed((id) => new Product(id));
 * await products.use(id, (product) => product.create('A-1', 'Chair'));
 * const product = await products.fetch(id);
 * for await (const p of products.query({ versions: { min: [2] } })) console.log(p.id);
 * ```
 */
export interface TypedRepository<A extends Aggregate> {
  /** The aggregate name, taken from `factory(NIL_UUID)`. */
  readonly aggregateName: string;
  /** The untyped repository underneath. */
  readonly repository: Repository;
  /**
   * A new aggregate from the factory (not loaded).
   * @throws {@link InvalidArgumentError} when the factory makes an aggregate of another name or id.
   */
  make(id: string): A;
  /** Saves the aggregate's changes (see `Repository.save`). */
  save(aggregate: A, options?: SignalOptions): Promise<void>;
  /**
   * Loads the aggregate with this id.
   * @throws {@link AggregateNotFoundError} when nothing is stored for it,
   * {@link AggregateDeletedError} when it is soft-deleted, and what `Repository.fetch` throws.
   */
  fetch(id: string, options?: SignalOptions): Promise<A>;
  /**
   * Loads the aggregate at exactly `version` (≥ 1).
   * @throws {@link AggregateNotFoundError}, {@link VersionNotFoundError}.
   */
  fetchVersion(id: string, version: number, options?: SignalOptions): Promise<A>;
  /** Loads what was stored since into a loaded aggregate (goes' `Refresh`). */
  refresh(aggregate: A, options?: SignalOptions): Promise<A>;
  /**
   * Runs `fn` on the aggregate and saves it, retrying on version conflicts with a fresh aggregate
   * every attempt. An aggregate nothing is stored for starts at version 0, so `use` also creates.
   */
  use(id: string, fn: (aggregate: A) => unknown, options?: UseOptions): Promise<A>;
  /**
   * Streams the aggregates of this type that `q` selects, rebuilt from their events (see
   * `Repository.query`; `q.names` may only name this type). Soft-deleted ones are left out unless
   * `includeSoftDeleted`.
   */
  query(q?: AggregateQuery, options?: RepositoryQueryOptions): AsyncIterable<A>;
  /** Deletes the aggregate and its snapshots (see `Repository.delete`). */
  delete(target: A | string, options?: SignalOptions): Promise<void>;
}

/**
 * Creates a {@link TypedRepository} over a repository; `repository.typed(factory)` is the same.
 *
 * @throws {@link InvalidArgumentError} when the factory does not make an aggregate.
 * @example
 * ```ts
 * const products = createTypedRepository(repository, (id) => new Product(id));
 * ```
 */
export function createTypedRepository<A extends Aggregate>(
  repository: Repository,
  factory: (id: string) => A,
): TypedRepository<A> {
  if (typeof factory !== 'function') {
    throw new InvalidArgumentError('a typed repository needs a factory (id) => aggregate');
  }
  const probe = factory(NIL_UUID);
  if (typeof probe?.aggregateName !== 'string' || probe.aggregateName.length === 0) {
    throw new InvalidArgumentError(
      'the factory of a typed repository must return an aggregate with a non-empty aggregateName',
    );
  }
  return new TypedAggregateRepository(repository, factory, probe.aggregateName);
}

class TypedAggregateRepository<A extends Aggregate> implements TypedRepository<A> {
  readonly repository: Repository;
  readonly aggregateName: string;
  readonly #factory: (id: string) => A;

  constructor(repository: Repository, factory: (id: string) => A, aggregateName: string) {
    this.repository = repository;
    this.#factory = factory;
    this.aggregateName = aggregateName;
  }

  make(id: string): A {
    if (!isUuid(id)) {
      throw new InvalidArgumentError(
        `${this.aggregateName} id ${JSON.stringify(id)} is not a lowercase UUID`,
      );
    }
    const aggregate = this.#factory(id);
    if (aggregate.aggregateName !== this.aggregateName || aggregate.id !== id) {
      throw new InvalidArgumentError(
        `the factory of the "${this.aggregateName}" repository made ${aggregate.aggregateName}(${aggregate.id}) for id ${id}`,
      );
    }
    return aggregate;
  }

  async save(aggregate: A, options?: SignalOptions): Promise<void> {
    this.#own(aggregate);
    await this.repository.save(aggregate, options);
  }

  async fetch(id: string, options?: SignalOptions): Promise<A> {
    const aggregate = await this.repository.fetch(this.make(id), options);
    if (aggregate.version === 0) throw new AggregateNotFoundError(refOf(aggregate));
    return aggregate;
  }

  async fetchVersion(id: string, version: number, options?: SignalOptions): Promise<A> {
    if (!Number.isSafeInteger(version) || version < 1) {
      throw new InvalidArgumentError(
        `fetchVersion: version ${String(version)} must be a positive integer`,
      );
    }
    const aggregate = this.make(id);
    try {
      return await this.repository.fetchVersion(aggregate, version, options);
    } catch (error) {
      if (isVersionNotFoundError(error) && error.actual === 0) {
        throw new AggregateNotFoundError(refOf(aggregate));
      }
      throw error;
    }
  }

  async refresh(aggregate: A, options?: SignalOptions): Promise<A> {
    this.#own(aggregate);
    return this.repository.fetch(aggregate, options);
  }

  async use(id: string, fn: (aggregate: A) => unknown, options?: UseOptions): Promise<A> {
    const make = () => this.make(id);
    make(); // a bad id fails here, once, instead of inside the retry loop
    return this.repository.use(make, fn, options);
  }

  query(q: AggregateQuery = {}, options: RepositoryQueryOptions = {}): AsyncIterable<A> {
    validateAggregateQuery(q);
    if (q.names && q.names.length > 0 && !q.names.includes(this.aggregateName)) {
      return { [Symbol.asyncIterator]: async function* () {} };
    }
    const histories = this.repository.query(
      { ...q, names: [this.aggregateName] },
      { ...options, includeSoftDeleted: true },
    );
    const includeSoftDeleted = options.includeSoftDeleted ?? false;
    const make = (id: string) => this.make(id);
    return {
      async *[Symbol.asyncIterator]() {
        for await (const history of histories) {
          const aggregate = make(history.aggregate.id);
          history.apply(aggregate);
          // The aggregate knows its soft-delete events; the history stream was not told them.
          if (aggregate.softDeleted && !includeSoftDeleted) continue;
          yield aggregate;
        }
      },
    };
  }

  async delete(target: A | string, options?: SignalOptions): Promise<void> {
    const aggregate = typeof target === 'string' ? this.make(target) : target;
    this.#own(aggregate);
    await this.repository.delete(aggregate, options);
  }

  #own(aggregate: A): void {
    if (aggregate?.aggregateName !== this.aggregateName) {
      throw new InvalidArgumentError(
        `the "${this.aggregateName}" repository cannot take a "${String(aggregate?.aggregateName)}" aggregate`,
      );
    }
  }
}
