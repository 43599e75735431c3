import { type AggregateRef, VersionConflictError } from '@goes/event';
import type { Collection } from 'mongodb';
import { MongoStoreError } from '../errors.js';
import type { AggregateAppend } from './batch.js';
import {
  type EventDocument,
  incarnationOf,
  streamKey,
  tombstone,
  versionSlot,
} from './documents.js';
import type { EventLog } from './event-log.js';

/** Rounds of sealing before the stored version is given up on. */
const RESOLVE_ROUNDS = 10;
/** Aggregates whose version a store remembers. */
const CACHE_SIZE = 10_000;

/** The highest stored version of an aggregate and the incarnation it was written in. */
export interface StoredVersion {
  readonly version: number;
  readonly incarnation: number;
}

/**
 * Version bookkeeping: the check before an append, and the precise stored version.
 *
 * The unique index on (aggregate name, id, version, slot) holds every version slot: of stored
 * versions, of deleted versions (their tombstones keep the slot), and of the version after a
 * deleted last version (a delete "poisons" it). So an append collides on the index unless its
 * first version follows the stored one, or the aggregate never existed: a writer may try an
 * append without reading anything when it is new (version 1 in incarnation 0) or when this store
 * itself stored the version before it (the cache); a stale guess collides and is then checked
 * against the events. That keeps appends at one write, which matters most on FerretDB, where
 * every read scans the whole collection.
 *
 * An aggregate created again after a delete gets a new incarnation (slot `i1`, `i2`…): version v
 * of incarnation k + 1 does not collide with the tombstone of version v of incarnation k. The
 * incarnation of version f is that of version f − 1 (0 for version 1) unless a tombstone holds a
 * slot of version f or above in it; then it is one above the highest incarnation of those
 * tombstones, where no tombstone can block any version of the append. It depends only on f and
 * the tombstones, which only deletes write, so every writer of version f computes the same one
 * and two writers of the same version still collide. (Choosing by the slot of f alone could
 * pick an incarnation whose later slots hold tombstones, e.g. after a delete that stopped
 * halfway let an append move to a new incarnation: a batch across them could never be stored.)
 * Incarnations never decrease along the versions of one life, so when the slot of f is free in
 * the incarnation of f − 1, so are its later slots, and the cached guess of `prepare` agrees.
 *
 * @internal
 */
export class Versions {
  readonly #events: Collection<EventDocument>;
  readonly #log: EventLog;
  /** Aggregate key → the version this store stored last and its incarnation. */
  readonly #cache = new Map<string, StoredVersion>();

  constructor(events: Collection<EventDocument>, log: EventLog) {
    this.#events = events;
    this.#log = log;
  }

  /**
   * Decides the incarnation of every append without reading when it can (see the class), and
   * against the events otherwise.
   *
   * @throws {@link VersionConflictError} with the stored version as `actual`.
   */
  async prepare(appends: readonly AggregateAppend[]): Promise<void> {
    await Promise.all(
      appends.map(async (append) => {
        const cached = this.#cache.get(append.key);
        if (append.first === 1) append.incarnation = 0;
        else if (cached?.version === append.first - 1) append.incarnation = cached.incarnation;
        else await this.resolve(append);
      }),
    );
  }

