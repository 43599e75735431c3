import type { TimeConstraints, VersionConstraints } from '@goes/event';
import type { AggregateSortOption } from '../sort.js';

/**
 * An aggregate query (goes' `aggregate/query.Query`) as plain data: aggregates with one of
 * `names`, one of `ids`, and a version matching `versions` (goes' version constraint semantics:
 * `min` means "at least one of them", `max` "at most one of them", bounds inclusive).
 * Categories are ANDed, values within one ORed; absent or empty lists do not filter.
 *
 * `versions` selects aggregates by their current version, and `sort` orders the result; goes'
 * repository ignored `sort` and turned `versions` into "rebuild up to this version", contrary
 * to its docs (goes bug 29). Build one with {@link aggregateQuery} or write the object.
 *
 * @example
 * ```ts
 * const q: AggregateQuery = { names: ['product'], versions: { min: [10] }, sort: [{ by: 'version', dir: 'desc' }] };
 * ```
 */
export interface AggregateQuery {
  readonly names?: readonly string[] | undefined;
  readonly ids?: readonly string[] | undefined;
  readonly versions?: VersionConstraints | undefined;
  readonly sort?: readonly AggregateSortOption[] | undefined;
}

/**
 * A snapshot query (goes' `snapshot.Query`): an {@link AggregateQuery} on the snapshot's
 * aggregate name, id and version, plus the time the snapshot was taken (inclusive bounds).
 *
 * @example
 * ```ts
 * const old: SnapshotQuery = { names: ['product'], times: { max: nowNanos() - 86_400_000_000_000n } };
 * ```
 */
export interface SnapshotQuery extends AggregateQuery {
  readonly times?: TimeConstraints | undefined;
}
