import type { Event } from '../event.js';
import type { SortField, SortOption } from './types.js';

/**
 * Compares two strings by Unicode code point, the order of UTF-8 bytes: the order of
 * PostgreSQL's "C" collation and of MongoDB's binary comparison, so every backend sorts names
 * like the reference. JavaScript's `<` compares UTF-16 code units, which puts characters beyond
 * U+FFFF (surrogate pairs) before U+E000–U+FFFF.
 *
 * @example
 * ```ts
 * compareCodePoints('\u{1F600}', '\uFFFD'); // 1 (while '\u{1F600}' < '\uFFFD' is true)
 * ```
 */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) < codePointRank(y) ? -1 : 1;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

/**
 * At the first differing code unit, surrogates (U+D800–U+DFFF, parts of code points beyond
 * U+FFFF) must rank after U+E000–U+FFFF; the order among units of the same kind is kept.
 */
const codePointRank = (unit: number): number =>
  unit >= 0xd800 && unit <= 0xdfff ? unit + 0x2000 : unit >= 0xe000 ? unit - 0x800 : unit;

const compareStrings = compareCodePoints;
const compareNumbers = (a: number, b: number): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Compares two events by one field, ascending (goes' `CompareSorting`). Events without an
 * aggregate sort as if their aggregate name and id were `""` and their version 0, so they come
 * first in ascending order on every backend. Strings compare by code point
 * ({@link compareCodePoints}), the order databases use.
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