  /**
   * Checks an append against the events and decides its incarnation: the stored version must
   * be `first − 1`, and no tombstone may hold a slot of `first` or above in the chosen one.
   *
   * @throws {@link VersionConflictError} with the stored version as `actual`.
   */
  async resolve(append: AggregateAppend): Promise<void> {
    for (let round = 0; round < RESOLVE_ROUNDS; round++) {
      const stored = await this.stored(append.ref);
      if (stored.version !== append.first - 1) {
        throw new VersionConflictError(append.ref, append.first - 1, stored.version);
      }
      // Every document holding a slot of version `first` or above, in any incarnation.
      const holders = await this.#events
        .find(
          {
            aggregateName: append.ref.name,
            aggregateId: append.ref.id,
            aggregateVersion: { $gte: append.first },
          },
          { projection: { _id: 1, slot: 1, deleted: 1, batchStart: 1, batchEnd: 1 } },
        )
        .toArray();
      const live = holders.find((doc) => !doc.deleted);
      if (live) {
        // Another writer holds one of the versions: stored by now (the next round reports the
        // conflict), or still being written or left half-written (sealing settles it).
        if (!(await this.#log.isComplete(live))) await this.#log.seal();
        continue;
      }
      append.incarnation = incarnationFor(append.first === 1 ? 0 : stored.incarnation, holders);
      return;
    }
    throw new MongoStoreError(
      `MongoDB event store: the version of ${append.ref.name}(${append.ref.id}) stayed undecided after ${RESOLVE_ROUNDS} rounds`,
    );
  }

  /** Remembers the versions a successful insert stored. */
  record(appends: readonly AggregateAppend[]): void {
    for (const append of appends) {
      this.#cache.delete(append.key);
      this.#cache.set(append.key, { version: append.last, incarnation: append.incarnation });
      if (this.#cache.size > CACHE_SIZE) {
        this.#cache.delete(this.#cache.keys().next().value as string);
      }
    }
  }

  /** Forgets what this store knew of an aggregate. */
  forget(ref: AggregateRef): void {
    this.#cache.delete(streamKey(ref));
  }

  /**
   * The precise stored version of an aggregate: the highest version of a complete batch that is
   * not deleted. When it belongs to a batch still being written, or left half-written by a
   * writer that died, the log is sealed (which settles it either way) and the question asked
   * again.
   */
  async stored(ref: AggregateRef): Promise<StoredVersion> {
    for (let round = 0; round < RESOLVE_ROUNDS; round++) {
      const [top] = await this.#events
        .find(
          {
            aggregateName: ref.name,
            aggregateId: ref.id,
            aggregateVersion: { $gte: 1 },
            deleted: { $exists: false },
          },
          {
            sort: { aggregateVersion: -1 },
            limit: 1,
            projection: { _id: 1, aggregateVersion: 1, slot: 1, batchStart: 1, batchEnd: 1 },
          },
        )
        .toArray();
      if (!top) return { version: 0, incarnation: 0 };
      if (await this.#log.isComplete(top)) {
        return { version: top.aggregateVersion as number, incarnation: incarnationOf(top.slot) };
      }
      await this.#log.seal();
    }
    throw new MongoStoreError(
      `MongoDB event store: the version of ${ref.name}(${ref.id}) stayed undecided after ${RESOLVE_ROUNDS} rounds`,
    );
  }

  /**
   * Takes the slot of the version after `last` (the deleted last version of an aggregate), so
   * that a writer that still believes in it cannot append: the placeholder is a tombstone at
   * the next position. A complete append that holds the slot already does as well; a
   * half-written one is settled first, because settling releases its slots.
   */
  async poison(ref: AggregateRef, last: StoredVersion): Promise<void> {
    const fields = {
      aggregateName: ref.name,
      aggregateId: ref.id,
      aggregateVersion: last.version + 1,
      slot: versionSlot(last.incarnation),
    };
    for (let attempt = 0; attempt < 1_000; attempt++) {
      const outcome = await this.#log.insert(1, (start, settled) => [
        tombstone(
          start,
          { ...fields, batchStart: start, batchEnd: start, ...(settled ? { settled } : {}) },
          true,
        ),
      ]);
      if (outcome.ok) return;
      if (outcome.kind === 'key') {
        // Taken already by an append that raced the delete: just as good once that append is
        // complete. A half-written one would release the slot when it is settled (its writer
        // may have died), so settle it first and take the slot again if it is free by then.
        const holder = await this.#events.findOne(fields, {
          projection: { _id: 1, batchStart: 1, batchEnd: 1, deleted: 1 },
        });
        if (holder && (holder.deleted || (await this.#log.isComplete(holder)))) return;
        if (holder) await this.#log.seal();
        continue;
      }
      if (outcome.kind === 'rejected') {
        throw new MongoStoreError(
          `MongoDB event store: could not mark the end of ${ref.name}(${ref.id}): ${outcome.failure.message}`,
        );
      }
    }
    // Going on without the placeholder would let a stale writer append after the deleted end.
    throw new MongoStoreError(
      `MongoDB event store: could not mark the end of ${ref.name}(${ref.id}): no attempt succeeded`,
    );
  }
}

/**
 * The incarnation an append continues in (see {@link Versions}): `current` when no tombstone
 * holds a slot of the appended versions there, else one above every incarnation those
 * tombstones hold.
 */
function incarnationFor(
  current: number,
  tombstones: readonly Pick<EventDocument, 'slot'>[],
): number {
  let highest = -1;
  let blocked = false;
  for (const doc of tombstones) {
    const incarnation = incarnationOf(doc.slot);
    if (incarnation === current) blocked = true;
    highest = Math.max(highest, incarnation);
  }
  return blocked ? highest + 1 : current;
}
