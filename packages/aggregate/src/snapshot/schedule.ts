import { InvalidArgumentError } from '@goes/event';
import type { Aggregate } from '../aggregate.js';

/**
 * Decides when saving an aggregate also takes a snapshot (goes' `snapshot.Schedule`). The
 * repository asks before the changes are committed, so `aggregate.version` is the stored version
 * and `aggregate.changes` the events about to be stored.
 *
 * @example
 * ```ts
 * const onDiscontinue: SnapshotSchedule = {
 *   shouldSnapshot: (a) => a.changes.some((e) => e.name === 'product.discontinued'),
 * };
 * ```
 */
export interface SnapshotSchedule {
  shouldSnapshot(aggregate: Aggregate): boolean;
}

/**
 * Options of {@link snapshotEvery}.
 *
 * @example
 * ```ts
 * snapshotEvery(100, { names: ['product'] });
 * ```
 */
export interface SnapshotEveryOptions {
  /** Only aggregates with these names are snapshotted; default all. */
  readonly names?: readonly string[] | undefined;
}

/**
 * A schedule that snapshots every `n` versions (goes' `snapshot.Every`): a save triggers when any
 * version it adds is a multiple of `n`, so a save that jumps over a multiple still triggers.
 *
 * @throws {@link InvalidArgumentError} when `n` is not a positive integer.
 * @example
 * ```ts
 * const repository = createRepository({ store, snapshots: { store: snapshots, schedule: snapshotEvery(100) } });
 * ```
 */
export function snapshotEvery(n: number, options: SnapshotEveryOptions = {}): SnapshotSchedule {
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError(`snapshotEvery(${String(n)}): n must be a positive integer`);
  }
  const names = options.names && options.names.length > 0 ? new Set(options.names) : undefined;
  return {
    shouldSnapshot(aggregate) {
      if (names && !names.has(aggregate.aggregateName)) return false;
      const from = aggregate.version;
      const to = from + aggregate.changes.length;
      // The first multiple of n above `from` lies inside (from, to].
      return to > from && Math.floor(to / n) > Math.floor(from / n);
    },
  };
}
