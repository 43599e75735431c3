import {
  InvalidArgumentError,
  type Nanos,
  nowNanos,
  refKey,
  type SignalOptions,
} from '@goes/event';
import { sleep } from '@goes/streams';
import { isSnapshotNotFoundError } from '../errors.js';
import type { SnapshotKey, SnapshotStore } from './store.js';

/**
 * Options of {@link cleanupSnapshots}.
 *
 * @example
 * ```ts
 * await cleanupSnapshots(snapshots, { maxAgeMs: 7 * 24 * 3_600_000 });
 * ```
 */
export interface SnapshotCleanupOptions extends SignalOptions {
  /** Snapshots taken more than this many milliseconds before `now` are deleted. */
  readonly maxAgeMs: number;
  /**
   * Keep each aggregate's latest snapshot even when it is old. Default true: goes deleted it too,
   * which makes the next fetch of a quiet aggregate replay its whole history.
   */
  readonly keepLatest?: boolean | undefined;
  /** The reference time; default now. */
  readonly now?: Nanos | undefined;
}

const DELETE_BATCH = 500;

/**
 * Deletes old snapshots once (one run of goes' `cleanup.Service`) and resolves to how many it
 * deleted. Snapshots are a cache: deleting them never loses data, it only makes the next fetch
 * of their aggregates replay more events.
 *
 * @throws {@link InvalidArgumentError} for a negative or non-finite `maxAgeMs`.
 * @example
 * ```ts
 * const deleted = await cleanupSnapshots(snapshots, { maxAgeMs: 86_400_000 });
 * ```
 */
export async function cleanupSnapshots(
  store: SnapshotStore,
  options: SnapshotCleanupOptions,
): Promise<number> {
  const { maxAgeMs, signal } = options;
  if (typeof maxAgeMs !== 'number' || !Number.isFinite(maxAgeMs) || maxAgeMs < 0) {
    throw new InvalidArgumentError(
      `maxAgeMs ${String(maxAgeMs)} must be a non-negative number of milliseconds`,
    );
  }
  signal?.throwIfAborted();
  const cutoff = (options.now ?? nowNanos()) - BigInt(Math.round(maxAgeMs * 1e6));
  const old: SnapshotKey[] = [];
  for await (const snapshot of store.query({ times: { max: cutoff - 1n } }, { signal })) {
    old.push({
      aggregateName: snapshot.aggregateName,
      aggregateId: snapshot.aggregateId,
      version: snapshot.version,
    });
  }
  let doomed = old;
  if (options.keepLatest ?? true) {
    const latest = new Map<string, number | undefined>();
    for (const key of old) {
      const ref = { name: key.aggregateName, id: key.aggregateId };
      const k = refKey(ref);
      if (latest.has(k)) continue;
      const snapshot = await store
        .latest(ref.name, ref.id, { signal })
        .catch((error: unknown) =>
          isSnapshotNotFoundError(error) ? undefined : Promise.reject(error),
        );
      latest.set(k, snapshot?.version);
    }
    doomed = old.filter(
      (key) => latest.get(refKey({ name: key.aggregateName, id: key.aggregateId })) !== key.version,
    );
  }
  for (let i = 0; i < doomed.length; i += DELETE_BATCH) {
    await store.delete(doomed.slice(i, i + DELETE_BATCH), { signal });
  }
  return doomed.length;
}

/**
 * Options of {@link startSnapshotCleanup}.
 *
 * @example
 * ```ts
 * startSnapshotCleanup(snapshots, { everyMs: 3_600_000, maxAgeMs: 86_400_000, onError: log.warn });
 * ```
 */
export interface SnapshotCleanupJobOptions extends Omit<SnapshotCleanupOptions, 'now' | 'signal'> {
  /** Milliseconds between runs; the first run is one interval after the start. */
  readonly everyMs: number;
  /** Receives the error of a failed run; the job keeps running. Default: `console.error`. */
  readonly onError?: ((error: unknown) => void) | undefined;
  /** Receives the number of snapshots each run deleted. */
  readonly onRun?: ((deleted: number) => void) | undefined;
}

/**
 * A running periodic cleanup. `close()` stops it and waits for a run in progress.
 *
 * @example
 * ```ts
 * await using job = startSnapshotCleanup(snapshots, { everyMs: 60_000, maxAgeMs: 3_600_000 });
 * ```
 */
export interface SnapshotCleanupJob extends AsyncDisposable {
  close(): Promise<void>;
}

/**
 * Starts deleting old snapshots periodically (goes' `cleanup.Service`).
 *
 * @throws {@link InvalidArgumentError} for a bad `everyMs` or `maxAgeMs`.
 * @example
 * ```ts
 * const job = startSnapshotCleanup(snapshots, { everyMs: 3_600_000, maxAgeMs: 86_400_000 });
 * // on shutdown
 * await job.close();
 * ```
 */
export function startSnapshotCleanup(
  store: SnapshotStore,
  options: SnapshotCleanupJobOptions,
): SnapshotCleanupJob {
  const { everyMs } = options;
  if (typeof everyMs !== 'number' || !Number.isFinite(everyMs) || everyMs <= 0) {
    throw new InvalidArgumentError(
      `everyMs ${String(everyMs)} must be a positive number of milliseconds`,
    );
  }
  if (
    typeof options.maxAgeMs !== 'number' ||
    !Number.isFinite(options.maxAgeMs) ||
    options.maxAgeMs < 0
  ) {
    throw new InvalidArgumentError(
      `maxAgeMs ${String(options.maxAgeMs)} must be a non-negative number of milliseconds`,
    );
  }
  const onError =
    options.onError ?? ((error: unknown) => console.error('goes: snapshot cleanup failed:', error));
  const stop = new AbortController();
  const loop = (async () => {
    while (!stop.signal.aborted) {
      try {
        await sleep(everyMs, { signal: stop.signal });
      } catch {
        return; // stopped
      }
      try {
        const deleted = await cleanupSnapshots(store, {
          maxAgeMs: options.maxAgeMs,
          keepLatest: options.keepLatest,
          signal: stop.signal,
        });
        options.onRun?.(deleted);
      } catch (error) {
        if (!stop.signal.aborted) onError(error);
      }
    }
  })();
  const close = async () => {
    stop.abort();
    await loop;
  };
  return { close, [Symbol.asyncDispose]: close };
}
