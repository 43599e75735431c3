import type { Nanos, SortDirection, TimeConstraints, VersionConstraints } from '@goes/event';
import type { AggregateSortField, AggregateSortOption } from '../sort.js';
import type { AggregateQuery, SnapshotQuery } from './types.js';

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
 * An immutable aggregate query builder (goes' `aggregate/query.New` with its options). Each
 * method returns a new builder; the builder is itself an {@link AggregateQuery}. Lists are
 * deduplicated. `sortBy` adds a key (goes' `SortBy` replaced all keys; here every call adds one,
 * as in the event query builder).
 *
 * @example
 * ```ts
 * const q = aggregateQuery().name('product').versionMin(10).sortBy('version', 'desc');
 * for await (const product of products.query(q)) console.log(product.version);
 * ```
 */
export class AggregateQueryBuilder implements AggregateQuery {
  declare readonly names?: readonly string[];
  declare readonly ids?: readonly string[];
  declare readonly versions?: VersionConstraints;
  declare readonly sort?: readonly AggregateSortOption[];

  constructor(from: AggregateQuery = {}) {
    for (const [key, value] of Object.entries(from)) {
      if (value !== undefined) (this as Record<string, unknown>)[key] = value;
    }
    Object.freeze(this);
  }

  /** A copy of this builder with `patch` applied, of the same class. */
  protected with(patch: object): this {
    const Builder = this.constructor as new (from: object) => this;
    return new Builder({ ...this, ...patch });
  }

  /** Aggregates with one of these names. */
  name(...names: string[]): this {
    return this.with({ names: union(this.names, names) });
  }

  /** Aggregates with one of these ids. */
  id(...ids: string[]): this {
    return this.with({ ids: union(this.ids, ids) });
  }

  /** Aggregates at one of these versions. */
  versionExact(...versions: number[]): this {
    return this.#version({ exact: union(this.versions?.exact, versions) });
  }

  /** Aggregates with a version in `[from, to]` (inclusive); several ranges are ORed. */
  versionRange(from: number, to: number): this {
    const range = [from, to] as const;
    return this.#version({
      ranges: union(this.versions?.ranges, [range], ([a, b]) => `${a}:${b}`),
    });
  }

  /** Aggregates with a version >= one of these. */
  versionMin(...versions: number[]): this {
    return this.#version({ min: union(this.versions?.min, versions) });
  }

  /** Aggregates with a version <= one of these. */
  versionMax(...versions: number[]): this {
    return this.#version({ max: union(this.versions?.max, versions) });
  }

  /** Adds a sort key (an identical key is not added twice). */
  sortBy(by: AggregateSortField, dir: SortDirection = 'asc'): this {
    return this.with({ sort: union(this.sort, [{ by, dir }], (s) => `${s.by}:${s.dir}`) });
  }

  /** The query as a plain object without the builder's methods. */
  build(): AggregateQuery {
    return { ...this };
  }

  #version(patch: VersionConstraints): this {
    return this.with({ versions: { ...this.versions, ...patch } });
  }
}

/**
 * A snapshot query builder (goes' `aggregate/snapshot/query.New`): the aggregate query methods
 * plus constraints on the time the snapshot was taken.
 *
 * @example
 * ```ts
 * const stale = snapshotQuery().name('product').before(nowNanos() - 86_400_000_000_000n);
 * for await (const snapshot of snapshots.query(stale)) console.log(snapshot.version);
 * ```
 */
export class SnapshotQueryBuilder extends AggregateQueryBuilder implements SnapshotQuery {
  declare readonly times?: TimeConstraints;

  /** Snapshots taken at one of these exact times. */
  timeExact(...times: Time[]): this {
    return this.#time({ exact: union(this.times?.exact, times.map(toNanos)) });
  }

  /** Snapshots taken inside `[from, to]` (inclusive); several ranges are ORed. */
  timeRange(from: Time, to: Time): this {
    const range = [toNanos(from), toNanos(to)] as const;
    return this.#time({ ranges: union(this.times?.ranges, [range], ([a, b]) => `${a}:${b}`) });
  }

  /** Snapshots taken at or after `time` (a later call replaces it). */
  timeMin(time: Time): this {
    return this.#time({ min: toNanos(time) });
  }

  /** Snapshots taken at or before `time` (a later call replaces it). */
  timeMax(time: Time): this {
    return this.#time({ max: toNanos(time) });
  }

  /** Snapshots taken strictly before `time`. */
  before(time: Time): this {
    return this.timeMax(toNanos(time) - 1n);
  }

  /** Snapshots taken strictly after `time`. */
  after(time: Time): this {
    return this.timeMin(toNanos(time) + 1n);
  }

  override build(): SnapshotQuery {
    return { ...this };
  }

  #time(patch: TimeConstraints): this {
    return this.with({ times: { ...this.times, ...patch } });
  }
}

/**
 * Starts an aggregate query, optionally from an existing one.
 *
 * @example
 * ```ts
 * const q = aggregateQuery().name('product').id(a, b);
 * ```
 */
export function aggregateQuery(from: AggregateQuery = {}): AggregateQueryBuilder {
  return new AggregateQueryBuilder(from);
}

/**
 * Starts a snapshot query, optionally from an existing one.
 *
 * @example
 * ```ts
 * const q = snapshotQuery().name('product').versionExact(100);
 * ```
 */
export function snapshotQuery(from: SnapshotQuery = {}): SnapshotQueryBuilder {
  return new SnapshotQueryBuilder(from);
}
