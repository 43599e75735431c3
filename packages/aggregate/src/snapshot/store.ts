import { InvalidArgumentError, isUuid, type SignalOptions } from '@goes/event';
import type { SnapshotQuery } from '../query/types.js';
import type { Snapshot } from './snapshot.js';

/**
 * Identifies one stored snapshot: aggregate name, id and version.
 *
 * @example
 * ```ts
 * await snapshots.delete([{ aggregateName: 'product', aggregateId: id, version: 100 }]);
 * ```
 */
export interface SnapshotKey {
  readonly aggregateName: string;
  readonly aggregateId: string;
  readonly version: number;
}

/**
 * The snapshot store contract (goes' `snapshot.Store`). Implementations must:
 * - keep one snapshot per (aggregate name, id, version); saving the same version again replaces it;
 * - return snapshots equal to the saved ones (nanosecond time, state text, soft-delete flag);
 * - answer `latest`, `version` and `limit` with {@link SnapshotNotFoundError} when nothing
 *   matches, and refuse malformed input (empty name, bad UUID, bad version) with
 *   `InvalidArgumentError` / `InvalidQueryError` at the call;
 * - answer `query` exactly like {@link matchesSnapshot}, sorted by the query's keys, with ties
 *   (and everything, without keys) by aggregate name, id and version ascending.
 *
 * `@goes/testing`'s `snapshotStoreConformance` checks all of this.
 *
 * @example
 * ```ts
 * const snapshots: SnapshotStore = createMemorySnapshotStore();
 * await snapshots.save(createSnapshot(product));
 * const latest = await snapshots.latest('product', product.id);
 * ```
 */
export interface SnapshotStore extends AsyncDisposable {
  /** Stores a snapshot, replacing one of the same aggregate and version. */
  save(snapshot: Snapshot, options?: SignalOptions): Promise<void>;
  /** The snapshot with the highest version. @throws {@link SnapshotNotFoundError} */
  latest(aggregateName: string, aggregateId: string, options?: SignalOptions): Promise<Snapshot>;
  /** The snapshot at exactly `version`. @throws {@link SnapshotNotFoundError} */
  version(
    aggregateName: string,
    aggregateId: string,
    version: number,
    options?: SignalOptions,
  ): Promise<Snapshot>;
  /** The snapshot with the highest version ≤ `maxVersion`. @throws {@link SnapshotNotFoundError} */
  limit(
    aggregateName: string,
    aggregateId: string,
    maxVersion: number,
    options?: SignalOptions,
  ): Promise<Snapshot>;
  /** Streams the snapshots matching `query`; a malformed query throws at once. */
  query(query: SnapshotQuery, options?: SignalOptions): AsyncIterable<Snapshot>;
  /** Deletes snapshots by key; unknown keys are ignored. */
  delete(snapshots: readonly SnapshotKey[], options?: SignalOptions): Promise<void>;
  /** Releases what the store opened; later calls fail with `ClosedError`. */
  close(): Promise<void>;
}

/**
 * Checks the arguments of `latest`, `version` and `limit` (a non-empty name, a UUID id, a
 * non-negative integer version), so every store refuses the same input.
 *
 * @throws {@link InvalidArgumentError} naming the value.
 * @example
 * ```ts
 * validateSnapshotKey('product', id, 10);
 * ```
 */
export function validateSnapshotKey(
  aggregateName: string,
  aggregateId: string,
  version?: number,
): void {
  if (typeof aggregateName !== 'string' || aggregateName.length === 0) {
    throw new InvalidArgumentError(
      `aggregate name ${JSON.stringify(aggregateName)} must be a non-empty string`,
    );
  }
  if (!isUuid(aggregateId)) {
    throw new InvalidArgumentError(
      `aggregate id ${JSON.stringify(aggregateId)} is not a lowercase UUID`,
    );
  }
  if (version !== undefined && (!Number.isSafeInteger(version) || version < 0)) {
    throw new InvalidArgumentError(`version ${String(version)} must be a non-negative integer`);
  }
}
