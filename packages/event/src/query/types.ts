import type { Nanos } from '../clock.js';

/**
 * The fields events can be sorted by. `position` is the store-assigned global position.
 *
 * @example
 * ```ts
 * const by: SortField = 'aggregateVersion';
 * ```
 */
export type SortField = 'time' | 'aggregateName' | 'aggregateId' | 'aggregateVersion' | 'position';

/**
 * Sort direction.
 *
 * @example
 * ```ts
 * const dir: SortDirection = 'desc';
 * ```
 */
export type SortDirection = 'asc' | 'desc';

/**
 * One sort key of a query. Several keys sort by the first, ties by the next, and so on.
 *
 * @example
 * ```ts
 * const sort: SortOption[] = [{ by: 'aggregateName', dir: 'desc' }, { by: 'aggregateVersion', dir: 'asc' }];
 * ```
 */
export interface SortOption {
  readonly by: SortField;
  readonly dir: SortDirection;
}

/**
 * Time constraints (goes' `time.Constraints`); every bound is inclusive. An event matches when it
 * satisfies every category that is present: one of `exact`, inside one of `ranges`, `>= min`,
 * `<= max`.
 *
 * @example
 * ```ts
 * const lastHour: TimeConstraints = { min: nowNanos() - 3_600_000_000_000n };
 * ```
 */
export interface TimeConstraints {
  readonly exact?: readonly Nanos[] | undefined;
  readonly ranges?: readonly (readonly [Nanos, Nanos])[] | undefined;
  readonly min?: Nanos | undefined;
  readonly max?: Nanos | undefined;
}

/**
 * Aggregate version constraints (goes' `version.Constraints`); all lists, all bounds inclusive.
 * `min` means ">= at least one of them", `max` "<= at least one of them". Only aggregate
 * events can match a version constraint.
 *
 * @example
 * ```ts
 * const upToTen: VersionConstraints = { max: [10] };
 * ```
 */
export interface VersionConstraints {
  readonly exact?: readonly number[] | undefined;
  readonly ranges?: readonly (readonly [number, number])[] | undefined;
  readonly min?: readonly number[] | undefined;
  readonly max?: readonly number[] | undefined;
}

/**
 * Global position constraints, inclusive. `{ min: p + 1 }` reads everything after position `p`.
 *
 * @example
 * ```ts
 * const after: PositionConstraints = { min: checkpoint + 1 };
 * ```
 */
export interface PositionConstraints {
  readonly min?: number | undefined;
  readonly max?: number | undefined;
}

/**
 * One aggregate filter: events of aggregate `name`, and of id `id` when given.
 *
 * @example
 * ```ts
 * const allProducts: AggregateFilter = { name: 'product' };
 * ```
 */
export interface AggregateFilter {
  readonly name: string;
  readonly id?: string | undefined;
}

/**
 * An event query (goes' `event.Query`) as plain data, so every backend can translate it.
 * Categories are ANDed; values within a category are ORed; an absent or empty list does not
 * filter. Without `sort`, results come in position (insertion) order; with `sort`, ties are broken
 * by position. Build one with {@link query} or write the object yourself.
 *
 * @example
 * ```ts
 * const q: EventQuery = { names: ['order.placed'], sort: [{ by: 'time', dir: 'asc' }] };
 * ```
 */
export interface EventQuery {
  readonly names?: readonly string[] | undefined;
  readonly ids?: readonly string[] | undefined;
  readonly times?: TimeConstraints | undefined;
  readonly aggregateNames?: readonly string[] | undefined;
  readonly aggregateIds?: readonly string[] | undefined;
  readonly aggregateVersions?: VersionConstraints | undefined;
  readonly aggregates?: readonly AggregateFilter[] | undefined;
  readonly positions?: PositionConstraints | undefined;
  readonly sort?: readonly SortOption[] | undefined;
}
