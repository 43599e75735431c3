import type { Collection } from 'mongodb';
import { MongoStoreError } from '../errors.js';
import { type EventDocument, formatPosition, parsePosition, tombstone } from './documents.js';
import { firstWriteFailure, isDuplicateKey, type WriteFailure } from './driver-errors.js';
import { Mutex } from './mutex.js';

/**
 * A commit marker: `_id` is a position up to which everything is settled (every batch there is
 * complete or tombstoned). The largest marker is the visibility horizon.
 *
 * @internal
 */
export interface CommitDocument {
  _id: string;
}

/** The documents of a batch, written at positions `start`, `start + 1`, … @internal */
export type BuildDocuments = (start: number) => EventDocument[];

/**
 * What {@link EventLog.insert} did: either every document is stored (`ok`), or none of the
 * batch is (its prefix was turned into tombstones) and `kind` says why:
 * - `position`: another writer took a position first; try again;
 * - `key`: document `index` hit a unique index (event id or version slot);
 * - `rejected`: the server refused document `index` (`failure` has its reason).
 *
 * @internal
 */
export type InsertOutcome =
  | {
      readonly ok: true;
      readonly start: number;
      readonly end: number;
      /** A horizon read while inserting: where committing starts to settle. */
      readonly horizon: Promise<number>;
    }
  | {
      readonly ok: false;
      readonly kind: 'position' | 'key' | 'rejected';
      readonly index: number;
      readonly failure: WriteFailure;
    };

/** The state of a stored document for readers and for the version check. @internal */
export type DocumentState = 'visible' | 'complete' | 'partial' | 'gone';

/** Every PRUNE_EVERY-th commit of a process removes the markers below its own. */
const PRUNE_EVERY = 16;

/** Settling rounds before giving up (each round only repeats when another writer interfered). */
const SETTLE_ROUNDS = 20;

/**
 * The write protocol of the event log: positions, atomic batches and the visibility horizon,
 * on nothing but unique indexes and single-document writes, so it is correct on MongoDB without
 * transactions and on FerretDB (whose updates are not atomic).
 *
 * Invariants (see the README, "How it works"):
 * 1. Positions are dense: a writer inserts at position p only after it saw p − 1 taken, and
 *    inserts a batch in ascending order with ordered inserts, stopping at the first failure.
 *    Documents are never removed, only replaced by tombstones, so the taken positions are
 *    always exactly 1…max.
 * 2. Hence, once a batch B is fully inserted, every batch below it is complete or doomed (its
 *    next position is taken by someone else, so its ordered insert can never finish). A batch
 *    is complete iff the document at its `batchEnd` is its own.
 * 3. A writer whose batch is fully inserted settles everything between the horizon and its
 *    batch (doomed batches become tombstones) and then inserts a commit marker at its end.
 *    Readers only read up to the largest marker, so they never see a batch that is later
 *    rolled back, and no event can appear later below a position they have read.
 *
 * @internal
 */
export class EventLog {
  readonly #events: Collection<EventDocument>;
  readonly #commits: Collection<CommitDocument>;
  readonly #chunkSize: number;
  readonly #insertLock = new Mutex();
  /** A position known to be taken (or 0): the next insert starts right after it. */
  #hint: number | undefined;
  #commitCount = 0;

  constructor(
    events: Collection<EventDocument>,
    commits: Collection<CommitDocument>,
    chunkSize: number,
  ) {
    this.#events = events;
    this.#commits = commits;
    this.#chunkSize = chunkSize;
  }

  /** The visibility horizon: every position up to it is settled. 0 when nothing is committed. */
  async readHorizon(): Promise<number> {
    const [head] = await this.#commits
      .find({}, { sort: { _id: -1 }, limit: 1, projection: { _id: 1 } })
      .toArray();
    return head ? parsePosition(head._id) : 0;
  }

  /**
   * Inserts `count` documents at the next free positions, all of them or none: a failed insert
   * turns the prefix it stored into tombstones before it returns.
   */
  async insert(count: number, build: BuildDocuments): Promise<InsertOutcome> {
    // Any horizon read while inserting is a valid starting point for settling.
    const horizon = this.readHorizon();
    horizon.catch(() => {});
    const attempt = await this.#insertLock.run(async () => {
      if (this.#hint === undefined) this.#hint = await horizon;
      const start = this.#hint + 1;
      const result = await this.#insertOrdered(build(start));
      if (result.failure === undefined) {
        this.#hint = start + count - 1;
        return { start, stored: count, failure: undefined, positionTaken: false };
      }
      if (result.stored > 0) this.#hint = Math.max(this.#hint, start + result.stored - 1);
      const failedAt = start + result.failure.index;
      const positionTaken =
        isDuplicateKey(result.failure) && (await this.#isTaken(failedAt));
      if (positionTaken) this.#hint = await this.#lastTaken(failedAt);
      return { start, stored: result.stored, failure: result.failure, positionTaken };
    });
    if (attempt.failure === undefined) {
      return { ok: true, start: attempt.start, end: attempt.start + count - 1, horizon };
    }
    if (attempt.stored > 0) await this.tombstone(range(attempt.start, attempt.stored));
    return {
      ok: false,
      kind: attempt.positionTaken
        ? 'position'
        : isDuplicateKey(attempt.failure)
          ? 'key'
          : 'rejected',
      index: attempt.failure.index,
      failure: attempt.failure,
    };
  }

