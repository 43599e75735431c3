import type { Event } from '../event.js';
import type { EventQuery, TimeConstraints, VersionConstraints } from './types.js';

/**
 * A compiled query: a predicate that tells whether an event matches.
 *
 * @example
 * ```ts
 * const test: EventPredicate = compileQuery({ names: ['a'] });
 * ```
 */
export type EventPredicate = (event: Event) => boolean;

/**
 * Compiles a query into a predicate (sets for lists, only the categories present), for testing
 * many events against one query. The semantics are those of {@link matches}.
 *
 * @example
 * ```ts
 * const test = compileQuery(q);
 * const hits = events.filter(test);
 * ```
 */
export function compileQuery(q: EventQuery): EventPredicate {
  const checks: EventPredicate[] = [];
  const names = nonEmptySet(q.names);
  if (names) checks.push((e) => names.has(e.name));
  const ids = nonEmptySet(q.ids);
  if (ids) checks.push((e) => ids.has(e.id));
  const time = compileTimes(q.times);
  if (time) checks.push((e) => time(e.time));
  const aggregateNames = nonEmptySet(q.aggregateNames);
  if (aggregateNames)
    checks.push((e) => e.aggregate !== undefined && aggregateNames.has(e.aggregate.name));
  const aggregateIds = nonEmptySet(q.aggregateIds);
  if (aggregateIds)
    checks.push((e) => e.aggregate !== undefined && aggregateIds.has(e.aggregate.id));
  const version = compileVersions(q.aggregateVersions);
  if (version) checks.push((e) => e.aggregate !== undefined && version(e.aggregate.version));
  if (q.aggregates && q.aggregates.length > 0) {
    const anyId = new Set<string>();
    const exact = new Set<string>();
    for (const filter of q.aggregates) {
      if (filter.id === undefined) anyId.add(filter.name);
      else exact.add(`${filter.name}\u0000${filter.id}`);
    }
    checks.push((e) => {
      const a = e.aggregate;
      return a !== undefined && (anyId.has(a.name) || exact.has(`${a.name}\u0000${a.id}`));
    });
  }
  const positions = q.positions;
  if (positions && (positions.min !== undefined || positions.max !== undefined)) {
    const min = positions.min ?? Number.NEGATIVE_INFINITY;
    const max = positions.max ?? Number.POSITIVE_INFINITY;
    checks.push((e) => e.position !== undefined && e.position >= min && e.position <= max);
  }
  switch (checks.length) {
    case 0:
      return () => true;
    case 1:
      return checks[0] as EventPredicate;
    default:
      return (e) => {
        for (const check of checks) if (!check(e)) return false;
        return true;
      };
  }
}

/**
 * The reference semantics of a query (goes' `event.Test`): every backend's translation must
 * return exactly the events for which this is true. Categories present in the query are ANDed;
 * values within one category are ORed; bounds are inclusive. Version constraints, aggregate
 * names, ids and filters only match aggregate events; position constraints only match stored
 * events. Sorting does not affect matching.
 *
 * @example
 * ```ts
 * matches({ names: ['order.placed'], aggregateVersions: { min: [2] } }, event);
 * ```
 */
export function matches(q: EventQuery, event: Event): boolean {
  return compileQuery(q)(event);
}

function nonEmptySet<T>(values: readonly T[] | undefined): Set<T> | undefined {
  return values && values.length > 0 ? new Set(values) : undefined;
}

function compileTimes(c: TimeConstraints | undefined): ((t: bigint) => boolean) | undefined {
  if (!c) return undefined;
  const checks: ((t: bigint) => boolean)[] = [];
  const exact = nonEmptySet(c.exact);
  if (exact) checks.push((t) => exact.has(t));
  const ranges = c.ranges;
  if (ranges && ranges.length > 0)
    checks.push((t) => ranges.some(([from, to]) => t >= from && t <= to));
  const { min, max } = c;
  if (min !== undefined) checks.push((t) => t >= min);
  if (max !== undefined) checks.push((t) => t <= max);
  return checks.length === 0 ? undefined : (t) => checks.every((check) => check(t));
}

function compileVersions(c: VersionConstraints | undefined): ((v: number) => boolean) | undefined {
  if (!c) return undefined;
  const checks: ((v: number) => boolean)[] = [];
  const exact = nonEmptySet(c.exact);
  if (exact) checks.push((v) => exact.has(v));
  const ranges = c.ranges;
  if (ranges && ranges.length > 0)
    checks.push((v) => ranges.some(([from, to]) => v >= from && v <= to));
  if (c.min && c.min.length > 0) {
    const lowest = Math.min(...c.min);
    checks.push((v) => v >= lowest);
  }
  if (c.max && c.max.length > 0) {
    const highest = Math.max(...c.max);
    checks.push((v) => v <= highest);
  }
  return checks.length === 0 ? undefined : (v) => checks.every((check) => check(v));
}
