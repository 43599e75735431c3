import { type Codec, createRegistry } from '@goes/codec';
import {
  type AggregateRef,
  ClosedError,
  DuplicateEventError,
  type Event,
  EventNotFoundError,
  type EventQuery,
  type EventStore,
  InvalidArgumentError,
  InvalidEventError,
  isUuid,
  isVersionConflictError,
  type SignalOptions,
  VersionConflictError,
  validateQuery,
} from '@goes/event';
import pg from 'pg';
import { PostgresStoreError } from './errors.js';
import type { EventFeed, FeedOptions } from './feed.js';
import { type EncodedBatch, encodeBatch } from './internal/batch.js';
import { EventCursor } from './internal/cursor.js';
import { fromDriverError, isConnectionFailure, sqlState } from './internal/driver-errors.js';
import { checkIdentifier } from './internal/identifiers.js';
import { type TableNames, tableNames } from './internal/names.js';
import { NotificationHub } from './internal/notifications.js';
import { querySql } from './internal/query-sql.js';
import { decodeRow, type EventRow, RAW_TYPES } from './internal/rows.js';
import { ensureSchema } from './internal/schema.js';
import {
  currentVersionsSql,
  deleteSql,
  feedSql,
  findSql,
  insertOneSql,
  insertSql,
  lastPositionSql,
} from './internal/statements.js';
import { StoreFeed } from './internal/store-feed.js';
import type { PostgresEventStoreOptions } from './options.js';

/**
 * The PostgreSQL event store: an {@link EventStore} plus a {@link EventFeed} of every event in
 * position order, the last position, and an explicit `ready()`.
 *
 * @example
 * ```ts
 * const store: PostgresEventStore = createPostgresEventStore({ connectionString });
 * await store.ready(); // optional: connect and create the table now instead of on first use
 * ```
 */
export interface PostgresEventStore extends EventStore {
  /** The schema of the events table. */
  readonly schema: string;
  /** The events table. */
  readonly table: string;
  /**
   * Connects and creates the schema, table and indexes if missing. Every other method does this
   * on first use; a failed attempt is retried by the next call, never left half-done.
   * @throws {@link ConnectionError} when PostgreSQL cannot be reached, {@link SchemaMismatchError}.
   */
  ready(options?: SignalOptions): Promise<void>;
  /**
   * Every event after `options.after`, in position order, exactly once, then new events as they
   * are appended (woken by inserts of this store and by LISTEN/NOTIFY). See {@link EventFeed}.
   * @throws {@link InvalidArgumentError} for bad options, {@link ClosedError} after close.
   */
  feed(options?: FeedOptions): EventFeed;
  /** The highest position stored so far (0 when empty): a feed from it sees only new events. */
  lastPosition(options?: SignalOptions): Promise<number>;
}

/**
 * Creates a PostgreSQL event store. It connects lazily, creates its schema, table and indexes on
 * first use (idempotently, safe when several processes start at once), and then:
 * - appends a batch in ONE round trip (one statement, atomic), with the aggregate version check
 *   done by the database: {@link VersionConflictError} when the batch does not continue the
 *   stored version, also between processes;
 * - gives every event a global `position` in commit order, so readers going by position never
 *   miss an event that commits later (see the README for how and what it costs);
 * - answers every {@link EventQuery} exactly like `matches()`, streamed through a server-side
 *   cursor;
 * - offers a {@link EventFeed} of all events from a position.
 *
 * @throws {@link InvalidArgumentError} for bad options (e.g. an unsafe table name).
 * @example
 * ```ts
 * import { createPostgresEventStore } from '@goes/postgres';
 * import { createEvent, query } from '@goes/event';
 *
 * const store = createPostgresEventStore({ connectionString: 'postgres://localhost/shop' });
 * await store.insert([createEvent('order.placed', { total: 10 }, { aggregate: { name: 'order', id, version: 1 } })]);
 * for await (const event of store.query(query().aggregate('order', id).sortBy('aggregateVersion'))) {
 *   console.log(event.position, event.name);
 * }
 * await store.close();
 * ```
 */
export function createPostgresEventStore(options: PostgresEventStoreOptions): PostgresEventStore {
  return new PgEventStore(options);
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new InvalidArgumentError(
      `@goes/postgres: option ${name} must be a positive integer, got ${String(value)}`,
    );
  }
  return value;
}

