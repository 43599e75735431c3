import { compareCodePoints, type SortDirection } from '@goes/event';

/**
 * The fields aggregates sort by (goes' `SortName`, `SortID`, `SortVersion`).
 *
 * @example
 * ```ts
 * const by: AggregateSortField = 'version';
 * ```
 */
export type AggregateSortField = 'name' | 'id' | 'version';

/**
 * One sort key for aggregates; several keys sort by the first, ties by the next.
 *
 * @example
 * ```ts
 * const sort: AggregateSortOption[] = [{ by: 'name', dir: 'asc' }, { by: 'version', dir: 'desc' }];
 * ```
 */
export interface AggregateSortOption {
  readonly by: AggregateSortField;
  readonly dir: SortDirection;
}

/**
 * What aggregates are sorted and filtered on: name, id and version.
 *
 * @example
 * ```ts
 * const target: AggregateVersionRef = { aggregateName: 'product', id, version: 3 };
 * ```
 */
export interface AggregateVersionRef {
  readonly aggregateName: string;
  readonly id: string;
  readonly version: number;
}

/**
 * Compares two aggregates by one field, ascending (goes' `Sorting.Compare`): names and ids as
 * strings by code point (ids in their canonical lowercase form), versions as numbers.
 *
 * @example
 * ```ts
 * compareAggregatesBy('version', a, b); // -1, 0 or 1
 * ```
 */
export function compareAggregatesBy(
  field: AggregateSortField,
  a: AggregateVersionRef,
  b: AggregateVersionRef,
): number {
  if (field === 'name') return compareCodePoints(a.aggregateName, b.aggregateName);
  if (field === 'id') return compareCodePoints(a.id, b.id);
  return a.version < b.version ? -1 : a.version > b.version ? 1 : 0;
}

/**
 * A comparator for aggregate sort options: by the first key, ties by the next.
 *
 * @example
 * ```ts
 * products.sort(aggregateComparator([{ by: 'version', dir: 'desc' }]));
 * ```
 */
export function aggregateComparator(
  sort: readonly AggregateSortOption[],
): (a: AggregateVersionRef, b: AggregateVersionRef) => number {
  return (a, b) => {
    for (const { by, dir } of sort) {
      const result = compareAggregatesBy(by, a, b);
      if (result !== 0) return dir === 'desc' ? -result : result;
    }
    return 0;
  };
}

/**
 * Sorts a copy of `aggregates` by the sort options (goes' `aggregate.SortMulti`; stable).
 *
 * @example
 * ```ts
 * const newestFirst = sortAggregates(products, [{ by: 'version', dir: 'desc' }]);
 * ```
 */
export function sortAggregates<A extends AggregateVersionRef>(
  aggregates: readonly A[],
  sort: readonly AggregateSortOption[],
): A[] {
  return [...aggregates].sort(aggregateComparator(sort));
}
