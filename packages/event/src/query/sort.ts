import type { Event } from '../event.js';
import type { SortField, SortOption } from './types.js';

const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const compareNumbers = (a: number, b: number): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Compares two events by one field, ascending (goes' `CompareSorting`). Events without an
 * aggregate sort as if their aggregate name and id were `""` and their version 0, so they come
 * first in ascending order on every backend. Strings compare by UTF-16 code units.
 *
 * @example
 * ```ts
 * compareBy('time', a, b); // -1, 0 or 1
 * ```
 */
export function compareBy(field: SortField, a: Event, b: Event): number {
  switch (field) {
    case 'time':
      return a.time < b.time ? -1 : a.time > b.time ? 1 : 0;
    case 'aggregateName':
      return compareStrings(a.aggregate?.name ?? '', b.aggregate?.name ?? '');
    case 'aggregateId':
      return compareStrings(a.aggregate?.id ?? '', b.aggregate?.id ?? '');
    case 'aggregateVersion':
      return compareNumbers(a.aggregate?.version ?? 0, b.aggregate?.version ?? 0);
    case 'position':
      return compareNumbers(a.position ?? 0, b.position ?? 0);
  }
}

/**
 * A comparator for the sort options of a query: by the first key, ties by the next, and
 * remaining ties by position (insertion order), which every backend uses as its last key.
 *
 * @example
 * ```ts
 * events.sort(eventComparator([{ by: 'time', dir: 'desc' }]));
 * ```
 */
export function eventComparator(sort: readonly SortOption[] = []): (a: Event, b: Event) => number {
  return (a, b) => {
    for (const { by, dir } of sort) {
      const result = compareBy(by, a, b);
      if (result !== 0) return dir === 'desc' ? -result : result;
    }
    return compareBy('position', a, b);
  };
}

/**
 * Sorts a copy of `events` by the sort options (goes' `SortMulti`; stable).
 *
 * @example
 * ```ts
 * const newestFirst = sortEvents(events, [{ by: 'time', dir: 'desc' }]);
 * ```
 */
export function sortEvents<E extends Event>(
  events: readonly E[],
  sort: readonly SortOption[],
): E[] {
  const comparator = eventComparator(sort);
  return [...events].sort(comparator);
}
