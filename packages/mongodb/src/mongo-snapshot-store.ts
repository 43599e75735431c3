import {
  type AggregateSortOption,
  type Snapshot,
  type SnapshotKey,
  SnapshotNotFoundError,
  type SnapshotQuery,
  type SnapshotStore,
  validateAggregateQuery,
  validateSnapshot,
  validateSnapshotKey,
} from '@goes/aggregate';
import { InvalidArgumentError, type SignalOptions } from '@goes/event';
import { abortable } from '@goes/streams';
import type { Collection, Db, Filter, IndexDescription, MongoClient, Sort } from 'mongodb';
import { Connection } from './internal/connection.js';
import { DocumentCursor } from './internal/cursor.js';
import { INT64_MAX, INT64_MIN, isStorableString } from './internal/documents.js';
import { isDuplicateKey, toStoreError } from './internal/driver-errors.js';
import { createIndexes } from './internal/indexes.js';
import { timeClauses, versionClauses } from './internal/translate-query.js';
import {
  type MongoConnectionOptions,
  positiveInteger,
  type ResolvedConnection,
  resolveConnection,
} from './options.js';

/**
 * Options of {@link createMongoSnapshotStore}. Give either `client` or `url`.
 *
 * @example
 * ```ts
 * const options: MongoSnapshotStoreOptions = { client, database: 'shop', collection: 'snapshots' };
 * ```
 */
export interface MongoSnapshotStoreOptions extends MongoConnectionOptions {
  /** Name of the snapshots collection. Default `snapshots`. */
  readonly collection?: string | undefined;
  /** Documents per cursor batch when streaming query results. Default 1,000. */
  readonly batchSize?: number | undefined;
}

/**
 * The MongoDB snapshot store: a `SnapshotStore` plus the client it uses and `connect()`.
 *
 * @example
 * ```ts
 * const snapshots: MongoSnapshotStore = createMongoSnapshotStore({ client });
 * await snapshots.save(createSnapshot(product));
 * ```
 */
export interface MongoSnapshotStore extends SnapshotStore {
  /** The client: the one given, or the one made from `url` (closed by `close()`). */
  readonly client: MongoClient;
  /** The database and collection the store uses. */
  readonly names: { readonly database: string; readonly snapshots: string };
  /**
   * Connects and creates the indexes now instead of on first use; a failed setup is retried by
   * the next call.
   */
  connect(options?: SignalOptions): Promise<void>;
}

/**
 * Creates a snapshot store on MongoDB or a MongoDB-wire server (goes' `mongo.NewSnapshotStore`):
 * one document per snapshot, keyed by aggregate name, id and version, so saving the same version
 * again replaces it. Unlike goes, every method connects lazily (goes' `Limit`, `Query` and
 * `Delete` skipped it) and a failed first connection is retried; version `min`/`max` filters
 * work on lists (goes compared the field with the whole list). Queries answer exactly like
 * `matchesSnapshot()`, ordered by the query's keys then name, id and version.
 *
 * @throws {@link InvalidArgumentError} for invalid options.
 * @example
 * ```ts
 * import { createMongoSnapshotStore } from '@goes/mongodb';
 *
 * const snapshots = createMongoSnapshotStore({ url: 'mongodb://127.0.0.1:27017/', database: 'shop' });
 * const repository = createRepository({ store, snapshots: { store: snapshots, schedule: snapshotEvery(100) } });
 * ```
 */
export function createMongoSnapshotStore(options: MongoSnapshotStoreOptions): MongoSnapshotStore {
  return new MongoSnapshotStoreImpl(options);
}

/** A stored snapshot. `_id` is the JSON of [aggregate id, aggregate name, version]. */
interface SnapshotDocument {
  _id: string;
  aggregateName: string;
  aggregateId: string;
  version: number;
  /** Nanoseconds since the epoch (BSON int64). */
  time: bigint;
  /** The snapshot codec's text. */
  state: string;
  softDeleted: boolean;
}

const SNAPSHOT_INDEXES: IndexDescription[] = [
  { name: 'goes_snapshot_aggregate', key: { aggregateName: 1, aggregateId: 1, version: 1 } },
  { name: 'goes_snapshot_time', key: { time: 1 } },
];

const SORT_FIELDS: Record<AggregateSortOption['by'], keyof SnapshotDocument> = {
  name: 'aggregateName',
  id: 'aggregateId',
  version: 'version',
};

const keyOf = (name: string, id: string, version: number) => JSON.stringify([id, name, version]);