  /**
   * Makes the fully inserted batch `[start, end]` visible: settles what lies between the horizon
   * and `start`, then adds the commit marker `end`.
   */
  async commit(start: number, end: number, horizon: number): Promise<void> {
    if (horizon >= end) return;
    if (horizon < start - 1) await this.#settle(horizon, start - 1);
    try {
      await this.#commits.insertOne({ _id: formatPosition(end) });
    } catch (error) {
      // Another writer settled past this batch with the same marker: committed all the same.
      if (!isDuplicateKey(error as { code?: unknown })) throw error;
    }
    if (++this.#commitCount % PRUNE_EVERY === 0) {
      // Only the largest marker matters; keeping the collection small keeps reading it cheap
      // on servers that cannot use an index for the sort (FerretDB).
      await this.#commits.deleteMany({ _id: { $lt: formatPosition(end) } });
    }
  }

  /**
   * Settles everything written so far: takes the next position with a placeholder and commits
   * it, so every batch below becomes visible (complete) or tombstoned (half-written). Used to
   * resolve a conflict with a batch whose writer may be gone.
   */
  async seal(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.insert(1, (start) => [
        { ...tombstone(start), batchStart: start, batchEnd: start },
      ]);
      if (outcome.ok) {
        await this.commit(outcome.start, outcome.end, await outcome.horizon);
        return;
      }
      if (outcome.kind !== 'position' || attempt >= 1_000) {
        throw new MongoStoreError(
          `MongoDB event store: sealing the event log failed: ${outcome.failure.message}`,
          { serverCode: outcome.failure.code ?? 'unknown' },
        );
      }
    }
  }

  /**
   * Whether a stored document counts: `visible` (committed), `complete` (its batch is fully
   * stored and will be committed by the next writer), `partial` (its batch is half-written or
   * still being written) or `gone` (a tombstone).
   */
  async stateOf(
    doc: Pick<EventDocument, '_id' | 'batchStart' | 'batchEnd' | 'deleted'>,
    horizon: number,
  ): Promise<DocumentState> {
    if (doc.deleted) return 'gone';
    if (parsePosition(doc._id) <= horizon) return 'visible';
    if (doc.batchEnd === undefined) return 'partial';
    const last = await this.#events.findOne(
      { _id: formatPosition(doc.batchEnd) },
      { projection: { batchStart: 1, deleted: 1 } },
    );
    return last && !last.deleted && last.batchStart === doc.batchStart ? 'complete' : 'partial';
  }

  /** Replaces the documents at these positions by tombstones (idempotent). */
  async tombstone(positions: readonly string[]): Promise<void> {
    if (positions.length === 0) return;
    await this.#events.bulkWrite(
      positions.map((_id) => ({
        replaceOne: { filter: { _id }, replacement: tombstone(_id) },
      })),
      { ordered: false },
    );
  }

  /** Forgets the next position, e.g. after an insert whose outcome is unknown. */
  forgetHint(): void {
    this.#hint = undefined;
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
          // Unknown outcome (e.g. a lost connection): the next insert must find its place again.
          this.#hint = undefined;
          throw error;
        }
        return {
          stored: offset + failure.index,
          failure: { ...failure, index: offset + failure.index },
        };
      }
    }
    return { stored: docs.length, failure: undefined };
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
   * 2), so the half-written ones become tombstones. A position found empty (which only a writer
   * not following this protocol could cause) gets a placeholder, so nothing can slip in below
   * the horizon later.
   */
  async #settle(after: number, upTo: number): Promise<void> {
    for (let round = 0; round < SETTLE_ROUNDS; round++) {
      const docs = await this.#events
        .find(
          { _id: { $gt: formatPosition(after), $lte: formatPosition(upTo) } },
          { projection: { _id: 1, batchStart: 1, batchEnd: 1, deleted: 1 } },
        )
        .toArray();
      const batches = new Map<number, { end: number; positions: string[] }>();
      const seen = new Set<number>();
      const halfWritten: string[] = [];
      for (const doc of docs) {
        const position = parsePosition(doc._id);
        seen.add(position);
        if (doc.deleted) continue;
        if (doc.batchStart === undefined || doc.batchEnd === undefined) {
          halfWritten.push(doc._id);
          continue;
        }
        const batch = batches.get(doc.batchStart) ?? { end: doc.batchEnd, positions: [] };
        batch.positions.push(doc._id);
        batches.set(doc.batchStart, batch);
      }
      for (const [start, batch] of batches) {
        const complete =
          start > after && batch.end <= upTo && batch.positions.length === batch.end - start + 1;
        if (!complete) halfWritten.push(...batch.positions);
      }
      const empty: string[] = [];
      for (let position = after + 1; position <= upTo; position++) {
        if (!seen.has(position)) empty.push(formatPosition(position));
      }
      if (halfWritten.length === 0 && empty.length === 0) return;
      await this.tombstone(halfWritten);
      if (empty.length > 0) {
        try {
          await this.#events.insertMany(
            empty.map((_id) => tombstone(_id)),
            { ordered: false },
          );
        } catch (error) {
          const failure = firstWriteFailure(error);
          if (!failure || !isDuplicateKey(failure)) throw error;
        }
      } else {
        return;
      }
    }
    throw new MongoStoreError(
      `MongoDB event store: settling positions ${after + 1}…${upTo} did not finish after ${SETTLE_ROUNDS} rounds`,
    );
  }
}

function range(start: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => formatPosition(start + i));
}
