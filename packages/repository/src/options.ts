import type {
  Aggregate,
  AggregateQuery,
  SnapshotSchedule,
  SnapshotStore,
  SoftDeletePolicy,
} from '@goes/aggregate';
import type { Codec } from '@goes/codec';
import type { AggregateRef, EventQuery, EventStore, SignalOptions } from '@goes/event';
import type { RetryPolicy } from './retry.js';

/**
 * What a hook receives besides the aggregate: the signal of the call that runs it.
 *
 * @example
 * ```ts
 * const hook: AggregateHook = async (aggregate, { signal }) => audit.write(aggregate.changes, { signal });
 * ```
 */
export interface HookContext {
  readonly signal?: AbortSignal | undefined;
}

/**
 * A hook on an aggregate (goes' `BeforeInsert`/`AfterInsert`).
 *
 * @example
 * ```ts
 * const logSave: AggregateHook = (aggregate) => console.log('saving', aggregate.changes.length);
 * ```
 */
export type AggregateHook = (aggregate: Aggregate, context: HookContext) => void | Promise<void>;

/**
 * The repository's hooks (goes' repository options). Each takes one function or a list, run in
 * order.
 *
 * @example
 * ```ts
 * createRepository({ store, hooks: { afterInsert: (a) => metrics.count(a.aggregateName) } });
 * ```
 */
export interface RepositoryHooks {
  /** Before the changes are inserted; throwing aborts the save (nothing is stored). */
  readonly beforeInsert?: AggregateHook | readonly AggregateHook[] | undefined;
  /**
   * After the changes were stored and the aggregate committed. A hook that throws makes `save`
   * reject after the rest of the hooks ran; the events stay stored and the aggregate committed.
   */
  readonly afterInsert?: AggregateHook | readonly AggregateHook[] | undefined;
  /**
   * When the insert failed. A hook may throw to replace the error (later hooks then do not run,
   * as in goes); otherwise `save` rejects with the insert's error. The aggregate keeps its changes.
   */
  readonly onInsertFailed?:
    | ((aggregate: Aggregate, error: unknown, context: HookContext) => void | Promise<void>)
    | readonly ((
        aggregate: Aggregate,
        error: unknown,
        context: HookContext,
      ) => void | Promise<void>)[]
    | undefined;
  /** After `delete` removed the aggregate's events (goes' `OnDelete`). */
  readonly afterDelete?:
    | ((aggregate: AggregateRef, context: HookContext) => void | Promise<void>)
    | readonly ((aggregate: AggregateRef, context: HookContext) => void | Promise<void>)[]
    | undefined;
}

/**
 * Snapshot use of a repository (goes' `WithSnapshots(store, schedule)`).
 *
 * @example
 * ```ts
 * const snapshots: RepositorySnapshotOptions = { store: createMemorySnapshotStore(), schedule: snapshotEvery(100) };
 * ```
 */
export interface RepositorySnapshotOptions {
  /** Where snapshots are kept; `fetch` starts from the newest one. */
  readonly store: SnapshotStore;
  /**
   * When `save` takes a snapshot; without one, snapshots are only read. An aggregate the schedule
   * picks must implement `SnapshotHooks`, or `save` fails before storing anything.
   */
  readonly schedule?: SnapshotSchedule | undefined;
  /** Encodes and decodes snapshot states by aggregate name (default JSON). */
  readonly codec?: Codec | undefined;
  /**
   * Receives a failure to take or store a snapshot after the events were stored. `save` still
   * resolves: a snapshot is a cache, and a failed one must not make stored events look unsaved.
   * Default: a `console.error` line.
   */
  readonly onSaveError?: ((error: unknown, aggregate: Aggregate) => void) | undefined;
}

/**
 * Options of {@link createRepository}.
 *
 * @example
 * ```ts
 * const repository = createRepository({
 *   store,
 *   snapshots: { store: snapshots, schedule: snapshotEvery(100) },
 *   retry: { maxAttempts: 5 },
 * });
 * ```
 */
export interface RepositoryOptions {
  readonly store: EventStore;
  readonly snapshots?: RepositorySnapshotOptions | undefined;
  /**
   * Validate an aggregate's changes before inserting them (ids, names, consecutive versions from
   * the committed version, increasing times). Default true (goes' `ValidateConsistency`).
   */
  readonly validate?: boolean | undefined;
  readonly hooks?: RepositoryHooks | undefined;
  /** The default retry policy of `use`; `false` for a single attempt. */
  readonly retry?: RetryPolicy | false | undefined;
  /**
   * Changes the event query `query` runs for an aggregate query (goes' `ModifyQueries`), e.g. to
   * add a tenant filter. Functions run in order, each on the previous result.
   */
  readonly modifyQuery?:
    | ((eventQuery: EventQuery, aggregateQuery: AggregateQuery) => EventQuery)
    | readonly ((eventQuery: EventQuery, aggregateQuery: AggregateQuery) => EventQuery)[]
    | undefined;
}

/**
 * Options of `use`.
 *
 * @example
 * ```ts
 * await repository.use(() => new Product(id), (p) => p.price(5), { retry: { maxAttempts: 3 } });
 * ```
 */
export interface UseOptions extends SignalOptions {
  /** Overrides the repository's retry policy for this call; `false` for a single attempt. */
  readonly retry?: RetryPolicy | false | undefined;
}

/**
 * Options of the repositories' `query`.
 *
 * @example
 * ```ts
 * repository.query({ names: ['product'] }, { onError: (e) => log.warn(e), includeSoftDeleted: true });
 * ```
 */
export interface RepositoryQueryOptions extends SignalOptions {
  /**
   * Receives the error of an aggregate whose history is inconsistent; the query skips it and
   * goes on. Without it, the first such error ends the query (thrown from the iteration).
   */
  readonly onError?: ((error: unknown) => void) | undefined;
  /** Also return soft-deleted aggregates. Default false. */
  readonly includeSoftDeleted?: boolean | undefined;
}

/**
 * Options of the untyped repository's `query`, which returns histories and so needs to be told
 * which events soft-delete (the typed repository asks its aggregates).
 *
 * @example
 * ```ts
 * repository.query({ names: ['product'] }, { softDelete: { deleteEvents: ['product.discontinued'] } });
 * ```
 */
export interface HistoryQueryOptions extends RepositoryQueryOptions {
  readonly softDelete?: SoftDeletePolicy | undefined;
}
