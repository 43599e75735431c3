import {
  type Snapshot,
  type SnapshotKey,
  SnapshotNotFoundError,
  type SnapshotQuery,
  type SnapshotStore,
  validateAggregateQuery,
  validateSnapshot,
  validateSnapshotKey,
} from '@goes/aggregate';
import { InvalidArgumentError, isUuid, type SignalOptions } from '@goes/event';
import { isStorableText, MAX_INT64, MIN_INT64 } from './internal/batch.js';
import { Connections } from './internal/connections.js';
import { type CursorContext, RowCursor } from './internal/cursor.js';
import { checkIdentifier, quoteIdent } from './internal/identifiers.js';
import { tableNames } from './internal/names.js';
import { MAX_BATCH_SIZE, openPool, positiveInteger } from './internal/pool.js';
import {
  decodeSnapshot,
  type SnapshotTable,
  snapshotQuerySql,
  snapshotSchema,
  snapshotStatements,
} from './internal/snapshot-sql.js';
import type { PostgresConnectionOptions } from './options.js';

/**
 * Options of {@link createPostgresSnapshotStore}.
 *
 * @example
 * ```ts
 * const snapshots = createPostgresSnapshotStore({ pool, schema: 'shop', table: 'snapshots' });
 * ```
 */
export interface PostgresSnapshotStoreOptions extends PostgresConnectionOptions {
  /** The snapshot table; created if missing. Default `snapshots`. */
  readonly table?: string | undefined;
  /** Rows fetched per round trip by `query`. Default 1,000. */
  readonly queryBatchSize?: number | undefined;
}

/**
 * Creates a PostgreSQL {@link SnapshotStore}: one row per aggregate version, `latest` and
 * `limit` answered from the primary key in one round trip, saving the same version again
 * replaces it, `query` translated to SQL (equal to `matchesSnapshot()`) and streamed through a
 * server-side cursor. It connects lazily and creates its table on first use, like the event
 * store (the two may share a pool and a schema).
 *
 * @throws {@link InvalidArgumentError} for bad options (e.g. an unsafe table name).
 * @example
 * ```ts
 * import { createRepository } from '@goes/repository';
 * import { snapshotEvery } from '@goes/aggregate';
 *
 * const store = createPostgresEventStore({ pool });
 * const snapshots = createPostgresSnapshotStore({ pool });
 * const repository = createRepository({ store, snapshots: { store: snapshots, schedule: snapshotEvery(100) } });
 * ```
 */
export function createPostgresSnapshotStore(options: PostgresSnapshotStoreOptions): SnapshotStore {
  return new PgSnapshotStore(options);
}

/** A snapshot field PostgreSQL could not store exactly is refused before anything is sent. */
function checkStorable(snapshot: Snapshot): void {
  const where = `snapshot of ${snapshot.aggregateName}(${snapshot.aggregateId})`;
  if (!isStorableText(snapshot.aggregateName)) {
    throw new InvalidArgumentError(
      `${where}: the aggregate name contains a NUL character or a lone surrogate, which PostgreSQL cannot store`,
    );
  }
  if (!isStorableText(snapshot.state)) {
    throw new InvalidArgumentError(
      `${where}: the state contains a NUL character or a lone surrogate, which PostgreSQL text cannot store`,
    );
  }
  if (snapshot.time < MIN_INT64 || snapshot.time > MAX_INT64) {
    throw new InvalidArgumentError(
      `${where}: time ${snapshot.time}n is outside the range PostgreSQL's bigint can store`,
    );
  }
}

class PgSnapshotStore implements SnapshotStore {
  readonly #table: SnapshotTable;
  readonly #sql: ReturnType<typeof snapshotStatements>;
  readonly #connections: Connections;
  readonly #batchSize: number;
  readonly #cursors = new Set<RowCursor<Snapshot>>();

