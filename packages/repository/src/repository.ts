import {
  type Aggregate,
  type AggregateQuery,
  applyHistoryStream,
  applySnapshot,
  createSnapshot,
  type History,
  isSnapshotNotFoundError,
  refOf,
  type Snapshot,
  type SnapshotStore,
  SnapshotUnsupportedError,
  supportsSnapshots,
  UncommittedChangesError,
  validateAggregateQuery,
  validateConsistency,
} from '@goes/aggregate';
import {
  type AggregateRef,
  type EventStore,
  InvalidArgumentError,
  isGoesError,
  query,
  type SignalOptions,
} from '@goes/event';
import { drain, sleep } from '@goes/streams';
import { AggregateDeletedError, DeleteIncompleteError, VersionNotFoundError } from './errors.js';
import type {
  HistoryQueryOptions,
  HookContext,
  RepositoryHooks,
  RepositoryOptions,
  RepositorySnapshotOptions,
  UseOptions,
} from './options.js';
import { queryHistories } from './query.js';
import { resolveRetryPolicy } from './retry.js';
import { createTypedRepository, type TypedRepository } from './typed-repository.js';

/**
 * The aggregate repository (goes' `aggregate/repository.Repository`): saves aggregates' changes
 * to an event store and rebuilds aggregates from it, with snapshots, hooks and retries. Works
 * with any {@link Aggregate}; {@link Repository.typed} gives a repository of one aggregate type.
 *
 * @example
 * ```ts
 * const repository = createRepository({ store: createMemoryEventStore() });
 * const product = new Product(uuidv7());
 * product.create('A-1', 'Chair');
 * await repository.save(product);
 * const again = await repository.fetch(new Product(product.id));
 * ```
 */
export interface Repository {
  /** The event store the repository reads and writes. */
  readonly store: EventStore;
  /** The snapshot store, when snapshots are configured. */
  readonly snapshots: SnapshotStore | undefined;
  /**
   * Stores the aggregate's changes in one atomic insert and commits them (goes' `Save`):
   * validate, `beforeInsert` hooks, insert, commit, `afterInsert` hooks, then a snapshot when the
   * schedule says so. An aggregate without changes is a no-op.
   *
   * @throws {@link ConsistencyError} for invalid changes and {@link SnapshotUnsupportedError}
   * when a snapshot is due but impossible (both before anything is stored);
   * {@link VersionConflictError} when another writer stored a version first (the aggregate keeps
   * its changes); what a hook throws.
   */
  save(aggregate: Aggregate, options?: SignalOptions): Promise<void>;
  /**
   * Loads what is stored after the aggregate's version into it (goes' `Fetch`, which is also a
   * refresh): from the newest snapshot newer than the aggregate, then the events after it,
   * validated as they stream in. An aggregate nothing is stored for stays at version 0.
   *
   * @throws {@link UncommittedChangesError} for an aggregate with changes,
   * {@link AggregateDeletedError} when it is soft-deleted, {@link ConsistencyError},
   * {@link UnknownEventError}, {@link SnapshotCorruptError}. After an error the aggregate may be
   * half-loaded: discard it.
   */
  fetch<A extends Aggregate>(aggregate: A, options?: SignalOptions): Promise<A>;
  /**
   * Loads the aggregate up to exactly `version` (goes' `FetchVersion`), from the newest snapshot
   * at or below it.
   *
   * @throws {@link VersionNotFoundError} when there is no such version,
   * {@link InvalidArgumentError} for a negative version or one below the aggregate's, and what
   * `fetch` throws.
   */
  fetchVersion<A extends Aggregate>(
    aggregate: A,
    version: number,
    options?: SignalOptions,
  ): Promise<A>;
  /**
   * Fetches a fresh aggregate from `make`, runs `fn` on it and saves it (goes' `Use`); on an error
   * the retry policy accepts (by default {@link VersionConflictError}) it waits and starts again
   * with a new aggregate from `make`, never the mutated one (goes bug 1). Once the changes are
   * stored, an error (of an `afterInsert` hook) is thrown without a retry, so `fn`'s changes are
   * never stored twice. Resolves to the saved aggregate.
   *
   * @throws the last error when attempts run out or the error is not retryable;
   * {@link InvalidArgumentError} when `make` returns the same instance twice.
   */
  use<A extends Aggregate>(
    make: () => A,
    fn: (aggregate: A) => unknown,
    options?: UseOptions,
  ): Promise<A>;
  /**
   * Streams the histories of the aggregates an aggregate query selects (goes' `Query`): names and
   * ids filter in the store, `versions` selects by the version after rebuilding, and results are
   * sorted as `q.sort` says (ties by name, id, version ascending; sorting by version reads every
   * selected aggregate before the first is returned). Soft-deleted aggregates are left out when a
   * `softDelete` policy is given. A malformed query throws at call.
   */
  query(q?: AggregateQuery, options?: HistoryQueryOptions): AsyncIterable<History>;
  /**
   * Deletes an aggregate for good (goes' `Delete`): its snapshots first, then every event in one
   * store call (atomic on every store), then the `afterDelete` hooks. Events a concurrent writer
   * appended meanwhile are deleted in a further round; the snapshots are deleted again after the
   * events, and a save whose snapshot lands after that removes it when it finds its events gone,
   * so a concurrent save cannot bring the aggregate back. Deleting an unknown aggregate is a no-op
   * (the hooks still run).
   *
   * @throws {@link DeleteIncompleteError} when writers keep appending.
   */
  delete(target: Aggregate | AggregateRef, options?: SignalOptions): Promise<void>;
  /**
   * A repository of one aggregate type, made by `factory(id)`.
   *
   * @example
   * ```ts
   * const products = repository.typed((id) => new Product(id));
   * ```
   */
  typed<A extends Aggregate>(factory: (id: string) => A): TypedRepository<A>;
}

