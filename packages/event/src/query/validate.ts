import { InvalidQueryError } from '../errors.js';
import { isUuid } from '../uuid.js';
import { describe } from '../validate-event.js';
import type { EventQuery } from './types.js';

const SORT_FIELDS = new Set([
  'time',
  'aggregateName',
  'aggregateId',
  'aggregateVersion',
  'position',
]);
const KNOWN_KEYS = new Set([
  'names',
  'ids',
  'times',
  'aggregateNames',
  'aggregateIds',
  'aggregateVersions',
  'aggregates',
  'positions',
  'sort',
]);

/**
 * Checks a query before a store runs it, so every backend refuses the same malformed input:
 * names non-empty strings, ids canonical UUIDs, times `bigint`s, versions and positions
 * non-negative integers, ranges with start ≤ end, known sort fields and directions, no unknown keys.
 *
 * @throws {@link InvalidQueryError} naming the offending value.
 * @example
 * ```ts
 * validateQuery({ ids: ['not-a-uuid'] }); // throws: ids[0] "not-a-uuid" is not a lowercase UUID
 * ```
 */
export function validateQuery(q: EventQuery): void {
  if (typeof q !== 'object' || q === null)
    throw new InvalidQueryError(`expected a query object, got ${describe(q)}`);
  for (const key of Object.keys(q)) {
    if (!KNOWN_KEYS.has(key) && (q as Record<string, unknown>)[key] !== undefined) {
      throw new InvalidQueryError(`unknown field ${JSON.stringify(key)}`);
    }
  }
  strings('names', q.names);
  uuids('ids', q.ids);
  strings('aggregateNames', q.aggregateNames);
  uuids('aggregateIds', q.aggregateIds);
  if (q.times !== undefined) {
    list(
      'times.exact',
      q.times.exact,
      (t) => typeof t === 'bigint',
      'must be a bigint of nanoseconds',
    );
    ranges(
      'times.ranges',
      q.times.ranges,
      (t) => typeof t === 'bigint',
      'must be a bigint of nanoseconds',
    );
    for (const bound of ['min', 'max'] as const) {
      const value = q.times[bound];
      if (value !== undefined && typeof value !== 'bigint') {
        throw new InvalidQueryError(
          `times.${bound} ${describe(value)} must be a bigint of nanoseconds`,
        );
      }
    }
  }
  if (q.aggregateVersions !== undefined) {
    const v = q.aggregateVersions;
    list(
      'aggregateVersions.exact',
      v.exact,
      isNonNegativeInteger,
      'must be a non-negative integer',
    );
    ranges(
      'aggregateVersions.ranges',
      v.ranges,
      isNonNegativeInteger,
      'must be a non-negative integer',
    );
    list('aggregateVersions.min', v.min, isNonNegativeInteger, 'must be a non-negative integer');
    list('aggregateVersions.max', v.max, isNonNegativeInteger, 'must be a non-negative integer');
  }
  if (q.aggregates !== undefined) {
    if (!Array.isArray(q.aggregates))
      throw new InvalidQueryError(`aggregates must be an array, got ${describe(q.aggregates)}`);
    q.aggregates.forEach((filter, i) => {
      if (
        typeof filter !== 'object' ||
        filter === null ||
        typeof filter.name !== 'string' ||
        filter.name === ''
      ) {
        throw new InvalidQueryError(`aggregates[${i}] ${describe(filter)} needs a non-empty name`);
      }
      if (filter.id !== undefined && !isUuid(filter.id)) {
        throw new InvalidQueryError(
          `aggregates[${i}].id ${describe(filter.id)} is not a lowercase UUID`,
        );
      }
    });
  }
  if (q.positions !== undefined) {
    for (const bound of ['min', 'max'] as const) {
      const value = q.positions[bound];
      if (value !== undefined && !isNonNegativeInteger(value)) {
        throw new InvalidQueryError(
          `positions.${bound} ${describe(value)} must be a non-negative integer`,
        );
      }
    }
  }
  if (q.sort !== undefined) {
    if (!Array.isArray(q.sort))
      throw new InvalidQueryError(`sort must be an array, got ${describe(q.sort)}`);
    q.sort.forEach((option, i) => {
      if (typeof option !== 'object' || option === null || !SORT_FIELDS.has(option.by)) {
        throw new InvalidQueryError(
          `sort[${i}] ${describe(option)}: "by" must be one of ${[...SORT_FIELDS].join(', ')}`,
        );
      }
      if (option.dir !== 'asc' && option.dir !== 'desc') {
        throw new InvalidQueryError(
          `sort[${i}].dir ${describe(option.dir)} must be "asc" or "desc"`,
        );
      }
    });
  }
}

function isNonNegativeInteger(value: unknown): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function list(
  field: string,
  values: unknown,
  valid: (v: unknown) => boolean,
  requirement: string,
): void {
  if (values === undefined) return;
  if (!Array.isArray(values))
    throw new InvalidQueryError(`${field} must be an array, got ${describe(values)}`);
  values.forEach((value, i) => {
    if (!valid(value))
      throw new InvalidQueryError(`${field}[${i}] ${describe(value)} ${requirement}`);
  });
}

function strings(field: string, values: unknown): void {
  list(field, values, (v) => typeof v === 'string' && v.length > 0, 'must be a non-empty string');
}

function uuids(field: string, values: unknown): void {
  list(field, values, isUuid, 'is not a lowercase UUID');
}

function ranges(
  field: string,
  values: unknown,
  valid: (v: unknown) => boolean,
  requirement: string,
): void {
  if (values === undefined) return;
  if (!Array.isArray(values))
    throw new InvalidQueryError(`${field} must be an array, got ${describe(values)}`);
  values.forEach((range, i) => {
    if (!Array.isArray(range) || range.length !== 2) {
      throw new InvalidQueryError(`${field}[${i}] ${describe(range)} must be a [from, to] pair`);
    }
    const [from, to] = range as [unknown, unknown];
    if (!valid(from))
      throw new InvalidQueryError(`${field}[${i}][0] ${describe(from)} ${requirement}`);
    if (!valid(to)) throw new InvalidQueryError(`${field}[${i}][1] ${describe(to)} ${requirement}`);
    if ((from as number | bigint) > (to as number | bigint)) {
      throw new InvalidQueryError(
        `${field}[${i}] starts after it ends (${describe(from)} > ${describe(to)})`,
      );
    }
  });
}