  constructor(options: PostgresSnapshotStoreOptions) {
    const schema = checkIdentifier('schema', options?.schema ?? 'goes');
    const table = checkIdentifier('table', options?.table ?? 'snapshots');
    this.#batchSize = positiveInteger(
      'queryBatchSize',
      options?.queryBatchSize,
      1_000,
      MAX_BATCH_SIZE,
    );
    const { pool, owned } = openPool(options);
    this.#table = { schema, table, relation: `${quoteIdent(schema)}.${quoteIdent(table)}` };
    this.#sql = snapshotStatements(this.#table, `goes_${tableNames(schema, table).tag}_snap`);
    this.#connections = new Connections(
      pool,
      owned,
      snapshotSchema(this.#table),
      'snapshot store',
      options.cancelOnAbort ?? true,
    );
  }

  async save(snapshot: Snapshot, options: SignalOptions = {}): Promise<void> {
    this.#open(options);
    validateSnapshot(snapshot);
    checkStorable(snapshot);
    await this.#connections.run(
      'save a snapshot',
      {
        ...this.#sql.save,
        values: [
          snapshot.aggregateName,
          snapshot.aggregateId,
          snapshot.version,
          snapshot.time.toString(),
          snapshot.state,
          snapshot.softDeleted,
        ],
      },
      options.signal,
    );
  }

  async latest(name: string, id: string, options: SignalOptions = {}): Promise<Snapshot> {
    this.#open(options);
    validateSnapshotKey(name, id);
    return this.#one(this.#sql.latest, [name, id], { name, id }, 'latest', options.signal);
  }

  async version(
    name: string,
    id: string,
    version: number,
    options: SignalOptions = {},
  ): Promise<Snapshot> {
    this.#open(options);
    validateSnapshotKey(name, id, version);
    return this.#one(
      this.#sql.version,
      [name, id, version],
      { name, id },
      `version ${version}`,
      options.signal,
    );
  }

  async limit(
    name: string,
    id: string,
    maxVersion: number,
    options: SignalOptions = {},
  ): Promise<Snapshot> {
    this.#open(options);
    validateSnapshotKey(name, id, maxVersion);
    return this.#one(
      this.#sql.limit,
      [name, id, maxVersion],
      { name, id },
      `version <= ${maxVersion}`,
      options.signal,
    );
  }

  query(q: SnapshotQuery, options: SignalOptions = {}): AsyncIterable<Snapshot> {
    this.#open({});
    validateAggregateQuery(q);
    const statement = snapshotQuerySql(q, this.#table);
    const context: CursorContext<Snapshot> = {
      acquire: (signal) => this.#connections.acquire(signal),
      release: (client, destroy) => this.#connections.release(client, destroy),
      cancel: (client) => this.#connections.cancel(client),
      decode: decodeSnapshot,
      batchSize: this.#batchSize,
      reading: 'read snapshots',
      ended: (cursor) => this.#cursors.delete(cursor),
    };
    return {
      [Symbol.asyncIterator]: () => {
        this.#connections.assertOpen();
        const cursor = new RowCursor(context, statement, options.signal);
        this.#cursors.add(cursor);
        return cursor;
      },
    };
  }

  async delete(keys: readonly SnapshotKey[], options: SignalOptions = {}): Promise<void> {
    this.#open(options);
    if (!Array.isArray(keys)) {
      throw new InvalidArgumentError('@goes/postgres: delete expects an array of snapshot keys');
    }
    // Keys no snapshot can have (bad ids, unstorable names) are unknown, so ignored.
    const valid = keys.filter(
      (key) =>
        typeof key?.aggregateName === 'string' &&
        isStorableText(key.aggregateName) &&
        isUuid(key.aggregateId) &&
        Number.isSafeInteger(key.version),
    );
    if (valid.length === 0) return;
    await this.#connections.run(
      'delete snapshots',
      {
        ...this.#sql.delete,
        values: [
          valid.map((key) => key.aggregateName),
          valid.map((key) => key.aggregateId),
          valid.map((key) => key.version),
        ],
      },
      options.signal,
    );
  }

  async close(): Promise<void> {
    try {
      this.#connections.assertOpen();
    } catch {
      return;
    }
    const closing = this.#connections.close();
    const cursors = [...this.#cursors];
    for (const cursor of cursors) await cursor.return();
    await Promise.all(cursors.map((cursor) => cursor.closed));
    await closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #open(options: SignalOptions): void {
    this.#connections.assertOpen();
    options.signal?.throwIfAborted();
  }

  async #one(
    statement: { readonly name: string; readonly text: string },
    values: unknown[],
    ref: { readonly name: string; readonly id: string },
    what: string,
    signal: AbortSignal | undefined,
  ): Promise<Snapshot> {
    // A name PostgreSQL cannot store has no snapshot.
    if (!isStorableText(ref.name)) throw new SnapshotNotFoundError(ref, what);
    const rows = await this.#connections.read('read a snapshot', { ...statement, values }, signal);
    const row = rows[0];
    if (!row) throw new SnapshotNotFoundError(ref, what);
    return decodeSnapshot(row);
  }
}
