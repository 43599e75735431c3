import { type Codec, createRegistry } from '@goes/codec';
import {
  type Event,
  EventNotFoundError,
  type EventQuery,
  type EventStore,
  InvalidArgumentError,
  InvalidEventError,
  isUuid,
  type SignalOptions,
  validateQuery,
} from '@goes/event';
import type { EventFeed, FeedOptions } from './feed.js';
import { Appender } from './internal/append.js';
import { encodeBatch } from './internal/batch.js';
import { Connections } from './internal/connections.js';
import { type CursorContext, RowCursor } from './internal/cursor.js';
import { eventSchema } from './internal/event-schema.js';
import { checkIdentifier } from './internal/identifiers.js';
import { type TableNames, tableNames } from './internal/names.js';
import { NotificationHub } from './internal/notifications.js';
import { MAX_BATCH_SIZE, openPool, positiveInteger } from './internal/pool.js';
import { querySql } from './internal/query-sql.js';
import { decodeAggregateRow, decodeRow, type TextRow } from './internal/rows.js';
import { type Statements, statements } from './internal/statements.js';
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

class PgEventStore implements PostgresEventStore {
  readonly schema: string;
  readonly table: string;
  readonly #names: TableNames;
  readonly #codec: Codec;
  readonly #batchSize: number;
  readonly #sql: Statements;
  readonly #connections: Connections;
  readonly #appender: Appender;
  readonly #hub: NotificationHub;
  readonly #feeds = new Set<StoreFeed>();
  /** Cursors being iterated: `close()` ends them, so that the pool can end. */
  readonly #cursors = new Set<RowCursor<Event>>();

  constructor(options: PostgresEventStoreOptions) {
    this.schema = checkIdentifier('schema', options?.schema ?? 'goes');
    this.table = checkIdentifier('table', options?.table ?? 'events');
    this.#batchSize = positiveInteger(
      'queryBatchSize',
      options?.queryBatchSize,
      1_000,
      MAX_BATCH_SIZE,
    );
    const { pool, owned } = openPool(options);
    const notify = options.notify ?? true;
    this.#names = tableNames(this.schema, this.table);
    this.#codec = options.codec ?? createRegistry();
    this.#sql = statements(this.#names, notify);
    this.#connections = new Connections(
      pool,
      owned,
      eventSchema(this.#names),
      'event store',
      options.cancelOnAbort ?? true,
    );
    this.#appender = new Appender(
      this.#connections,
      this.#names,
      this.#sql,
      notify ? this.#names.channel : undefined,
    );
    this.#hub = new NotificationHub({
      // pg-pool keeps the password out of the enumerable options; pass it on explicitly.
      listen: notify ? { ...pool.options, password: pool.options.password } : undefined,
      channel: this.#names.channel,
      onError: options.onError ?? (() => {}),
    });
  }

  async ready(options: SignalOptions = {}): Promise<void> {
    this.#connections.assertOpen();
    options.signal?.throwIfAborted();
    await this.#connections.ready(options.signal);
  }

  async insert(events: readonly Event[], options: SignalOptions = {}): Promise<readonly Event[]> {
    this.#connections.assertOpen();
    options.signal?.throwIfAborted();
    if (!Array.isArray(events)) throw new InvalidEventError('insert expects an array of events');
    if (events.length === 0) return [];
    const stored = await this.#appender.append(
      events,
      encodeBatch(events, this.#codec),
      options.signal,
    );
    this.#hub.wake();
    return stored;
  }

  async find(id: string, options: SignalOptions = {}): Promise<Event> {
    this.#connections.assertOpen();
    options.signal?.throwIfAborted();
    if (!isUuid(id)) throw new EventNotFoundError(String(id));
    const rows = await this.#connections.read(
      'find an event',
      { ...this.#sql.find, values: [id] },
      options.signal,
    );
    const row = rows[0];
    if (!row) throw new EventNotFoundError(id);
    return decodeRow(row, this.#codec);
  }

  query(q: EventQuery, options: SignalOptions = {}): AsyncIterable<Event> {
    this.#connections.assertOpen();
    validateQuery(q);
    const statement = querySql(q, this.#names);
    const { signal } = options;
    const codec = this.#codec;
    const pinned = statement.aggregate;
    const context: CursorContext<Event> = {
      acquire: (s) => this.#connections.acquire(s),
      release: (client, destroy) => this.#connections.release(client, destroy),
      cancel: (client) => this.#connections.cancel(client),
      decode: pinned
        ? (row) => decodeAggregateRow(row, codec, pinned)
        : (row) => decodeRow(row, codec),
      batchSize: this.#batchSize,
      reading: 'read events',
      ended: (cursor) => this.#cursors.delete(cursor),
    };
    return {
      [Symbol.asyncIterator]: () => {
        this.#connections.assertOpen();
        const cursor = new RowCursor(context, statement, signal);
        this.#cursors.add(cursor);
        return cursor;
      },
    };
  }

  async delete(
    events: readonly { readonly id: string }[],
    options: SignalOptions = {},
  ): Promise<void> {
    this.#connections.assertOpen();
    options.signal?.throwIfAborted();
    if (!Array.isArray(events)) {
      throw new InvalidArgumentError('@goes/postgres: delete expects an array of { id }');
    }
    // Ids that are not UUIDs cannot be stored, so they are unknown: ignored, like other unknown ids.
    const ids = [...new Set(events.map((event) => event?.id).filter(isUuid))];
    if (ids.length === 0) return;
    await this.#connections.run(
      'delete events',
      { ...this.#sql.delete, values: [ids] },
      options.signal,
    );
  }

  feed(options: FeedOptions = {}): EventFeed {
    this.#connections.assertOpen();
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
    this.#connections.assertOpen();
    options.signal?.throwIfAborted();
    const rows = await this.#connections.read(
      'read the last position',
      { text: this.#sql.lastPosition, values: [] },
      options.signal,
    );
    return Number(rows[0]?.[0] ?? 0);
  }

  async close(): Promise<void> {
    try {
      this.#connections.assertOpen();
    } catch {
      return;
    }
    // Refuse new work first, then end what runs: feeds, open cursors, the LISTEN connection.
    const closing = this.#connections.close();
    for (const feed of [...this.#feeds]) await feed.close();
    const cursors = [...this.#cursors];
    for (const cursor of cursors) await cursor.return();
    await Promise.all(cursors.map((cursor) => cursor.closed));
    this.#hub.close();
    await closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #readFeed(
    after: number,
    limit: number,
    names: readonly string[] | undefined,
    signal: AbortSignal | undefined,
  ): Promise<{ rows: TextRow[]; horizon: number }> {
    const filtered = names !== undefined;
    if (filtered && names.length === 0) {
      // Only unstorable names were asked for: nothing can match; report the horizon only.
      return { rows: [], horizon: await this.lastPosition({ signal }) };
    }
    const values: unknown[] = [after, limit];
    if (filtered) values.push(names);
    const rows = await this.#connections.read(
      'read the feed',
      { ...(filtered ? this.#sql.feedFiltered : this.#sql.feed), values },
      signal,
    );
    const horizon = Number(rows[0]?.[8] ?? 0);
    const events = rows[0]?.[0] === null ? [] : rows;
    return { rows: events, horizon };
  }
}
