import type {
  AggregateFilter,
  EventQuery,
  SortOption,
  TimeConstraints,
  VersionConstraints,
} from './types.js';

function unite<T>(
  lists: (readonly T[] | undefined)[],
  key: (value: T) => unknown = (v) => v,
): T[] | undefined {
  const seen = new Set<unknown>();
  const result: T[] = [];
  for (const list of lists) {
    for (const value of list ?? []) {
      const k = key(value);
      if (!seen.has(k)) {
        seen.add(k);
        result.push(value);
      }
    }
  }
  return result.length > 0 ? result : undefined;
}

const rangeKey = ([a, b]: readonly [unknown, unknown]) => `${a}:${b}`;

/**
 * Merges queries into one (goes' `query.Merge`): the union of every list filter and sort key;
 * time `min`/`max` and position bounds are single values where the last query that sets one wins.
 * Version `min`/`max` are lists, so merging widens them (as in goes). `undefined` queries are skipped.
 *
 * @example
 * ```ts
 * const q = mergeQueries(jobQuery, { times: { min: progress } });
 * ```
 */
export function mergeQueries(...queries: (EventQuery | undefined)[]): EventQuery {
  const qs = queries.filter((q): q is EventQuery => q !== undefined);
  const times: { -readonly [K in keyof TimeConstraints]: TimeConstraints[K] } = {};
  const exactTimes = unite(qs.map((q) => q.times?.exact));
  if (exactTimes) times.exact = exactTimes;
  const timeRanges = unite(
    qs.map((q) => q.times?.ranges),
    rangeKey,
  );
  if (timeRanges) times.ranges = timeRanges;
  for (const q of qs) {
    if (q.times?.min !== undefined) times.min = q.times.min;
    if (q.times?.max !== undefined) times.max = q.times.max;
  }
  const versions: { -readonly [K in keyof VersionConstraints]: VersionConstraints[K] } = {};
  const exact = unite(qs.map((q) => q.aggregateVersions?.exact));
  if (exact) versions.exact = exact;
  const ranges = unite(
    qs.map((q) => q.aggregateVersions?.ranges),
    rangeKey,
  );
  if (ranges) versions.ranges = ranges;
  const min = unite(qs.map((q) => q.aggregateVersions?.min));
  if (min) versions.min = min;
  const max = unite(qs.map((q) => q.aggregateVersions?.max));
  if (max) versions.max = max;

  const merged: { -readonly [K in keyof EventQuery]: EventQuery[K] } = {};
  const names = unite(qs.map((q) => q.names));
  if (names) merged.names = names;
  const ids = unite(qs.map((q) => q.ids));
  if (ids) merged.ids = ids;
  if (Object.keys(times).length > 0) merged.times = times;
  const aggregateNames = unite(qs.map((q) => q.aggregateNames));
  if (aggregateNames) merged.aggregateNames = aggregateNames;
  const aggregateIds = unite(qs.map((q) => q.aggregateIds));
  if (aggregateIds) merged.aggregateIds = aggregateIds;
  if (Object.keys(versions).length > 0) merged.aggregateVersions = versions;
  const aggregates = unite<AggregateFilter>(
    qs.map((q) => q.aggregates),
    (f) => `${f.name}\u0000${f.id ?? ''}`,
  );
  if (aggregates) merged.aggregates = aggregates;
  for (const q of qs) {
    if (q.positions?.min !== undefined || q.positions?.max !== undefined) {
      merged.positions = { ...merged.positions, ...definedOnly(q.positions) };
    }
  }
  const sort = unite<SortOption>(
    qs.map((q) => q.sort),
    (s) => `${s.by}:${s.dir}`,
  );
  if (sort) merged.sort = sort;
  return merged;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
