import {
  type AggregateRef,
  DuplicateEventError,
  type Event,
  InvalidEventError,
  isVersionConflictError,
  VersionConflictError,
} from '@goes/event';
import { PostgresStoreError } from '../errors.js';
import type { EncodedBatch } from './batch.js';
import type { Connections } from './connections.js';
import { fromDriverError, isConnectionFailure, sqlState } from './driver-errors.js';
import type { TableNames } from './names.js';
import { RAW_TYPES, type TextRow } from './rows.js';
import type { Statements } from './statements.js';

/** How often an append is tried when it only lost the race for the position lock. */
const MAX_ATTEMPTS = 3;

/**
 * A JSON escape jsonb refuses: `\u0000`, or a surrogate escape (a lone one is refused; this may
 * also match a pair, which only matters for naming the event in the error). The escape must not
 * itself be escaped, hence the even number of backslashes before it.
 */
const UNSTORABLE_ESCAPE = /(?:^|[^\\])(?:\\\\)*\\u(?:0000|d[89a-f])/i;

const DUPLICATE_KEY = /^Key \(id\)=\(([0-9a-f-]{36})\) already exists/;

/**
 * Appends checked batches with the append statements (see statements.ts) and turns what went
 * wrong into goes errors: version conflicts (found by the statement's check or by the unique
 * index), duplicate ids, data jsonb cannot hold, lost connections.
 */
export class Appender {
  constructor(
    private readonly connections: Connections,
    private readonly names: TableNames,
    private readonly sql: Statements,
    /** The NOTIFY channel, when appends notify. */
    private readonly channel: string | undefined,
  ) {}

  /** Stores the batch; resolves with the events and their positions. */
  async append(
    events: readonly Event[],
    batch: EncodedBatch,
    signal: AbortSignal | undefined,
  ): Promise<Event[]> {
    const one = events.length === 1;
    const values: unknown[] = one
      ? [
          batch.ids[0],
          batch.names[0],
          batch.times[0],
          batch.aggregateNames[0],
          batch.aggregateIds[0],
          batch.versions[0],
          batch.data[0],
        ]
      : [
          batch.ids,
          batch.names,
          batch.times,
          batch.aggregateNames,
          batch.aggregateIds,
          batch.versions,
          batch.data,
          events.length,
        ];
    if (this.channel !== undefined) values.push(this.channel);
    for (let attempt = 1; ; attempt++) {
      const row = await this.#execute(one, values, batch, signal);
      const last = row[0];
      if (last !== null && last !== undefined) {
        const firstPosition = Number(last) - events.length + 1;
        return events.map((event, i) => stored(event, firstPosition + i));
      }
      const reported = this.#reportedConflict(row, batch, one);
      if (!isVersionConflictError(reported)) throw reported;
      // The statement checked versions in the snapshot it started with; a commit that came in
      // between can make that check stale. Report the version stored now, and when there is no
      // conflict any more, append again.
      const fresh = await this.#storedConflict(batch).catch(() => reported);
      if (fresh) throw fresh;
      if (attempt === MAX_ATTEMPTS) throw reported;
      signal?.throwIfAborted();
    }
  }

