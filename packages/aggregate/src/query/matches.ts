import type {
  EventQuery,
  Nanos,
  SortOption,
  TimeConstraints,
  VersionConstraints,
} from '@goes/event';
import type { AggregateVersionRef } from '../sort.js';
import type { AggregateQuery, SnapshotQuery } from './types.js';

/**
 * The reference semantics of an aggregate query (goes' `aggregate/query.Test`): the aggregate's
 * name is one of `names`, its id one of `ids`, and its version satisfies `versions` (exact: one
 * of; ranges: inside one; min: >= the smallest; max: <= the largest; inclusive). Absent or empty
 * categories do not filter; `sort` never affects matching. goes' tagging extension point (no goes
 * type implemented it) is not ported.
 *
 * @example
 * ```ts
 * matchesAggregate({ names: ['product'], versions: { min: [2] } }, product); // true at v2+
 * ```
 */
export function matchesAggregate(q: AggregateQuery, target: AggregateVersionRef): boolean {
  if (q.names && q.names.length > 0 && !q.names.includes(target.aggregateName)) return false;
  if (q.ids && q.ids.length > 0 && !q.ids.includes(target.id)) return false;
  return matchesVersion(q.versions, target.version);
}

/**
 * The reference semantics of a snapshot query (goes' `snapshot.Test`): {@link matchesAggregate}
 * on the snapshot's aggregate name, id and version, and the snapshot's time inside `times`.
 * Every snapshot store must return exactly the snapshots for which this is true.
 *
 * @example
 * ```ts
 * matchesSnapshot({ names: ['product'], times: { max: cutoff } }, snapshot);
 * ```
 */
export function matchesSnapshot(
  q: SnapshotQuery,
  snapshot: {
    readonly aggregateName: string;
    readonly aggregateId: string;
    readonly version: number;
    readonly time: Nanos;
  },
): boolean {
  return (
    matchesAggregate(q, {
      aggregateName: snapshot.aggregateName,
      id: snapshot.aggregateId,
      version: snapshot.version,
    }) && matchesTime(q.times, snapshot.time)
  );
}

function matchesVersion(c: VersionConstraints | undefined, v: number): boolean {
  if (!c) return true;
  if (c.exact && c.exact.length > 0 && !c.exact.includes(v)) return false;
  if (c.ranges && c.ranges.length > 0 && !c.ranges.some(([from, to]) => v >= from && v <= to))
    return false;
  if (c.min && c.min.length > 0 && !(v >= Math.min(...c.min))) return false;
  if (c.max && c.max.length > 0 && !(v <= Math.max(...c.max))) return false;
  return true;
}

function matchesTime(c: TimeConstraints | undefined, t: Nanos): boolean {
  if (!c) return true;
  if (c.exact && c.exact.length > 0 && !c.exact.includes(t)) return false;
  if (c.ranges && c.ranges.length > 0 && !c.ranges.some(([from, to]) => t >= from && t <= to))
    return false;
  if (c.min !== undefined && t < c.min) return false;
  if (c.max !== undefined && t > c.max) return false;
  return true;
}

/**
 * Merges aggregate queries into one by union (goes' `aggregate/query.Merge`): names, ids and
 * every version constraint list. Sort keys are dropped, as in goes. Union widens: merging
 * `min: [5]` and `min: [10]` gives "version >= 5".
 *
 * @example
 * ```ts
 * mergeAggregateQueries({ names: ['a'] }, { names: ['b'], ids: [id] }); // { names: ['a', 'b'], ids: [id] }
 * ```
 */
export function mergeAggregateQueries(
  ...queries: readonly (AggregateQuery | undefined)[]
): AggregateQuery {
  const names = new Set<string>();
  const ids = new Set<string>();
  const exact = new Set<number>();
  const min = new Set<number>();
  const max = new Set<number>();
  const ranges = new Map<string, readonly [number, number]>();
  for (const q of queries) {
    if (!q) continue;
    for (const name of q.names ?? []) names.add(name);
    for (const id of q.ids ?? []) ids.add(id);
    for (const v of q.versions?.exact ?? []) exact.add(v);
    for (const v of q.versions?.min ?? []) min.add(v);
    for (const v of q.versions?.max ?? []) max.add(v);
    for (const range of q.versions?.ranges ?? []) ranges.set(`${range[0]}:${range[1]}`, range);
  }
  const versions: { -readonly [K in keyof VersionConstraints]: VersionConstraints[K] } = {};
  if (exact.size > 0) versions.exact = [...exact];
  if (ranges.size > 0) versions.ranges = [...ranges.values()];
  if (min.size > 0) versions.min = [...min];
  if (max.size > 0) versions.max = [...max];
  const merged: { -readonly [K in keyof AggregateQuery]: AggregateQuery[K] } = {};
  if (names.size > 0) merged.names = [...names];
  if (ids.size > 0) merged.ids = [...ids];
  if (Object.keys(versions).length > 0) merged.versions = versions;
  return merged;
}

/**
 * The event query that reads what rebuilding the aggregates of `q` needs (goes'
 * `EventQueryOpts`, with bug 29 fixed): aggregate names and ids become event filters,
 * version-0 events (which take no version) are left out, and events come grouped by aggregate —
 * sorted by aggregate name and id (in the directions `q.sort` gives them, else ascending), then
 * by version ascending — so a grouped, sorted {@link histories} stream can emit each aggregate
 * as soon as its last event passed.
 *
 * `q.versions` is deliberately not turned into event filters: it selects aggregates by their
 * version after rebuilding. goes turned it into "rebuild only up to this version".
 *
 * @example
 * ```ts
 * const events = store.query(eventQueryOf({ names: ['product'] }));
 * for await (const history of histories(events, { grouped: true, sorted: true })) console.log(history.aggregate);
 * ```
 */
export function eventQueryOf(q: AggregateQuery): EventQuery {
  const sort: SortOption[] = [];
  for (const option of q.sort ?? []) {
    if (option.by === 'version') continue;
    const by = option.by === 'name' ? 'aggregateName' : 'aggregateId';
    if (!sort.some((s) => s.by === by)) sort.push({ by, dir: option.dir });
  }
  if (!sort.some((s) => s.by === 'aggregateName')) sort.push({ by: 'aggregateName', dir: 'asc' });
  if (!sort.some((s) => s.by === 'aggregateId')) sort.push({ by: 'aggregateId', dir: 'asc' });
  sort.push({ by: 'aggregateVersion', dir: 'asc' });
  const events: { -readonly [K in keyof EventQuery]: EventQuery[K] } = {
    aggregateVersions: { min: [1] },
    sort,
  };
  if (q.names && q.names.length > 0) events.aggregateNames = [...q.names];
  if (q.ids && q.ids.length > 0) events.aggregateIds = [...q.ids];
  return events;
}
