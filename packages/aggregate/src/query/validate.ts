import {
  InvalidQueryError,
  validateStringList,
  validateTimeConstraints,
  validateUuidList,
  validateVersionConstraints,
} from '@goes/event';
import type { SnapshotQuery } from './types.js';

const SORT_FIELDS = new Set(['name', 'id', 'version']);
const KNOWN_KEYS = new Set(['names', 'ids', 'versions', 'sort', 'times']);

/**
 * Checks an aggregate or snapshot query before it runs, so malformed input fails at once with a
 * message naming the value: names non-empty strings, ids canonical UUIDs, versions non-negative
 * integers, ranges with start ≤ end, times `bigint`s, known sort fields and directions.
 *
 * @throws {@link InvalidQueryError}
 * @example
 * ```ts
 * validateAggregateQuery({ ids: ['nope'] }); // throws: ids[0] "nope" is not a lowercase UUID
 * ```
 */
export function validateAggregateQuery(q: SnapshotQuery): void {
  if (typeof q !== 'object' || q === null) {
    throw new InvalidQueryError(`expected an aggregate query object, got ${show(q)}`);
  }
  for (const key of Object.keys(q)) {
    if (!KNOWN_KEYS.has(key) && (q as Record<string, unknown>)[key] !== undefined) {
      throw new InvalidQueryError(`unknown aggregate query field ${JSON.stringify(key)}`);
    }
  }
  validateStringList(q.names, 'names');
  validateUuidList(q.ids, 'ids');
  if (q.versions !== undefined) validateVersionConstraints(q.versions, 'versions');
  if (q.times !== undefined) validateTimeConstraints(q.times, 'times');
  if (q.sort !== undefined) {
    if (!Array.isArray(q.sort))
      throw new InvalidQueryError(`sort must be an array, got ${show(q.sort)}`);
    q.sort.forEach((option, i) => {
      if (typeof option !== 'object' || option === null || !SORT_FIELDS.has(option.by)) {
        throw new InvalidQueryError(
          `sort[${i}] ${show(option)}: "by" must be one of name, id, version`,
        );
      }
      if (option.dir !== 'asc' && option.dir !== 'desc') {
        throw new InvalidQueryError(`sort[${i}].dir ${show(option.dir)} must be "asc" or "desc"`);
      }
    });
  }
}

function show(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (value === undefined) return 'undefined';
  try {
    const text = JSON.stringify(value);
    if (text === undefined) return String(value);
    return text.length > 80 ? `${text.slice(0, 80)}…` : text;
  } catch {
    return String(value);
  }
}