/** Resolves with a pooled client, or rejects with the abort reason (the client then goes back). */
function connect(pool: pg.Pool, signal: AbortSignal | undefined): Promise<pg.PoolClient> {
  const connecting = pool.connect();
  if (!signal) return connecting;
  if (signal.aborted) {
    connecting.then(
      (client) => client.release(),
      () => {},
    );
    return Promise.reject(signal.reason);
  }
  return new Promise((resolve, reject) => {
    let aborted = false;
    const onAbort = () => {
      aborted = true;
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    connecting.then(
      (client) => {
        signal.removeEventListener('abort', onAbort);
        if (aborted) client.release();
        else resolve(client);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        if (!aborted) reject(error);
      },
    );
  });
}

/** How often an append is tried when it only lost the race for the position lock. */
const MAX_APPEND_ATTEMPTS = 3;

const DUPLICATE_KEY = /^Key \(id\)=\(([0-9a-f-]{36})\) already exists/;

class PgEventStore implements PostgresEventStore {
  readonly schema: string;
  readonly table: string;
  readonly #names: TableNames;
  readonly #codec: Codec;
  readonly #pool: pg.Pool;
  readonly #ownsPool: boolean;
  readonly #notify: boolean;
  readonly #batchSize: number;
  readonly #hub: NotificationHub;
  readonly #feeds = new Set<StoreFeed>();
  /** Cursors being iterated: `close()` ends them, so the pool can end. */
  readonly #cursors = new Set<EventCursor>();
  /** SQL texts; the names are prepared-statement names (parsed once per connection). */
  readonly #sql: {
    readonly insert: { readonly name: string; readonly text: string };
    readonly insertOne: { readonly name: string; readonly text: string };
    readonly find: { readonly name: string; readonly text: string };
    readonly delete: { readonly name: string; readonly text: string };
    readonly feed: { readonly name: string; readonly text: string };
    readonly feedFiltered: { readonly name: string; readonly text: string };
    readonly currentVersions: string;
    readonly lastPosition: string;
  };
  #initialized = false;
  #initializing: Promise<void> | undefined;
  #closed = false;

  constructor(options: PostgresEventStoreOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new InvalidArgumentError(
        '@goes/postgres: options are required ({ pool } or { connectionString })',
      );
    }
    const { pool, connectionString } = options;
    if ((pool === undefined) === (connectionString === undefined)) {
      throw new InvalidArgumentError(
        '@goes/postgres: give exactly one of the options pool (a pg.Pool) and connectionString',
      );
    }
    if (
      connectionString !== undefined &&
      (typeof connectionString !== 'string' || connectionString === '')
    ) {
      throw new InvalidArgumentError('@goes/postgres: connectionString must be a non-empty string');
    }
    this.schema = checkIdentifier('schema', options.schema ?? 'goes');
    this.table = checkIdentifier('table', options.table ?? 'events');
    this.#names = tableNames(this.schema, this.table);
    this.#codec = options.codec ?? createRegistry();
    this.#notify = options.notify ?? true;
    this.#batchSize = positiveInteger('queryBatchSize', options.queryBatchSize, 1_000);
    const poolSize = positiveInteger('poolSize', options.poolSize, 10);
    if (pool) {
      this.#pool = pool;
      this.#ownsPool = false;
    } else {
      // pg.Pool connects lazily: nothing happens until the first query.
      this.#pool = new pg.Pool({ connectionString, max: poolSize });
      // An idle client that loses its connection is dropped by the pool; without a listener
      // the 'error' event would crash the process.
      this.#pool.on('error', (error) => options.onError?.(error));
      this.#ownsPool = true;
    }
    const onError = options.onError ?? (() => {});
    this.#hub = new NotificationHub({
      // pg-pool keeps the password out of the enumerable options; pass it on explicitly.
      listen: this.#notify
        ? { ...this.#pool.options, password: this.#pool.options.password }
        : undefined,
      channel: this.#names.channel,
      onError,
    });
    // Prepared statement names are per connection and per pool; the tag keeps two stores on
    // different tables of one pool apart.
    const tag = `goes_${this.#names.tag}`;
    this.#sql = {
      insert: {
        name: `${tag}_insert${this.#notify ? '_notify' : ''}`,
        text: insertSql(this.#names, this.#notify),
      },
      insertOne: {
        name: `${tag}_insert_one${this.#notify ? '_notify' : ''}`,
        text: insertOneSql(this.#names, this.#notify),
      },
      find: { name: `${tag}_find`, text: findSql(this.#names) },
      delete: { name: `${tag}_delete`, text: deleteSql(this.#names) },
      feed: { name: `${tag}_feed`, text: feedSql(this.#names, false) },
      feedFiltered: { name: `${tag}_feed_names`, text: feedSql(this.#names, true) },
      currentVersions: currentVersionsSql(this.#names),
      lastPosition: lastPositionSql(this.#names),
    };
  }

  async ready(options: SignalOptions = {}): Promise<void> {
    this.#assertOpen();
    options.signal?.throwIfAborted();
    await this.#ready(options.signal);
  }

  async insert(events: readonly Event[], options: SignalOptions = {}): Promise<readonly Event[]> {
    this.#assertOpen();
    options.signal?.throwIfAborted();
    if (!Array.isArray(events)) throw new InvalidEventError('insert expects an array of events');
    if (events.length === 0) return [];
    const batch = encodeBatch(events, this.#codec);
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
    if (this.#notify) values.push(this.#names.channel);
    for (let attempt = 1; ; attempt++) {
      const row = await this.#append(one, values, batch, options.signal);
      const last = row[0];
      if (last !== null && last !== undefined) {
        this.#hub.wake();
        const firstPosition = Number(last) - events.length + 1;
        return events.map((event, i) => stored(event, firstPosition + i));
      }
      const reported = this.#conflict(row, batch, one);
      if (!isVersionConflictError(reported)) throw reported;
      // The statement checked versions in the snapshot it started with; if it then waited for
      // another append to commit, that snapshot is old. Report the version stored now, and when
      // there is no conflict any more (the append raced only the lock), simply append again.
      const fresh = await this.#storedConflict(batch).catch(() => reported);
      if (fresh) throw fresh;
      if (attempt === MAX_APPEND_ATTEMPTS) throw reported;
      options.signal?.throwIfAborted();
    }
  }

  /** Runs the append statement once: the result row, or the mapped error. */
  async #append(
    one: boolean,
    values: unknown[],
    batch: EncodedBatch,
    signal: AbortSignal | undefined,
  ): Promise<EventRow> {
    const client = await this.#acquire(signal);
    let row: EventRow;
    try {
      // The last moment an abort can stop the append: once sent, it completes or fails whole.
      signal?.throwIfAborted();
      const result = await client.query<EventRow>({
        ...(one ? this.#sql.insertOne : this.#sql.insert),
        values,
        rowMode: 'array' as const,
        types: RAW_TYPES,
      });
      row = result.rows[0] as EventRow;
    } catch (error) {
      client.release(isConnectionFailure(error) ? true : undefined);
      throw await this.#insertError(error, batch);
    }
    client.release();
    return row;
  }

  async find(id: string, options: SignalOptions = {}): Promise<Event> {
    this.#assertOpen();
    options.signal?.throwIfAborted();
    if (!isUuid(id)) throw new EventNotFoundError(String(id));
    const rows = await this.#run<EventRow>(
      'find an event',
      { ...this.#sql.find, values: [id] },
      options.signal,
    );
    const row = rows[0];
    if (!row) throw new EventNotFoundError(id);
    return decodeRow(row, this.#codec);
  }

  query(q: EventQuery, options: SignalOptions = {}): AsyncIterable<Event> {
    this.#assertOpen();
    validateQuery(q);
    const statement = querySql(q, this.#names);
    const { signal } = options;
    const context = {
      acquire: (s: AbortSignal | undefined) => this.#acquire(s),
      codec: this.#codec,
      batchSize: this.#batchSize,
      ended: (cursor: EventCursor) => this.#cursors.delete(cursor),
    };
    return {
      [Symbol.asyncIterator]: () => {
        this.#assertOpen();
        const cursor = new EventCursor(context, statement, signal);
        this.#cursors.add(cursor);
        return cursor;
      },
    };
  }

  async delete(
    events: readonly { readonly id: string }[],
    options: SignalOptions = {},
  ): Promise<void> {
    this.#assertOpen();
    options.signal?.throwIfAborted();
    if (!Array.isArray(events)) {
      throw new InvalidArgumentError('@goes/postgres: delete expects an array of { id }');
    }
    // Ids that are not UUIDs cannot be stored, so they are unknown: ignored, like other unknown ids.
    const ids = [...new Set(events.map((event) => event?.id).filter(isUuid))];
    if (ids.length === 0) return;
    await this.#run('delete events', { ...this.#sql.delete, values: [ids] }, options.signal);
  }

  feed(options: FeedOptions = {}): EventFeed {
    this.#assertOpen();
    const feed = new StoreFeed(
      {
        codec: this.#codec,
        hub: this.#hub,
        read: (after, limit, names, signal) => this.#readFeed(after, limit, names, signal),
        ended: (ended) => this.#feeds.delete(ended),
      },
      options,
    );
    this.#feeds.add(feed);
    return feed;
  }

  async lastPosition(options: SignalOptions = {}): Promise<number> {
    this.#assertOpen();
    options.signal?.throwIfAborted();
    const rows = await this.#run<EventRow>(
      'read the last position',
      { text: this.#sql.lastPosition, values: [] },
      options.signal,
    );
    return Number(rows[0]?.[0] ?? 0);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const feed of [...this.#feeds]) await feed.close();
    const cursors = [...this.#cursors];
    for (const cursor of cursors) await cursor.return();
    await Promise.all(cursors.map((cursor) => cursor.closed));
    this.#hub.close();
    if (this.#ownsPool) await this.#pool.end();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new ClosedError(`the PostgreSQL event store ${this.#names.events}`);
  }

  /** Sets the store up once; a failed attempt is forgotten so that the next call tries again. */
  #ready(signal: AbortSignal | undefined): Promise<void> {
    if (this.#initialized) return Promise.resolve();
    if (!this.#initializing) {
      this.#initializing = this.#setup().then(
        () => {
          this.#initialized = true;
        },
        (error: unknown) => {
          this.#initializing = undefined;
          throw error;
        },
      );
      // A caller that gave up (abort) must not leave an unhandled rejection behind.
      this.#initializing.catch(() => {});
    }
    const initializing = this.#initializing;
    if (!signal) return initializing;
    return new Promise<void>((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      initializing
        .then(resolve, reject)
        .finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  async #setup(): Promise<void> {
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      throw fromDriverError(error, `connect to PostgreSQL for ${this.#names.events}`);
    }
    try {
      await ensureSchema(client, this.#names);
      client.release();
    } catch (error) {
      client.release(isConnectionFailure(error) ? true : undefined);
      throw fromDriverError(error, `set up ${this.#names.events}`);
    }
  }

  /** A pooled connection of a set-up store. */
  async #acquire(signal: AbortSignal | undefined): Promise<pg.PoolClient> {
    this.#assertOpen();
    if (!this.#initialized) await this.#ready(signal);
    try {
      return await connect(this.#pool, signal);
    } catch (error) {
      if (signal?.aborted && error === signal.reason) throw error;
      throw fromDriverError(error, 'connect to PostgreSQL');
    }
  }

  /** Runs one statement on a pooled connection and returns its rows (as text arrays). */
  async #run<R extends EventRow>(
    doing: string,
    statement: { readonly name?: string; readonly text: string; readonly values: unknown[] },
    signal: AbortSignal | undefined,
  ): Promise<R[]> {
    const client = await this.#acquire(signal);
    try {
      const result = await client.query<R>({
        ...statement,
        rowMode: 'array' as const,
        types: RAW_TYPES,
      });
      client.release();
      return result.rows;
    } catch (error) {
      client.release(isConnectionFailure(error) ? true : undefined);
      throw fromDriverError(error, doing);
    }
  }

  async #readFeed(
    after: number,
    limit: number,
    names: readonly string[] | undefined,
    signal: AbortSignal | undefined,
  ): Promise<{ rows: EventRow[]; horizon: number }> {
    const filtered = names !== undefined;
    if (filtered && names.length === 0) {
      // Only unstorable names were asked for: nothing can match; report the horizon only.
      return { rows: [], horizon: await this.lastPosition({ signal }) };
    }
    const values: unknown[] = [after, limit];
    if (filtered) values.push(names);
    const rows = await this.#run<EventRow>(
      'read the feed',
      { ...(filtered ? this.#sql.feedFiltered : this.#sql.feed), values },
      signal,
    );
    const horizon = Number(rows[0]?.[8] ?? 0);
    const events = rows[0]?.[0] === null ? [] : rows;
    return { rows: events, horizon };
  }

  /** The error of an append that stored nothing without failing: a version conflict. */
  #conflict(row: EventRow, batch: EncodedBatch, one: boolean): Error {
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
      `@goes/postgres: the position counter ${this.#names.counter} has no row; call ready() again or restore it`,
      undefined,
    );
  }

  /** Maps a failed append to the goes error it means. */
  async #insertError(error: unknown, batch: EncodedBatch): Promise<Error> {
    const state = sqlState(error);
    const { constraint, detail } = (error ?? {}) as { constraint?: unknown; detail?: unknown };
    if (state === '23505' && constraint === this.#names.constraints.id) {
      const match = typeof detail === 'string' ? DUPLICATE_KEY.exec(detail) : null;
      return new DuplicateEventError(match?.[1] ?? 'of the batch', { cause: error });
    }
    if (state === '23505' && constraint === this.#names.constraints.aggregate) {
      return this.#raceConflict(error, batch);
    }
    if (state === '22P02' || state === '22P05' || state === '22021') {
      // jsonb refuses \u0000 and lone surrogates; text refuses NUL. Name the event if we can.
      const index = batch.data.findIndex((text) => /\\u0000|\\ud[89a-f]/i.test(text));
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
   * conflict of the first one that the batch does not continue, or undefined when the batch
   * would fit now.
   */
  async #storedConflict(
    batch: EncodedBatch,
    cause?: unknown,
  ): Promise<VersionConflictError | undefined> {
    const { aggregates } = batch;
    if (aggregates.length === 0) return undefined;
    const rows = await this.#run<EventRow>(
      'read aggregate versions',
      {
        text: this.#sql.currentVersions,
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
