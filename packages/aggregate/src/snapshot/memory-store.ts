import { ClosedError, refKey, type SignalOptions } from '@goes/event';
import { SnapshotNotFoundError } from '../errors.js';
import { matchesSnapshot } from '../query/matches.js';
import type { SnapshotQuery } from '../query/types.js';
import { validateAggregateQuery } from '../query/validate.js';
import { aggregateComparator } from '../sort.js';
import { type Snapshot, validateSnapshot } from './snapshot.js';
import { type SnapshotKey, type SnapshotStore, validateSnapshotKey } from './store.js';

/**
 * Creates the in-memory snapshot store (goes' `snapshot.NewStore`): zero dependencies, for
 * development and tests. Saved snapshots are copied and frozen; queries read a consistent view.
 *
 * @example
 * ```ts
 * const snapshots = createMemorySnapshotStore();
 * const repository = createRepository({ store, snapshots: { store: snapshots, schedule: snapshotEvery(100) } });
 * ```
 */
export function createMemorySnapshotStore(): SnapshotStore {
  return new MemorySnapshotStore();
}

class MemorySnapshotStore implements SnapshotStore {
  /** aggregate key → version → snapshot */
  readonly #snapshots = new Map<string, Map<number, Snapshot>>();
  #closed = false;

  async save(snapshot: Snapshot, options: SignalOptions = {}): Promise<void> {
    this.#open(options);
    validateSnapshot(snapshot);
    const key = refKey({ name: snapshot.aggregateName, id: snapshot.aggregateId });
    let versions = this.#snapshots.get(key);
    if (!versions) {
      versions = new Map();
      this.#snapshots.set(key, versions);
    }
    versions.set(
      snapshot.version,
      Object.freeze({
        aggregateName: snapshot.aggregateName,
        aggregateId: snapshot.aggregateId,
        version: snapshot.version,
        time: snapshot.time,
        state: snapshot.state,
        softDeleted: snapshot.softDeleted,
      }),
    );
  }

  async latest(name: string, id: string, options: SignalOptions = {}): Promise<Snapshot> {
    this.#open(options);
    validateSnapshotKey(name, id);
    return this.#highest(name, id, Number.POSITIVE_INFINITY, 'latest');
  }

  async version(
    name: string,
    id: string,
    version: number,
    options: SignalOptions = {},
  ): Promise<Snapshot> {
    this.#open(options);
    validateSnapshotKey(name, id, version);
    const snapshot = this.#snapshots.get(refKey({ name, id }))?.get(version);
    if (!snapshot) throw new SnapshotNotFoundError({ name, id }, `version ${version}`);
    return snapshot;
  }

  async limit(
    name: string,
    id: string,
    maxVersion: number,
    options: SignalOptions = {},
  ): Promise<Snapshot> {
    this.#open(options);
    validateSnapshotKey(name, id, maxVersion);
    return this.#highest(name, id, maxVersion, `version <= ${maxVersion}`);
  }

  query(q: SnapshotQuery, options: SignalOptions = {}): AsyncIterable<Snapshot> {
    this.#open({});
    validateAggregateQuery(q);
    const { signal } = options;
    const byTieBreak = aggregateComparator([
      ...(q.sort ?? []),
      { by: 'name', dir: 'asc' },
      { by: 'id', dir: 'asc' },
      { by: 'version', dir: 'asc' },
    ]);
    const view = (s: Snapshot) => ({
      aggregateName: s.aggregateName,
      id: s.aggregateId,
      version: s.version,
      snapshot: s,
    });
    const read = () => {
      const found: ReturnType<typeof view>[] = [];
      for (const versions of this.#snapshots.values()) {
        for (const snapshot of versions.values())
          if (matchesSnapshot(q, snapshot)) found.push(view(snapshot));
      }
      return found.sort(byTieBreak).map((entry) => entry.snapshot);
    };
    return {
      [Symbol.asyncIterator]: () => {
        let items: Snapshot[] | undefined;
        let index = 0;
        return {
          next: (): Promise<IteratorResult<Snapshot>> => {
            if (signal?.aborted) return Promise.reject(signal.reason);
            // Read when iteration starts, like a database cursor opened by the first next().
            items ??= read();
            if (index < items.length)
              return Promise.resolve({ done: false, value: items[index++] as Snapshot });
            return Promise.resolve({ done: true, value: undefined });
          },
          return: (): Promise<IteratorResult<Snapshot>> => {
            items = [];
            return Promise.resolve({ done: true, value: undefined });
          },
        };
      },
    };
  }

  async delete(keys: readonly SnapshotKey[], options: SignalOptions = {}): Promise<void> {
    this.#open(options);
    for (const { aggregateName, aggregateId, version } of keys) {
      const key = refKey({ name: aggregateName, id: aggregateId });
      const versions = this.#snapshots.get(key);
      if (!versions) continue;
      versions.delete(version);
      if (versions.size === 0) this.#snapshots.delete(key);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #open(options: SignalOptions): void {
    if (this.#closed) throw new ClosedError('the in-memory snapshot store');
    options.signal?.throwIfAborted();
  }

  #highest(name: string, id: string, maxVersion: number, what: string): Snapshot {
    let best: Snapshot | undefined;
    for (const snapshot of this.#snapshots.get(refKey({ name, id }))?.values() ?? []) {
      if (snapshot.version <= maxVersion && (!best || snapshot.version > best.version))
        best = snapshot;
    }
    if (!best) throw new SnapshotNotFoundError({ name, id }, what);
    return best;
  }
}