const MAX_DELETE_ROUNDS = 5;

/**
 * Creates a {@link Repository}.
 *
 * @throws {@link InvalidArgumentError} for a missing store or a bad retry policy.
 * @example
 * ```ts
 * const repository = createRepository({
 *   store: createMemoryEventStore(),
 *   snapshots: { store: createMemorySnapshotStore(), schedule: snapshotEvery(100) },
 * });
 * const products = repository.typed((id) => new Product(id));
 * await products.use(id, (product) => product.price(250));
 * ```
 */
export function createRepository(options: RepositoryOptions): Repository {
  if (!options || typeof options.store?.query !== 'function') {
    throw new InvalidArgumentError('createRepository needs an event store (options.store)');
  }
  if (options.snapshots && typeof options.snapshots.store?.latest !== 'function') {
    throw new InvalidArgumentError('options.snapshots needs a snapshot store (snapshots.store)');
  }
  resolveRetryPolicy(options.retry);
  return new AggregateRepository(options);
}

const list = <T>(value: T | readonly T[] | undefined): readonly T[] =>
  value === undefined ? [] : Array.isArray(value) ? (value as readonly T[]) : [value as T];

class AggregateRepository implements Repository {
  readonly store: EventStore;
  readonly snapshots: SnapshotStore | undefined;
  readonly #snapshotOptions: RepositorySnapshotOptions | undefined;
  readonly #validate: boolean;
  readonly #hooks: RepositoryHooks;
  readonly #options: RepositoryOptions;

  constructor(options: RepositoryOptions) {
    this.#options = options;
    this.store = options.store;
    this.snapshots = options.snapshots?.store;
    this.#snapshotOptions = options.snapshots;
    this.#validate = options.validate ?? true;
    this.#hooks = options.hooks ?? {};
  }

