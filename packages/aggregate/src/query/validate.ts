import { InvalidQueryError, isUuid } from '@goes/event';
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
  list(
    'names',
    q.names,
    (v) => typeof v === 'string' && v.length > 0,
    'must be a non-empty string',
  );
  list('ids', q.ids, isUuid, 'is not a lowercase UUID');
  const versions = q.versions;
  if (versions !== undefined) {
    const integer = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
    const requirement = 'must be a non-negative integer';
    list('versions.exact', versions.exact, integer, requirement);
    ranges('versions.ranges', versions.ranges, integer, requirement);
    list('versions.min', versions.min, integer, requirement);
    list('versions.max', versions.max, integer, requirement);
  }
  const times = q.times;
  if (times !== undefined) {
    const nanos = (v: unknown) => typeof v === 'bigint';
    const requirement = 'must be a bigint of nanoseconds';
    list('times.exact', times.exact, nanos, requirement);
    ranges('times.ranges', times.ranges, nanos, requirement);
    for (const bound of ['min', 'max'] as const) {
      if (times[bound] !== undefined && !nanos(times[bound])) {
        throw new InvalidQueryError(`times.${bound} ${show(times[bound])} ${requirement}`);
      }
    }
  }
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

function list(
  field: string,
  values: unknown,
  valid: (v: unknown) => boolean,
  requirement: string,
): void {
  if (values === undefined) return;
  if (!Array.isArray(values))
    throw new InvalidQueryError(`${field} must be an array, got ${show(values)}`);
  values.forEach((value, i) => {
    if (!valid(value)) throw new InvalidQueryError(`${field}[${i}] ${show(value)} ${requirement}`);
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
    throw new InvalidQueryError(`${field} must be an array, got ${show(values)}`);
  values.forEach((range, i) => {
    if (!Array.isArray(range) || range.length !== 2) {
      throw new InvalidQueryError(`${field}[${i}] ${show(range)} must be a [from, to] pair`);
    }
    const [from, to] = range as [number | bigint, number | bigint];
    if (!valid(from)) throw new InvalidQueryError(`${field}[${i}][0] ${show(from)} ${requirement}`);
    if (!valid(to)) throw new InvalidQueryError(`${field}[${i}][1] ${show(to)} ${requirement}`);
    if (from > to) {
      throw new InvalidQueryError(
        `${field}[${i}] starts after it ends (${show(from)} > ${show(to)})`,
      );
    }
  });
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
