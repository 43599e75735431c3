import { type AggregateRef, VersionConflictError } from '@goes/event';
import type { Collection } from 'mongodb';
import { MongoStoreError } from '../errors.js';
import type { AggregateAppend } from './batch.js';
import { isDuplicateKey } from './driver-errors.js';
import { type EventDocument, streamKey } from './documents.js';
import type { EventLog } from './event-log.js';

/**
 * An aggregate's state document: the highest version known to be stored. It is a cache that
 * makes the version check one lookup by `_id` (the only lookup FerretDB answers without a scan).
 * It is raised only after a batch is fully stored, so it is never ahead of the truth (except
 * when a delete races an append); when it disagrees with a writer, the events decide.
 *
 * @internal
 */
export interface StreamDocument {
  _id: string;
  version: number;
}

/** Rounds of sealing before the stored version is given up on. */
const RESOLVE_ROUNDS = 10;

/**
 * Version bookkeeping of the store: the check before an append, the precise stored version,
 * and the state documents.
 *
 * @internal
 */
export class Versions {
  readonly #events: Collection<EventDocument>;
  readonly #streams: Collection<StreamDocument>;
  readonly #log: EventLog;

  constructor(
    events: Collection<EventDocument>,
    streams: Collection<StreamDocument>,
    log: EventLog,
  ) {
    this.#events = events;
    this.#streams = streams;
    this.#log = log;
  }

  /**
   * Checks that every append starts right after its aggregate's stored version.
   *
   * @throws {@link VersionConflictError} with the stored version as `actual`.
   */
  async check(appends: readonly AggregateAppend[]): Promise<void> {
    await Promise.all(
      appends.map(async (append) => {
        const state = await this.#streams.findOne({ _id: append.key });
        if ((state?.version ?? 0) === append.first - 1) return;
        const actual = await this.stored(append.ref);
        if (actual !== append.first - 1) {
          throw new VersionConflictError(append.ref, append.first - 1, actual);
        }
      }),
    );
  }

  /**
   * The precise stored version of an aggregate: the highest version of a complete batch. When
   * the highest version belongs to a batch still being written, or left half-written by a
   * writer that died, the log is sealed (which settles it either way) and the question asked
   * again.
   */
  async stored(ref: AggregateRef): Promise<number> {
    for (let round = 0; round < RESOLVE_ROUNDS; round++) {
      // The horizon must be read before the document: a document read first could be a
      // half-written one that was turned into a tombstone before a later horizon passed it.
      const horizon = await this.#log.readHorizon();
      const [top] = await this.#events
        .find(
          { aggregateName: ref.name, aggregateId: ref.id, aggregateVersion: { $gte: 1 } },
          {
            sort: { aggregateVersion: -1 },
            limit: 1,
            projection: { _id: 1, aggregateVersion: 1, batchStart: 1, batchEnd: 1, deleted: 1 },
          },
        )
        .toArray();
      if (!top) return 0;
      const state = await this.#log.stateOf(top, horizon);
      if (state === 'visible' || state === 'complete') return top.aggregateVersion as number;
      await this.#log.seal();
    }
    throw new MongoStoreError(
      `MongoDB event store: the version of ${ref.name}(${ref.id}) stayed undecided after ${RESOLVE_ROUNDS} rounds`,
    );
  }

  /** Raises the state documents after a batch was fully stored. */
  async record(appends: readonly AggregateAppend[]): Promise<void> {
    await Promise.all(
      appends.map(async (append) => {
        const raise = () =>
          this.#streams.updateOne(
            { _id: append.key },
            { $max: { version: append.last } },
            { upsert: true },
          );
        try {
          await raise();
        } catch (error) {
          // Two first appends upserting at once: the document exists now, so raise it again.
          if (!isDuplicateKey(error as { code?: unknown })) throw error;
          await raise();
        }
      }),
    );
  }

  /** Resets an aggregate's state document to its precise stored version (after a delete). */
  async reset(ref: AggregateRef): Promise<void> {
    const version = await this.stored(ref);
    const _id = streamKey(ref);
    if (version === 0) await this.#streams.deleteOne({ _id });
    else await this.#streams.replaceOne({ _id }, { version }, { upsert: true });
  }
}
