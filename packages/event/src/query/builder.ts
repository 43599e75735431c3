import type { Nanos } from '../clock.js';
import type { AggregateRef } from '../event.js';
import type {
  AggregateFilter,
  EventQuery,
  PositionConstraints,
  SortDirection,
  SortField,
  SortOption,
  TimeConstraints,
  VersionConstraints,
} from './types.js';

type Time = Nanos | Date;
const toNanos = (time: Time): Nanos =>
  time instanceof Date ? BigInt(time.getTime()) * 1_000_000n : time;

function union<T>(
  current: readonly T[] | undefined,
  added: readonly T[],
  key: (value: T) => unknown = (v) => v,
): T[] {
  const result = [...(current ?? [])];
  const seen = new Set(result.map(key));
  for (const value of added) {
    const k = key(value);
    if (!seen.has(k)) {
      seen.add(k);
      result.push(value);
    }
  }
  return result;
}

/**
 * An immutable query builder (goes' `query.New` with its options). Every method returns a new
 * builder; the builder itself is an {@link EventQuery}, so it can be passed to any store as is.
 * Lists are deduplicated (fixing goes' `Name`/`ID` dedupe bug).
 *
 * @example
 * ```ts
 * const q = query()
 *   .name('order.placed', 'order.cancelled')
 *   .aggregate('order', orderId)
 *   .versionMin(5)
 *   .sortBy('aggregateVersion');
 * for await (const event of store.query(q)) console.log(event.name);
 * ```
 */
export class QueryBuilder implements EventQuery {
  declare readonly names?: readonly string[];
  declare readonly ids?: readonly string[];
  declare readonly times?: TimeConstraints;
  declare readonly aggregateNames?: readonly string[];
  declare readonly aggregateIds?: readonly string[];
  declare readonly aggregateVersions?: VersionConstraints;
  declare readonly aggregates?: readonly AggregateFilter[];
  declare readonly positions?: PositionConstraints;
  declare readonly sort?: readonly SortOption[];

  constructor(from: EventQuery = {}) {
    for (const [key, value] of Object.entries(from)) {
      if (value !== undefined) (this as Record<string, unknown>)[key] = value;
    }
    Object.freeze(this);
  }

  #with(patch: EventQuery): QueryBuilder {
    return new QueryBuilder({ ...this, ...patch });
  }

  /** Events with one of these names. */
  name(...names: string[]): QueryBuilder {
    return this.#with({ names: union(this.names, names) });
  }

  /** Events with one of these ids. */
  id(...ids: string[]): QueryBuilder {
    return this.#with({ ids: union(this.ids, ids) });
  }

  /** Events of aggregates with one of these names. */
  aggregateName(...names: string[]): QueryBuilder {
    return this.#with({ aggregateNames: union(this.aggregateNames, names) });
  }

  /** Events of aggregates with one of these ids. */
  aggregateId(...ids: string[]): QueryBuilder {
    return this.#with({ aggregateIds: union(this.aggregateIds, ids) });
  }

  /** Events of the aggregate `name`/`id`, or of every aggregate named `name` when `id` is omitted. */
  aggregate(name: string, id?: string): QueryBuilder {
    return this.aggregateRefs(id === undefined ? { name } : { name, id });
  }

  /** Events of any of these aggregates (a filter without id matches every aggregate of that name). */
  aggregateRefs(...refs: (AggregateRef | AggregateFilter)[]): QueryBuilder {
    const filters = refs.map((ref) =>
      ref.id === undefined ? { name: ref.name } : { name: ref.name, id: ref.id },
    );
    return this.#with({
      aggregates: union(this.aggregates, filters, (f) => `${f.name}\u0000${f.id ?? ''}`),
    });
  }

  /** Events at one of these exact times. */
  timeExact(...times: Time[]): QueryBuilder {
    return this.#time({ exact: union(this.times?.exact, times.map(toNanos)) });
  }

  /** Events inside `[from, to]` (inclusive); several ranges are ORed. */
  timeRange(from: Time, to: Time): QueryBuilder {
    const range = [toNanos(from), toNanos(to)] as const;
    return this.#time({ ranges: union(this.times?.ranges, [range], ([a, b]) => `${a}:${b}`) });
  }

  /** Events at or after `time` (a later call replaces it, as in goes). */
  timeMin(time: Time): QueryBuilder {
    return this.#time({ min: toNanos(time) });
  }

  /** Events at or before `time` (a later call replaces it, as in goes). */
  timeMax(time: Time): QueryBuilder {
    return this.#time({ max: toNanos(time) });
  }

  /** Events strictly before `time` (goes' `time.Before`). */
  before(time: Time): QueryBuilder {
    return this.timeMax(toNanos(time) - 1n);
  }

  /** Events strictly after `time` (goes' `time.After`). */
  after(time: Time): QueryBuilder {
    return this.timeMin(toNanos(time) + 1n);
  }

  /** Aggregate events with one of these versions. */
  versionExact(...versions: number[]): QueryBuilder {
    return this.#version({ exact: union(this.aggregateVersions?.exact, versions) });
  }

  /** Aggregate events with a version inside `[from, to]` (inclusive). */
  versionRange(from: number, to: number): QueryBuilder {
    const range = [from, to] as const;
    return this.#version({
      ranges: union(this.aggregateVersions?.ranges, [range], ([a, b]) => `${a}:${b}`),
    });
  }

  /** Aggregate events with a version >= one of these. */
  versionMin(...versions: number[]): QueryBuilder {
    return this.#version({ min: union(this.aggregateVersions?.min, versions) });
  }

  /** Aggregate events with a version <= one of these. */
  versionMax(...versions: number[]): QueryBuilder {
    return this.#version({ max: union(this.aggregateVersions?.max, versions) });
  }

  /** Events at or after global position `position`. */
  positionMin(position: number): QueryBuilder {
    return this.#with({ positions: { ...this.positions, min: position } });
  }

  /** Events at or before global position `position`. */
  positionMax(position: number): QueryBuilder {
    return this.#with({ positions: { ...this.positions, max: position } });
  }

  /** Events after global position `position` (a checkpoint). */
  afterPosition(position: number): QueryBuilder {
    return this.positionMin(position + 1);
  }

  /** Adds a sort key (an identical key is not added twice). */
  sortBy(by: SortField, dir: SortDirection = 'asc'): QueryBuilder {
    return this.#with({ sort: union(this.sort, [{ by, dir }], (s) => `${s.by}:${s.dir}`) });
  }

  /** Adds sort keys aggregate name, aggregate id and version, ascending (goes' `SortByAggregate`). */
  sortByAggregate(): QueryBuilder {
    return this.sortBy('aggregateName').sortBy('aggregateId').sortBy('aggregateVersion');
  }

  /** Adds sort key time, ascending (goes' `SortByTime`). */
  sortByTime(): QueryBuilder {
    return this.sortBy('time');
  }

  /** The query as a plain object without the builder's methods. */
  build(): EventQuery {
    return { ...this };
  }

  #time(patch: TimeConstraints): QueryBuilder {
    return this.#with({ times: { ...this.times, ...patch } });
  }

  #version(patch: VersionConstraints): QueryBuilder {
    return this.#with({ aggregateVersions: { ...this.aggregateVersions, ...patch } });
  }
}

/**
 * Starts a query, optionally from an existing one.
 *
 * @example
 * ```ts
 * const recent = query().name('order.placed').after(since).sortByTime();
 * ```
 */
export function query(from: EventQuery = {}): QueryBuilder {
  return new QueryBuilder(from);
}
