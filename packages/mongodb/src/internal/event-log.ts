import type { Collection } from 'mongodb';
import { MongoStoreError } from '../errors.js';
import {
  type EventDocument,
  formatPosition,
  parsePosition,
  type TombstoneFields,
  tombstone,
} from './documents.js';
import { firstWriteFailure, isDuplicateKey, type WriteFailure } from './driver-errors.js';
import type { Meta } from './meta.js';
import { Mutex } from './mutex.js';

/**
 * Builds the event documents of a batch starting at position `start`; `settled` says whether the
 * last one may carry the settled flag.
 *
 * @internal
 */
export type BuildDocuments = (start: number, settled: boolean) => EventDocument[];

/**
 * What {@link EventLog.insert} did: either every event document is stored (`ok`), or none of
 * the batch is (its prefix was turned into tombstones) and `kind` says why:
 * - `position`: another writer took a position first; try again;
 * - `key`: document `index` hit a unique index (event id or version slot);
 * - `rejected`: the server refused document `index` (`failure` has its reason).
 *
 * @internal
 */
export type InsertOutcome =
  | { readonly ok: true; readonly start: number; readonly end: number }
  | {
      readonly ok: false;
      readonly kind: 'position' | 'key' | 'rejected';
      readonly index: number;
      readonly failure: WriteFailure;
    };

/**
 * Every MARK_EVERY-th fast-path insert of a process also writes a commit marker, so a reader
 * that starts from the markers has few batches to step over.
 */
const MARK_EVERY = 64;
/** Settling rounds before giving up (each round only repeats when another writer interfered). */
const SETTLE_ROUNDS = 20;

/**
 * Statements per update command. FerretDB 1.24 never answers an update (or replace) command of
 * 100 statements or more, which would hang every delete or rollback of 100 events; MongoDB
 * would take more, but those writes are rare, and one rule keeps the tests on FerretDB true for
 * MongoDB too. Inserts are not affected (see {@link EventLog} `#insertOrdered`).
 */
export const MAX_UPDATE_STATEMENTS = 99;

const WALK_PROJECTION = { batchStart: 1, batchEnd: 1, settled: 1 } as const;

/**
 * The write protocol of the event log: positions, atomic batches and the visibility horizon, on
 * nothing but unique indexes and single-document writes, so it is correct on MongoDB without
 * transactions and on FerretDB (whose updates are not atomic).
 *
 * Invariants (the README's "How it works" tells the story):
 * 1. Positions are dense: a writer inserts at position p only after it saw p − 1 taken, and
 *    inserts a batch in ascending order with ordered inserts that stop at the first failure.
 *    Documents are never removed, only replaced by tombstones, so the taken positions are always
 *    exactly 1…max, and a position never changes its batch.
 * 2. Hence, once a batch is fully inserted, every batch below it is complete or doomed (its next
 *    position is taken by someone else, so its ordered insert can never finish). A batch is
 *    complete iff the document at its `batchEnd` is its own; complete batches are final.
 * 3. A position p is settled when every batch at or below p is complete or tombstoned. The
 *    horizon is the highest settled position a reader can prove: a commit marker, or the last
 *    document of a batch flagged `settled` (its writer inserted it right after a settled
 *    position, which it knew because it had settled it itself). Readers read up to the horizon
 *    only, so they never see a batch that is later rolled back, and no event can appear later
 *    below a position they have read.
 * 4. A writer that cannot prove its start settled (another writer's batch lies in between)
 *    settles that range after its insert (half-written batches there are doomed: they become
 *    tombstones) and writes a commit marker.
 * 5. Tombstones (`deleted`) keep the position taken; settling classifies them by what made them:
 *    - a deleted event keeps its batch fields, and only events of complete batches are deleted,
 *      so it counts toward its batch like the event it replaced: a deleted event at `batchEnd`
 *      still proves the batch complete, and the batch's other events stay;
 *    - a rolled-back document of a failed insert keeps the fields of its batch, which never
 *      completes (its insert stopped before `batchEnd`), so its batch stays half-written and
 *      any live document of it that the writer did not roll back (it died) becomes a tombstone;
 *    - a seal or poison placeholder is a batch of one (`batchStart` = `batchEnd` = its own
 *      position), complete as soon as it is stored;
 *    - a placeholder of an empty position has no batch fields and belongs to no batch.
 *    A tombstone is never replaced again: that would release the version slot of a deleted
 *    event.
 *
 * @internal
 */