  async save(aggregate: Aggregate, options: SignalOptions = {}): Promise<void> {
    const { signal } = options;
    signal?.throwIfAborted();
    const changes = aggregate.changes;
    if (changes.length === 0) return;
    const ref = refOf(aggregate);
    if (this.#validate) validateConsistency(ref, aggregate.version, changes);
    const snapshotDue = this.#snapshotOptions?.schedule?.shouldSnapshot(aggregate) ?? false;
    if (snapshotDue && !supportsSnapshots(aggregate)) throw new SnapshotUnsupportedError(ref);
    const context: HookContext = { signal };
    for (const hook of list(this.#hooks.beforeInsert)) await hook(aggregate, context);
    try {
      await this.store.insert(changes, { signal });
    } catch (error) {
      for (const hook of list(this.#hooks.onInsertFailed)) await hook(aggregate, error, context);
      throw error;
    }
    // Stored: from here on the aggregate reflects the store, whatever else fails.
    aggregate.commit();
    let hookError: { error: unknown } | undefined;
    for (const hook of list(this.#hooks.afterInsert)) {
      try {
        await hook(aggregate, context);
      } catch (error) {
        hookError ??= { error };
      }
    }
    if (snapshotDue) await this.#saveSnapshot(aggregate, changes[changes.length - 1]?.id);
    if (hookError) throw hookError.error;
  }

  async fetch<A extends Aggregate>(aggregate: A, options: SignalOptions = {}): Promise<A> {
    const { signal } = options;
    signal?.throwIfAborted();
    this.#refuseChanges(aggregate, 'fetch');
    await this.#restoreSnapshot(aggregate, undefined, signal);
    const events = this.store.query(
      // One aggregate's events come in position order, which is version order: the store only
      // accepts version v + 1 after v is stored. The consistency check proves it on every read.
      query()
        .aggregate(aggregate.aggregateName, aggregate.id)
        .versionMin(aggregate.version + 1),
      { signal },
    );
    await applyHistoryStream(aggregate, events, { signal });
    if (aggregate.softDeleted) throw new AggregateDeletedError(refOf(aggregate), aggregate.version);
    return aggregate;
  }

  async fetchVersion<A extends Aggregate>(
    aggregate: A,
    version: number,
    options: SignalOptions = {},
  ): Promise<A> {
    const { signal } = options;
    signal?.throwIfAborted();
    if (!Number.isSafeInteger(version) || version < 0) {
      throw new InvalidArgumentError(
        `fetchVersion: version ${String(version)} must be a non-negative integer`,
      );
    }
    this.#refuseChanges(aggregate, 'fetch');
    if (version < aggregate.version) {
      throw new InvalidArgumentError(
        `fetchVersion: ${aggregate.aggregateName}(${aggregate.id}) is at version ${aggregate.version} already; version ${version} needs a fresh aggregate`,
      );
    }
    if (version > aggregate.version) {
      await this.#restoreSnapshot(aggregate, version, signal);
      const events = this.store.query(
        query()
          .aggregate(aggregate.aggregateName, aggregate.id)
          .versionMin(aggregate.version + 1)
          .versionMax(version),
        { signal },
      );
      await applyHistoryStream(aggregate, events, { signal });
    }
    if (aggregate.version !== version) {
      throw new VersionNotFoundError(refOf(aggregate), version, aggregate.version);
    }
    if (aggregate.softDeleted) throw new AggregateDeletedError(refOf(aggregate), aggregate.version);
    return aggregate;
  }

  async use<A extends Aggregate>(
    make: () => A,
    fn: (aggregate: A) => unknown,
    options: UseOptions = {},
  ): Promise<A> {
    const { signal } = options;
    const policy = resolveRetryPolicy(
      options.retry === undefined ? this.#options.retry : options.retry,
    );
    let previous: A | undefined;
    for (let attempt = 1; ; attempt++) {
      signal?.throwIfAborted();
      const aggregate = make();
      if (aggregate === previous) {
        throw new InvalidArgumentError(
          'use() needs a factory that returns a fresh aggregate on every call, e.g. () => new Product(id)',
        );
      }
      previous = aggregate;
      let unsaved = 0;
      try {
        await this.fetch(aggregate, { signal });
        await fn(aggregate);
        unsaved = aggregate.changes.length;
        await this.save(aggregate, { signal });
        return aggregate;
      } catch (error) {
        // `save` commits the aggregate as soon as the insert succeeded; an error after that (an
        // afterInsert hook) must not run `fn` again, or its changes would be stored twice.
        const stored = unsaved > 0 && aggregate.changes.length === 0;
        if (stored || attempt >= policy.maxAttempts || signal?.aborted || !policy.retryIf(error))
          throw error;
        await sleep(policy.delay(attempt), { signal });
      }
    }
  }

  query(q: AggregateQuery = {}, options: HistoryQueryOptions = {}): AsyncIterable<History> {
    validateAggregateQuery(q);
    return queryHistories(this.store, q, this.#options.modifyQuery, options);
  }

  async delete(target: Aggregate | AggregateRef, options: SignalOptions = {}): Promise<void> {
    const { signal } = options;
    signal?.throwIfAborted();
    const ref: AggregateRef =
      'aggregateName' in target ? refOf(target) : { name: target.name, id: target.id };
    if (typeof ref.name !== 'string' || ref.name.length === 0) {
      throw new InvalidArgumentError(
        `delete: aggregate name ${JSON.stringify(ref.name)} must be a non-empty string`,
      );
    }
    // Snapshots go first: a snapshot that outlived its events would be loaded into an aggregate
    // created again under the same id.
    await this.#deleteSnapshots(ref, signal);
    const all = query().aggregate(ref.name, ref.id);
    for (let round = 1; ; round++) {
      const events = await drain(this.store.query(all, { signal }));
      if (events.length === 0) break;
      if (round > MAX_DELETE_ROUNDS) throw new DeleteIncompleteError(ref, MAX_DELETE_ROUNDS);
      await this.store.delete(events, { signal });
    }
    // Again after the events: a save that was running took its snapshot after the first round.
    // One that takes it later still finds its events gone and removes it (#saveSnapshot); the
    // two together leave no snapshot to bring the deleted aggregate back.
    await this.#deleteSnapshots(ref, signal);
    const context: HookContext = { signal };
    for (const hook of list(this.#hooks.afterDelete)) await hook(ref, context);
  }

  typed<A extends Aggregate>(factory: (id: string) => A): TypedRepository<A> {
    return createTypedRepository(this, factory);
  }

  #refuseChanges(aggregate: Aggregate, operation: string): void {
    if (aggregate.changes.length > 0) {
      throw new UncommittedChangesError(refOf(aggregate), aggregate.changes.length, operation);
    }
  }

  async #stillStored(eventId: string): Promise<boolean> {
    try {
      await this.store.find(eventId);
      return true;
    } catch (error) {
      if (isGoesError(error, 'EVENT_NOT_FOUND')) return false;
      throw error;
    }
  }

  /** Restores the newest snapshot (at or below `maxVersion`) when it is ahead of the aggregate. */
  async #restoreSnapshot(
    aggregate: Aggregate,
    maxVersion: number | undefined,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const snapshots = this.snapshots;
    if (!snapshots || !supportsSnapshots(aggregate)) return;
    const { aggregateName: name, id } = aggregate;
    let snapshot: Snapshot | undefined;
    try {
      snapshot =
        maxVersion === undefined
          ? await snapshots.latest(name, id, { signal })
          : await snapshots.limit(name, id, maxVersion, { signal });
    } catch (error) {
      if (isSnapshotNotFoundError(error)) return;
      throw error;
    }
    if (snapshot.version > aggregate.version) {
      applySnapshot(aggregate, snapshot, { codec: this.#snapshotOptions?.codec });
    }
  }

  async #deleteSnapshots(ref: AggregateRef, signal: AbortSignal | undefined): Promise<void> {
    if (!this.snapshots) return;
    const snapshots = await drain(
      this.snapshots.query({ names: [ref.name], ids: [ref.id] }, { signal }),
    );
    if (snapshots.length > 0) await this.snapshots.delete(snapshots, { signal });
  }

  /**
   * Saves a snapshot of the aggregate just stored, then checks that its last event is still
   * there: a `delete` that ran meanwhile removed the events but could not see this snapshot, which
   * would otherwise bring the deleted aggregate back on the next fetch.
   */
  async #saveSnapshot(aggregate: Aggregate, lastEventId: string | undefined): Promise<void> {
    const options = this.#snapshotOptions as RepositorySnapshotOptions;
    try {
      const snapshot = createSnapshot(aggregate, { codec: options.codec });
      await options.store.save(snapshot);
      if (lastEventId !== undefined && !(await this.#stillStored(lastEventId))) {
        await options.store.delete([snapshot]);
      }
    } catch (error) {
      const report =
        options.onSaveError ??
        ((e: unknown, a: Aggregate) =>
          console.error(
            `goes: events of ${a.aggregateName}(${a.id}) are stored, but its snapshot at version ${a.version} was not:`,
            e,
          ));
      report(error, aggregate);
    }
  }
}
