import { InvalidQueryError } from '../errors.js';
import { isUuid } from '../uuid.js';
import { describe } from '../validate-event.js';
import type { EventQuery, TimeConstraints, VersionConstraints } from './types.js';

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
  validateStringList(q.names, 'names');
  validateUuidList(q.ids, 'ids');
  validateStringList(q.aggregateNames, 'aggregateNames');
  validateUuidList(q.aggregateIds, 'aggregateIds');
  if (q.times !== undefined) validateTimeConstraints(q.times, 'times');
  if (q.aggregateVersions !== undefined)
    validateVersionConstraints(q.aggregateVersions, 'aggregateVersions');
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

/**
 * Checks a list of names: an array of non-empty strings (or undefined). Shared by every query
 * validator, so all of them word their errors alike.
 *
 * @throws {@link InvalidQueryError} naming `field[i]` and the value.
 * @example
 * ```ts
 * validateStringList(q.names, 'names');
 * ```
 */
export function validateStringList(values: unknown, field: string): void {
  list(field, values, (v) => typeof v === 'string' && v.length > 0, 'must be a non-empty string');
}

/**
 * Checks a list of ids: an array of canonical lowercase UUIDs (or undefined).
 *
 * @throws {@link InvalidQueryError} naming `field[i]` and the value.
 * @example
 * ```ts
 * validateUuidList(q.ids, 'ids');
 * ```
 */
export function validateUuidList(values: unknown, field: string): void {
  list(field, values, isUuid, 'is not a lowercase UUID');
}

/**
 * Checks time constraints: `bigint` nanoseconds everywhere, ranges as `[from, to]` with
 * from ≤ to.
 *
 * @throws {@link InvalidQueryError} naming the field (e.g. `times.min`) and the value.
 * @example
 * ```ts
 * validateTimeConstraints({ min: 5n }, 'times');
 * ```
 */
export function validateTimeConstraints(times: TimeConstraints, field: string): void {
  const requirement = 'must be a bigint of nanoseconds';
  const nanos = (t: unknown) => typeof t === 'bigint';
  list(`${field}.exact`, times.exact, nanos, requirement);
  ranges(`${field}.ranges`, times.ranges, nanos, requirement);
  for (const bound of ['min', 'max'] as const) {
    const value = times[bound];
    if (value !== undefined && !nanos(value)) {
      throw new InvalidQueryError(`${field}.${bound} ${describe(value)} ${requirement}`);
    }
  }
}

/**
 * Checks version constraints: non-negative integers everywhere, ranges as `[from, to]` with
 * from ≤ to.
 *
 * @throws {@link InvalidQueryError} naming the field (e.g. `versions.min[0]`) and the value.
 * @example
 * ```ts
 * validateVersionConstraints({ min: [2] }, 'aggregateVersions');
 * ```
 */
export function validateVersionConstraints(versions: VersionConstraints, field: string): void {
  const requirement = 'must be a non-negative integer';
  list(`${field}.exact`, versions.exact, isNonNegativeInteger, requirement);
  ranges(`${field}.ranges`, versions.ranges, isNonNegativeInteger, requirement);
  list(`${field}.min`, versions.min, isNonNegativeInteger, requirement);
  list(`${field}.max`, versions.max, isNonNegativeInteger, requirement);
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