export class EventLog {
  readonly #events: Collection<EventDocument>;
  readonly #meta: Meta;
  readonly #chunkSize: number;
  readonly #insertLock = new Mutex();
  /** A position known to be taken (or 0): the next insert starts right after it. */
  #hint: number | undefined;
  /** A position known to be settled. */
  #settled = 0;
  #fastInserts = 0;

  constructor(events: Collection<EventDocument>, meta: Meta, chunkSize: number) {
    this.#events = events;
    this.#meta = meta;
    this.#chunkSize = chunkSize;
  }

  /**
   * The visibility horizon: a position up to which everything is settled, 0 when nothing is.
   * Finds the last taken position, then steps down batch by batch to the first settled batch
   * end, or to the last commit marker.
   */
  async horizon(): Promise<number> {
    const known = this.#hint;
    if (known !== undefined && known === this.#settled) {
      // Fast path: nothing was written since this process last knew the log settled.
      if (!(await this.#isTaken(known + 1))) return known;
    }
    const marker = await this.#meta.marker();
    const top = await this.#lastTaken(Math.max(known ?? 0, marker, this.#settled));
    this.#raiseHint(top);
    let horizon = marker;
    for (let position = top; position > Math.max(marker, this.#settled); ) {
      const doc = await this.#events.findOne(
        { _id: formatPosition(position) },
        { projection: WALK_PROJECTION },
      );
      if (doc?.settled && doc.batchEnd === position) {
        horizon = position;
        break;
      }
      position = Math.min(position, doc?.batchStart ?? position) - 1;
    }
    horizon = Math.max(horizon, this.#settled);
    this.#settled = horizon;
    return horizon;
  }

  /**
   * Inserts the documents made by `build` at the next free positions: all of them or none. A
   * failed insert turns the prefix it stored into tombstones before it returns. On success the
   * batch is complete; when it could not be flagged settled, it is settled and committed here
   * too, so it is visible to readers on return.
   */
  async insert(count: number, build: BuildDocuments): Promise<InsertOutcome> {
    const attempt = await this.#insertLock.run(async () => {
      if (this.#hint === undefined || this.#hint !== this.#settled) await this.horizon();
      const hint = this.#hint as number;
      const settledBefore = this.#settled;
      const start = hint + 1;
      const flagged = hint === settledBefore;
      const result = await this.#insertOrdered(build(start, flagged));
      if (result.failure === undefined) {
        this.#raiseHint(start + count - 1);
        if (flagged) this.#settled = Math.max(this.#settled, start + count - 1);
        return {
          start,
          stored: count,
          failure: undefined,
          positionTaken: false,
          flagged,
          settledBefore,
        };
      }
      if (result.stored > 0) this.#raiseHint(start + result.stored - 1);
      const failedAt = start + result.failure.index;
      const positionTaken = isDuplicateKey(result.failure) && (await this.#isTaken(failedAt));
      if (positionTaken) this.#raiseHint(await this.#lastTaken(failedAt));
      return {
        start,
        stored: result.stored,
        failure: result.failure,
        positionTaken,
        flagged,
        settledBefore,
      };
    });
    if (attempt.failure === undefined) {
      const end = attempt.start + count - 1;
      if (attempt.flagged) {
        if (++this.#fastInserts % MARK_EVERY === 0) await this.#mark(end);
      } else {
        await this.#commit(attempt.start, end, attempt.settledBefore);
      }
      return { ok: true, start: attempt.start, end };
    }
    if (attempt.stored > 0) {
      const batch = { batchStart: attempt.start, batchEnd: attempt.start + count - 1 };
      await this.tombstone(
        Array.from({ length: attempt.stored }, (_, i) => ({
          _id: formatPosition(attempt.start + i),
          ...batch,
        })),
      );
    }
    const kind = positionKind(attempt);
    return { ok: false, kind, index: attempt.failure.index, failure: attempt.failure };
  }

  /**
   * Settles everything written so far: takes the next position with a placeholder and commits
   * it, so every batch below becomes final (complete) or tombstoned (half-written). Used to
   * resolve a conflict with a batch whose writer may be gone.
   */
  async seal(): Promise<void> {
    for (let attempt = 0; attempt < 1_000; attempt++) {
      const outcome = await this.insert(1, (start, settled) => [
        tombstone(start, { batchStart: start, batchEnd: start, ...(settled ? { settled } : {}) }),
      ]);
      if (outcome.ok) return;
      if (outcome.kind !== 'position') {
        throw new MongoStoreError(
          `MongoDB event store: sealing the event log failed: ${outcome.failure.message}`,
          { serverCode: outcome.failure.code ?? 'unknown' },
        );
      }
    }
    throw new MongoStoreError('MongoDB event store: sealing the event log found no free position');
  }

  /**
   * True when the batch of `doc` is complete, i.e. final: the document at its `batchEnd` is of
   * the same batch (a tombstone of a deleted event counts: only complete batches are deleted).
   */
  async isComplete(doc: Pick<EventDocument, '_id' | 'batchStart' | 'batchEnd'>): Promise<boolean> {
    if (doc.batchStart === undefined || doc.batchEnd === undefined) return false;
    if (doc.batchEnd === parsePosition(doc._id)) return true;
    const last = await this.#events.findOne(
      { _id: formatPosition(doc.batchEnd) },
      { projection: { batchStart: 1 } },
    );
    return last?.batchStart === doc.batchStart;
  }

  /**
   * Replaces the documents at these positions by tombstones that keep their batch fields (and,
   * with `keepSlots`, the version slots of deleted versions), in commands of at most
   * {@link MAX_UPDATE_STATEMENTS} replacements.
   */
  async tombstone(
    docs: readonly (TombstoneFields & { _id: string })[],
    keepSlots = false,
  ): Promise<void> {
    for (let offset = 0; offset < docs.length; offset += MAX_UPDATE_STATEMENTS) {
      await this.#events.bulkWrite(
        docs.slice(offset, offset + MAX_UPDATE_STATEMENTS).map((doc) => ({
          replaceOne: { filter: { _id: doc._id }, replacement: tombstone(doc._id, doc, keepSlots) },
        })),
        { ordered: false },
      );
    }
  }

  /**
   * Ordered insert in chunks. FerretDB keeps inserting the chunks of one command after a failed
   * one, so commands never hold more than one of its chunks; MongoDB stops at the first failure.
   */
  async #insertOrdered(
    docs: EventDocument[],
  ): Promise<{ stored: number; failure: WriteFailure | undefined }> {
    for (let offset = 0; offset < docs.length; offset += this.#chunkSize) {
      const chunk = docs.slice(offset, offset + this.#chunkSize);
      try {
        await this.#events.insertMany(chunk, { ordered: true });
      } catch (error) {
        const failure = firstWriteFailure(error);
        if (!failure) {
          // Unknown outcome (e.g. a lost connection): find the place again next time.
          this.#hint = undefined;
          throw error;
        }
        const index = offset + failure.index;
        return { stored: index, failure: { ...failure, index } };
      }
    }
    return { stored: docs.length, failure: undefined };
  }

  async #insertPlaceholders(docs: EventDocument[]): Promise<void> {
    try {
      await this.#events.insertMany(docs, { ordered: false });
    } catch (error) {
      const failure = firstWriteFailure(error);
      if (!failure || !isDuplicateKey(failure)) throw error;
    }
  }

  /** Makes the complete batch `[start, end]` visible when it could not be flagged settled. */
  async #commit(start: number, end: number, settledBefore: number): Promise<void> {
    if (settledBefore < start - 1) await this.#settle(settledBefore, start - 1);
    await this.#mark(end);
  }

