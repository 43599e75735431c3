import { type AggregateRef, VersionConflictError } from '@goes/event';
import type { Collection } from 'mongodb';
import { MongoStoreError } from '../errors.js';
import type { AggregateAppend } from './batch.js';
import type { EventDocument } from './documents.js';
import type { EventLog } from './event-log.js';
import type { Meta } from './meta.js';

/** Rounds of sealing before the stored version is given up on. */
const RESOLVE_ROUNDS = 10;
/** Aggregates whose version a store remembers. */
const CACHE_SIZE = 10_000;

/**
 * Version bookkeeping: the check before an append, and the precise stored version.
 *
 * The unique version slot already refuses a version that is taken; the check adds that the
 * first new version follows the stored one, so that no gap can appear. It is decided without
 * reading events when possible:
 * - version 1 follows "nothing stored" unless the aggregate is blocked (its version 1 was
 *   deleted while later versions remain); if version 1 is stored, its slot refuses the insert;
 * - version v + 1 follows v when this store itself stored v last and no delete happened since
 *   (another writer's later version would take the slot of v + 1 first).
 * Otherwise the events decide ({@link Versions.stored}). Both facts come from the small
 * metadata collection, one read per insert, so an append reads no events: on FerretDB, which
 * scans the whole collection for every query, that is what keeps appends as fast as inserts.
 *
 * @internal
 */
export class Versions {
  readonly #events: Collection<EventDocument>;
  readonly #log: EventLog;
  readonly #meta: Meta;
  /** Aggregate key → the version this store stored last; valid for `#deletes` only. */
  readonly #cache = new Map<string, number>();
  #deletes = -1;

  constructor(events: Collection<EventDocument>, log: EventLog, meta: Meta) {
    this.#events = events;
    this.#log = log;
    this.#meta = meta;
  }

  /**
   * Checks that every append starts right after its aggregate's stored version.
   *
   * @throws {@link VersionConflictError} with the stored version as `actual`.
   */
  async check(appends: readonly AggregateAppend[]): Promise<void> {
    if (appends.length === 0) return;
    const meta = await this.#meta.state();
    if (meta.deletes !== this.#deletes) {
      this.#cache.clear();
      this.#deletes = meta.deletes;
    }
    await Promise.all(
      appends.map(async (append) => {
        const known =
          append.first === 1
            ? !meta.blocked.has(append.key)
            : this.#cache.get(append.key) === append.first - 1;
        if (known) return;
        const actual = await this.stored(append.ref);
        if (actual !== append.first - 1) {
          throw new VersionConflictError(append.ref, append.first - 1, actual);
        }
      }),
    );
  }

  /** Remembers the versions a successful insert stored. */
  record(appends: readonly AggregateAppend[]): void {
    for (const append of appends) {
      this.#cache.delete(append.key);
      this.#cache.set(append.key, append.last);
      if (this.#cache.size > CACHE_SIZE) {
        const oldest = this.#cache.keys().next().value as string;
        this.#cache.delete(oldest);
      }
    }
  }

  /** Forgets what this store knew (after it deleted events). */
  forget(): void {
    this.#cache.clear();
  }

  /**
   * The precise stored version of an aggregate: the highest version of a complete batch. When
   * the highest version belongs to a batch still being written, or left half-written by a
   * writer that died, the log is sealed (which settles it either way) and the question asked
   * again.
   */
  async stored(ref: AggregateRef): Promise<number> {
    for (let round = 0; round < RESOLVE_ROUNDS; round++) {
      const [top] = await this.#events
        .find(
          { aggregateName: ref.name, aggregateId: ref.id, aggregateVersion: { $gte: 1 } },
          {
            sort: { aggregateVersion: -1 },
            limit: 1,
            projection: { _id: 1, aggregateVersion: 1, batchStart: 1, batchEnd: 1 },
          },
        )
        .toArray();
      if (!top) return 0;
      if (await this.#log.isComplete(top)) return top.aggregateVersion as number;
      await this.#log.seal();
    }
    throw new MongoStoreError(
      `MongoDB event store: the version of ${ref.name}(${ref.id}) stayed undecided after ${RESOLVE_ROUNDS} rounds`,
    );
  }

  /** The lowest stored version of an aggregate (0 when none). */
  async lowest(ref: AggregateRef): Promise<number> {
    const [bottom] = await this.#events
      .find(
        { aggregateName: ref.name, aggregateId: ref.id, aggregateVersion: { $gte: 1 } },
        { sort: { aggregateVersion: 1 }, limit: 1, projection: { aggregateVersion: 1 } },
      )
      .toArray();
    return bottom?.aggregateVersion ?? 0;
  }
}