  /** Runs the append statement once: the result row, or the mapped error. */
  async #execute(
    one: boolean,
    values: unknown[],
    batch: EncodedBatch,
    signal: AbortSignal | undefined,
  ): Promise<TextRow> {
    const client = await this.connections.acquire(signal);
    let row: TextRow;
    try {
      // The last moment an abort can stop the append: once sent, it completes or fails whole.
      signal?.throwIfAborted();
      const result = await client.query<TextRow>({
        ...(one ? this.sql.insertOne : this.sql.insert),
        values,
        rowMode: 'array' as const,
        types: RAW_TYPES,
      });
      row = result.rows[0] as TextRow;
    } catch (error) {
      this.connections.release(client, isConnectionFailure(error));
      throw await this.#failure(error, batch);
    }
    this.connections.release(client);
    return row;
  }

  /** The error of an append that stored nothing without failing: a version conflict. */
  #reportedConflict(row: TextRow, batch: EncodedBatch, one: boolean): Error {
    if (one) {
      const aggregate = batch.aggregates[0];
      if (aggregate && row[1] !== null && row[1] !== undefined) {
        return new VersionConflictError(aggregate.ref, aggregate.first - 1, Number(row[1]));
      }
    } else if (row[1] !== null && row[1] !== undefined) {
      const ref: AggregateRef = { name: row[1], id: row[2] as string };
      return new VersionConflictError(ref, Number(row[3]) - 1, Number(row[4]));
    }
    return new PostgresStoreError(
      `@goes/postgres: the position counter ${this.names.counter} has no row; call ready() again or restore it`,
      undefined,
    );
  }

  /** Maps a failed append to the goes error it means. */
  async #failure(error: unknown, batch: EncodedBatch): Promise<Error> {
    const state = sqlState(error);
    const { constraint, detail } = (error ?? {}) as { constraint?: unknown; detail?: unknown };
    if (state === '23505' && constraint === this.names.constraints.id) {
      const match = typeof detail === 'string' ? DUPLICATE_KEY.exec(detail) : null;
      return new DuplicateEventError(match?.[1] ?? 'of the batch', { cause: error });
    }
    if (state === '23505' && constraint === this.names.constraints.aggregate) {
      return this.#raceConflict(error, batch);
    }
    if (state === '22P02' || state === '22P05' || state === '22021') {
      // jsonb refuses \u0000 and lone surrogates. Name the event if we can.
      const index = batch.data.findIndex((text) => UNSTORABLE_ESCAPE.test(text));
      return new InvalidEventError(
        `the data cannot be stored as PostgreSQL jsonb (it must be JSON without \\u0000 characters or lone surrogates): ${String((error as Error).message)}`,
        index >= 0 ? index : undefined,
      );
    }
    return fromDriverError(error, `append ${batch.ids.length} event(s)`);
  }

  /**
   * A concurrent writer stored a version between this append's check and its insert: the unique
   * index refused the insert. Reads the stored versions again to report the version that won.
   */
  async #raceConflict(error: unknown, batch: EncodedBatch): Promise<Error> {
    const fresh = await this.#storedConflict(batch, error).catch(() => undefined);
    if (fresh) return fresh;
    const first = batch.aggregates[0];
    if (!first) return fromDriverError(error, 'append events');
    // The winner was deleted again in the meantime: the conflict happened all the same.
    return new VersionConflictError(first.ref, first.first - 1, first.first, { cause: error });
  }

  /**
   * Reads the stored version of every aggregate of the batch (a fresh snapshot) and returns the
   * conflict of the first one that the batch does not continue, or undefined when it would fit.
   */
  async #storedConflict(
    batch: EncodedBatch,
    cause?: unknown,
  ): Promise<VersionConflictError | undefined> {
    const { aggregates } = batch;
    if (aggregates.length === 0) return undefined;
    const rows = await this.connections.run(
      'read aggregate versions',
      {
        text: this.sql.currentVersions,
        values: [aggregates.map((a) => a.ref.id), aggregates.map((a) => a.ref.name)],
      },
      undefined,
    );
    for (const row of rows) {
      const aggregate = aggregates[Number(row[0]) - 1];
      const current = Number(row[1]);
      if (aggregate && current !== aggregate.first - 1) {
        return new VersionConflictError(
          aggregate.ref,
          aggregate.first - 1,
          current,
          cause === undefined ? undefined : { cause },
        );
      }
    }
    return undefined;
  }
}

/** The stored form of an inserted event: the same fields plus its position. */
function stored(event: Event, position: number): Event {
  const { id, name, time, data, aggregate } = event;
  if (aggregate === undefined) return { id, name, time, data, position };
  return {
    id,
    name,
    time,
    data,
    aggregate: { name: aggregate.name, id: aggregate.id, version: aggregate.version },
    position,
  };
}