class MongoSnapshotStoreImpl implements MongoSnapshotStore {
  readonly names: MongoSnapshotStore['names'];
  readonly #options: ResolvedConnection;
  readonly #batchSize: number;
  readonly #connection: Connection<Collection<SnapshotDocument>>;

  constructor(options: MongoSnapshotStoreOptions) {
    this.#options = resolveConnection(options, 'createMongoSnapshotStore', 'snapshots');
    this.#batchSize = positiveInteger('batchSize', options.batchSize, 1_000);
    const { database, collection, connectAttempts, connectBackoffMs } = this.#options;
    this.names = { database, snapshots: collection };
    this.#connection = new Connection(
      options,
      {
        what: 'the MongoDB snapshot store',
        database,
        collection,
        attempts: connectAttempts,
        backoffMs: connectBackoffMs,
      },
      (db) => this.#setUp(db),
    );
  }

  get client(): MongoClient {
    return this.#connection.client;
  }

  async connect(options: SignalOptions = {}): Promise<void> {
    await this.#connection.ready(options.signal);
  }

  save(snapshot: Snapshot, options: SignalOptions = {}): Promise<void> {
    try {
      this.#connection.assertOpen();
      options.signal?.throwIfAborted();
      validateSnapshot(snapshot);
      if (!isStorableString(snapshot.aggregateName)) {
        throw new InvalidArgumentError(
          `snapshot of ${JSON.stringify(snapshot.aggregateName)}: the aggregate name contains a lone UTF-16 surrogate, which MongoDB cannot store`,
        );
      }
      if (snapshot.time < INT64_MIN || snapshot.time > INT64_MAX) {
        throw new InvalidArgumentError(
          `snapshot of ${snapshot.aggregateName}(${snapshot.aggregateId}): time ${snapshot.time}n does not fit the 64-bit integer MongoDB stores times in`,
        );
      }
      return this.#connection.track(this.#save(snapshot, options.signal));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async latest(name: string, id: string, options: SignalOptions = {}): Promise<Snapshot> {
    this.#begin(options);
    validateSnapshotKey(name, id);
    return this.#highest(name, id, undefined, 'latest', options.signal);
  }

  async version(
    name: string,
    id: string,
    version: number,
    options: SignalOptions = {},
  ): Promise<Snapshot> {
    this.#begin(options);
    validateSnapshotKey(name, id, version);
    const snapshots = await this.#connection.ready(options.signal);
    try {
      const doc = await abortable(
        snapshots.findOne({ _id: keyOf(name, id, version) }, { useBigInt64: true }),
        options.signal,
      );
      if (!doc) throw new SnapshotNotFoundError({ name, id }, `version ${version}`);
      return toSnapshot(doc);
    } catch (error) {
      throw toStoreError(error, `reading a snapshot of ${name}(${id})`);
    }
  }

  async limit(
    name: string,
    id: string,
    maxVersion: number,
    options: SignalOptions = {},
  ): Promise<Snapshot> {
    this.#begin(options);
    validateSnapshotKey(name, id, maxVersion);
    return this.#highest(name, id, maxVersion, `version <= ${maxVersion}`, options.signal);
  }

  query(q: SnapshotQuery, options: SignalOptions = {}): AsyncIterable<Snapshot> {
    this.#connection.assertOpen();
    validateAggregateQuery(q);
    const filter = snapshotFilter(q);
    const sort = snapshotSort(q.sort ?? []);
    const { signal } = options;
    const open = async () => {
      if (!filter) return undefined;
      const snapshots = await this.#connection.ready(signal);
      return snapshots.find(filter, { sort, batchSize: this.#batchSize, useBigInt64: true });
    };
    return {
      [Symbol.asyncIterator]: () =>
        new DocumentCursor(open, toSnapshot, signal, 'reading snapshots'),
    };
  }

  delete(keys: readonly SnapshotKey[], options: SignalOptions = {}): Promise<void> {
    try {
      this.#begin(options);
      if (!Array.isArray(keys)) {
        throw new InvalidArgumentError('delete expects an array of snapshot keys');
      }
      if (keys.length === 0) return Promise.resolve();
      const ids = keys.map((key) => keyOf(key.aggregateName, key.aggregateId, key.version));
      return this.#connection.track(
        (async () => {
          const snapshots = await this.#connection.ready(options.signal);
          try {
            await snapshots.deleteMany({ _id: { $in: ids } });
          } catch (error) {
            throw toStoreError(error, 'deleting snapshots');
          }
        })(),
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async close(): Promise<void> {
    await this.#connection.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #begin(options: SignalOptions): void {
    this.#connection.assertOpen();
    options.signal?.throwIfAborted();
  }

  async #save(snapshot: Snapshot, signal: AbortSignal | undefined): Promise<void> {
    const snapshots = await this.#connection.ready(signal);
    signal?.throwIfAborted();
    const doc: SnapshotDocument = {
      _id: keyOf(snapshot.aggregateName, snapshot.aggregateId, snapshot.version),
      aggregateName: snapshot.aggregateName,
      aggregateId: snapshot.aggregateId,
      version: snapshot.version,
      time: snapshot.time,
      state: snapshot.state,
      softDeleted: snapshot.softDeleted,
    };
    const replace = () => snapshots.replaceOne({ _id: doc._id }, doc, { upsert: true });
    try {
      try {
        await replace();
      } catch (error) {
        // Two first saves of one version upserting at once: the document exists now.
        if (!isDuplicateKey(error as { code?: unknown })) throw error;
        await replace();
      }
    } catch (error) {
      throw toStoreError(
        error,
        `saving a snapshot of ${snapshot.aggregateName}(${snapshot.aggregateId})`,
      );
    }
  }

  async #highest(
    name: string,
    id: string,
    maxVersion: number | undefined,
    what: string,
    signal: AbortSignal | undefined,
  ): Promise<Snapshot> {
    // No stored name has a lone surrogate (save refuses them), and the driver would send one as
    // U+FFFD, finding the snapshots of another name.
    if (!isStorableString(name)) throw new SnapshotNotFoundError({ name, id }, what);
    const snapshots = await this.#connection.ready(signal);
    try {
      const filter: Filter<SnapshotDocument> = { aggregateName: name, aggregateId: id };
      if (maxVersion !== undefined) filter.version = { $lte: maxVersion };
      const [doc] = await abortable(
        snapshots.find(filter, { sort: { version: -1 }, limit: 1, useBigInt64: true }).toArray(),
        signal,
      );
      if (!doc) throw new SnapshotNotFoundError({ name, id }, what);
      return toSnapshot(doc);
    } catch (error) {
      throw toStoreError(error, `reading a snapshot of ${name}(${id})`);
    }
  }

  async #setUp(db: Db): Promise<Collection<SnapshotDocument>> {
    const snapshots = db.collection<SnapshotDocument>(this.names.snapshots);
    if (this.#options.createIndexes) await createIndexes(snapshots, SNAPSHOT_INDEXES);
    return snapshots;
  }
}

function toSnapshot(doc: SnapshotDocument): Snapshot {
  return {
    aggregateName: doc.aggregateName,
    aggregateId: doc.aggregateId,
    version: doc.version,
    time: typeof doc.time === 'bigint' ? doc.time : BigInt(doc.time as unknown as number),
    state: doc.state,
    softDeleted: doc.softDeleted,
  };
}

/** The filter of a validated snapshot query, or `undefined` when it can match nothing. */
function snapshotFilter(q: SnapshotQuery): Filter<SnapshotDocument> | undefined {
  const clauses: Filter<SnapshotDocument>[] = [];
  if (q.names && q.names.length > 0) {
    const names = q.names.filter(isStorableString);
    if (names.length === 0) return undefined;
    clauses.push({ aggregateName: { $in: names } });
  }
  if (q.ids && q.ids.length > 0) clauses.push({ aggregateId: { $in: [...q.ids] } });
  if (q.versions)
    clauses.push(...(versionClauses(q.versions, 'version') as Filter<SnapshotDocument>[]));
  if (q.times) {
    const times = timeClauses(q.times, 'time');
    if (times === false) return undefined;
    clauses.push(...(times as Filter<SnapshotDocument>[]));
  }
  return clauses.length === 0 ? {} : { $and: clauses };
}

/** The query's sort keys, then name, id and version ascending (the contract's order). */
function snapshotSort(sort: readonly AggregateSortOption[]): Sort {
  const keys: [string, 1 | -1][] = [];
  const seen = new Set<string>();
  const add = (field: string, dir: 1 | -1) => {
    if (seen.has(field)) return;
    seen.add(field);
    keys.push([field, dir]);
  };
  for (const { by, dir } of sort) add(SORT_FIELDS[by], dir === 'desc' ? -1 : 1);
  add('aggregateName', 1);
  add('aggregateId', 1);
  add('version', 1);
  return keys;
}