  async #mark(end: number): Promise<void> {
    await this.#meta.mark(end);
    this.#settled = Math.max(this.#settled, end);
  }

  #raiseHint(position: number): void {
    this.#hint = Math.max(this.#hint ?? 0, position);
  }

  async #isTaken(position: number): Promise<boolean> {
    const doc = await this.#events.findOne(
      { _id: formatPosition(position) },
      { projection: { _id: 1 } },
    );
    return doc !== null;
  }

  /** The last taken position, knowing `taken` is taken (positions are dense: gallop, then bisect). */
  async #lastTaken(taken: number): Promise<number> {
    let low = taken;
    let step = 1;
    while (await this.#isTaken(low + step)) {
      low += step;
      step *= 2;
    }
    let high = low + step;
    while (high - low > 1) {
      const middle = Math.floor((low + high) / 2);
      if (await this.#isTaken(middle)) low = middle;
      else high = middle;
    }
    return low;
  }

  /**
   * Settles the positions `(after, upTo]`: every batch there is complete or doomed (invariant
   * 2), so the live documents of half-written ones become tombstones (invariant 5 says how each
   * kind of tombstone is classified). A position found empty (which only a writer not following
   * this protocol could cause) gets a placeholder, so nothing can slip in below the horizon
   * later.
   */
  async #settle(after: number, upTo: number): Promise<void> {
    for (let round = 0; round < SETTLE_ROUNDS; round++) {
      const docs = await this.#events
        .find(
          { _id: { $gt: formatPosition(after), $lte: formatPosition(upTo) } },
          { projection: { _id: 1, batchStart: 1, batchEnd: 1, deleted: 1 } },
        )
        .toArray();
      const batches = new Map<number, { end: number; hasEnd: boolean; live: EventDocument[] }>();
      const seen = new Set<number>();
      const halfWritten: EventDocument[] = [];
      for (const doc of docs) {
        const position = parsePosition(doc._id);
        seen.add(position);
        if (doc.batchStart === undefined || doc.batchEnd === undefined) {
          // A placeholder of an empty position is final as it is; a live document without
          // batch fields was not written by this protocol and cannot be shown.
          if (!doc.deleted) halfWritten.push(doc);
          continue;
        }
        // Tombstones with batch fields are grouped like live documents: the one at a batch's
        // end proves the batch complete (invariant 5), even when its event was deleted.
        const batch = batches.get(doc.batchStart) ?? { end: doc.batchEnd, hasEnd: false, live: [] };
        if (position === batch.end) batch.hasEnd = true;
        if (!doc.deleted) batch.live.push(doc);
        batches.set(doc.batchStart, batch);
      }
      for (const [start, batch] of batches) {
        const complete = start > after && batch.end <= upTo && batch.hasEnd;
        // Only live documents are turned into tombstones: a tombstone is one already, and
        // replacing it again would drop the version slot a deleted event keeps.
        if (!complete) halfWritten.push(...batch.live);
      }
      const empty: string[] = [];
      for (let position = after + 1; position <= upTo; position++) {
        if (!seen.has(position)) empty.push(formatPosition(position));
      }
      await this.tombstone(halfWritten);
      if (empty.length === 0) return;
      await this.#insertPlaceholders(empty.map((_id) => tombstone(_id)));
    }
    throw new MongoStoreError(
      `MongoDB event store: settling positions ${after + 1}…${upTo} did not finish after ${SETTLE_ROUNDS} rounds`,
    );
  }
}

function positionKind(attempt: {
  failure: WriteFailure;
  positionTaken: boolean;
}): 'position' | 'key' | 'rejected' {
  if (attempt.positionTaken) return 'position';
  return isDuplicateKey(attempt.failure) ? 'key' : 'rejected';
}
