import { type Codec, createRegistry } from '@goes/codec';
import {
  type AggregateRef,
  DuplicateEventError,
  type Event,
  EventNotFoundError,
  type EventQuery,
  type EventStore,
  InvalidArgumentError,
  InvalidEventError,
  isUuid,
  type SignalOptions,
  VersionConflictError,
  validateQuery,
} from '@goes/event';
import { abortable, sleep } from '@goes/streams';
import type { Collection, Db, MongoClient } from 'mongodb';
import { MongoStoreError } from './errors.js';
import { type AggregateAppend, planBatch } from './internal/batch.js';
import { Connection } from './internal/connection.js';
import { DocumentCursor } from './internal/cursor.js';
import {
  EVENT_PROJECTION,
  type EventDocument,
  fromDocument,
  streamKey,
  toDocument,
} from './internal/documents.js';
import { toStoreError } from './internal/driver-errors.js';
import { EventLog } from './internal/event-log.js';
import { createIndexes, EVENT_INDEXES } from './internal/indexes.js';
import { Meta, type MetaDocument } from './internal/meta.js';
import { translateQuery, withVisibility } from './internal/translate-query.js';
import { Versions } from './internal/versions.js';
import { type MongoEventStoreOptions, type ResolvedOptions, resolveOptions } from './options.js';

/**
 * The MongoDB event store: an {@link EventStore} plus the client it uses, the names of its
 * collections, and `connect()` to set up eagerly.
 *
 * @example
 * ```ts
 * const store: MongoEventStore = createMongoEventStore({ url: 'mongodb://127.0.0.1:27017/' });
 * await store.connect(); // optional: otherwise the first operation connects
 * console.log(store.names.events); // 'events'
 * ```
 */
export interface MongoEventStore extends EventStore {
  /** The client: the one given, or the one made from `url` (closed by {@link close}). */
  readonly client: MongoClient;
  /** The database and collections the store uses. */
  readonly names: {
    readonly database: string;
    readonly events: string;
    readonly meta: string;
  };
  /**
   * Connects and creates the indexes now instead of on first use. A failed setup is retried
   * by the next call (and by the next operation).
   *
   * @throws {@link ConnectionError} when the server cannot be reached or set up.
   */
  connect(options?: SignalOptions): Promise<void>;
}

/**
 * Creates an event store on MongoDB (≥ 5.0, standalone or replica set; not a sharded
 * collection, whose unique indexes would have to start with the shard key) or a MongoDB-wire
 * server such as FerretDB. One document per event; no transactions are needed:
 *
 * - an append must follow the aggregate's stored version ({@link VersionConflictError}
 *   otherwise), also with concurrent writers in many processes: a unique index on the version
 *   slot decides, and an append reads nothing when the aggregate is new or this store wrote
 *   its previous version;
 * - a batch is stored completely or not at all, and readers never see part of a batch;
 * - every event gets a global position that only grows; a reader following positions never
 *   misses an event that becomes visible later with a lower position;
 * - queries are translated to MongoDB filters with exactly the semantics of `matches()`, and
 *   stream from a cursor that `break` and `AbortSignal` close.
 *
 * It connects lazily and retries a failed first connection on the next call (goes' bug 7),
 * creates its indexes idempotently, and lets a deleted aggregate be created again (goes' bug 5).
 *
 * @throws {@link InvalidArgumentError} for invalid options (checked at once; connecting is lazy).
 * @example
 * ```ts
 * import { createMongoEventStore } from '@goes/mongodb';
 *
 * const store = createMongoEventStore({ url: process.env.MONGODB_URL, database: 'shop', codec: events });
 * await store.insert([createEvent('order.placed', { total: 10 }, { aggregate: { name: 'order', id, version: 1 } })]);
 * for await (const event of store.query(query().aggregate('order', id))) console.log(event.position);
 * await store.close();
 * ```
 */
export function createMongoEventStore(options: MongoEventStoreOptions): MongoEventStore {
  return new MongoEventStoreImpl(options);
}

/** What setting up gives: the collections and the protocol objects on them. */
interface Parts {
  readonly events: Collection<EventDocument>;
  readonly log: EventLog;
  readonly versions: Versions;
}

/** What `find` reads: the event and its batch fields (to know whether the batch is complete). */
const FIND_PROJECTION = { slot: 0, settled: 0 } as const;

/** The stored copy of an inserted event, with its position. */
function stored(event: Event, position: number): Event {
  const copy: { -readonly [K in keyof Event]: Event[K] } = {
    id: event.id,
    name: event.name,
    time: event.time,
    data: event.data,
    position,
  };
  if (event.aggregate) copy.aggregate = { ...event.aggregate };
  return copy;
}

/** Insert attempts before an insert gives up (only contention or repeated interference loops). */
const MAX_ATTEMPTS = 1_000;

/** FerretDB inserts in chunks of 100 and does not stop after a failed chunk; see EventLog. */
const FERRETDB_CHUNK = 100;
const MONGODB_CHUNK = 100_000;

class MongoEventStoreImpl implements MongoEventStore {
  readonly names: MongoEventStore['names'];
  readonly #options: ResolvedOptions;
  readonly #codec: Codec;
  readonly #connection: Connection<Parts>;

  constructor(options: MongoEventStoreOptions) {
    this.#options = resolveOptions(options);
    this.#codec = options.codec ?? createRegistry();
    const { database, collection, connectAttempts, connectBackoffMs } = this.#options;
    this.names = { database, events: collection, meta: `${collection}_meta` };
    this.#connection = new Connection(
      options,
      {
        what: 'the MongoDB event store',
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

  insert(events: readonly Event[], options: SignalOptions = {}): Promise<readonly Event[]> {
    try {
      this.#connection.assertOpen();
      options.signal?.throwIfAborted();
      const appends = planBatch(events);
      if (events.length === 0) return Promise.resolve([]);
      // Encoding fails before anything is written.
      const data = events.map((event) => this.#codec.encode(event.name, event.data));
      return this.#connection.track(this.#insert(events, data, appends, options.signal));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async find(id: string, options: SignalOptions = {}): Promise<Event> {
    this.#connection.assertOpen();
    options.signal?.throwIfAborted();
    if (!isUuid(id)) throw new EventNotFoundError(String(id));
    const { events, log } = await this.#connection.ready(options.signal);
    try {
      const doc = await abortable(
        events.findOne({ id }, { projection: FIND_PROJECTION, useBigInt64: true }),
        options.signal,
      );
      // An event counts once its batch is complete: complete batches are never rolled back.
      if (!doc || doc.deleted || !(await abortable(log.isComplete(doc), options.signal))) {
        throw new EventNotFoundError(id);
      }
      return fromDocument(doc, this.#codec);
    } catch (error) {
      throw toStoreError(error, `finding event ${id}`);
    }
  }

  query(q: EventQuery, options: SignalOptions = {}): AsyncIterable<Event> {
    this.#connection.assertOpen();
    validateQuery(q);
    const translated = translateQuery(q);
    const { signal } = options;
    const open = async () => {
      if (!translated) return undefined;
      const { events, log } = await this.#connection.ready(signal);
      const filter = withVisibility(translated, await log.horizon());
      if (!filter) return undefined;
      return events.find(filter, {
        sort: translated.sort,
        batchSize: this.#options.batchSize,
        projection: EVENT_PROJECTION,
        useBigInt64: true,
      });
    };
    const decode = (doc: EventDocument) => fromDocument(doc, this.#codec);
    return {
      [Symbol.asyncIterator]: () => new DocumentCursor(open, decode, signal, 'reading events'),
    };
  }

  delete(events: readonly { readonly id: string }[], options: SignalOptions = {}): Promise<void> {
    try {
      this.#connection.assertOpen();
      options.signal?.throwIfAborted();
      if (!Array.isArray(events)) {
        throw new InvalidArgumentError('delete expects an array of events (or { id } objects)');
      }
      const ids = [...new Set(events.map((event) => event?.id))].filter(isUuid);
      if (ids.length === 0) return Promise.resolve();
      return this.#connection.track(this.#delete(ids, options.signal));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async close(): Promise<void> {
    // Writes in flight finish their protocol first, so nothing is left for others to settle.
    await this.#connection.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #insert(
    events: readonly Event[],
    data: readonly string[],
    appends: readonly AggregateAppend[],
    signal: AbortSignal | undefined,
  ): Promise<readonly Event[]> {
    const { log, versions, events: collection } = await this.#connection.ready(signal);
    const count = events.length;
    const byAggregate = new Map(appends.map((append) => [append.key, append]));
    const appendOf = events.map((event) =>
      event.aggregate ? byAggregate.get(streamKey(event.aggregate)) : undefined,
    );
    const build = (start: number, settled: boolean) =>
      events.map((event, i) => {
        const doc = toDocument(
          event,
          data[i] as string,
          start + i,
          start,
          start + count - 1,
          appendOf[i]?.incarnation ?? 0,
        );
        if (settled && i === count - 1) doc.settled = true;
        return doc;
      });
    try {
      await versions.prepare(appends);
      for (let attempt = 1; ; attempt++) {
        signal?.throwIfAborted();
        const outcome = await log.insert(count, build);
        if (outcome.ok) {
          versions.record(appends);
          return events.map((event, i) => stored(event, outcome.start + i));
        }
        if (attempt >= MAX_ATTEMPTS) {
          throw new MongoStoreError(
            `MongoDB event store: no insert succeeded after ${MAX_ATTEMPTS} attempts (last: ${outcome.failure.message})`,
          );
        }
        const event = events[outcome.index] as Event;
        if (outcome.kind === 'rejected') {
          throw new InvalidEventError(
            `event ${event.id}: the server refused it: ${outcome.failure.message}`,
            outcome.index,
          );
        }
        if (outcome.kind === 'key') {
          await this.#explainDuplicate(collection, log, versions, event, appendOf[outcome.index]);
        } else if (attempt > 3) {
          // Writers keep taking the same positions: spread them out.
          await sleep(Math.random() * Math.min(100, 2 ** attempt), { signal });
        }
      }
    } catch (error) {
      throw toStoreError(error, 'inserting events');
    }
  }

  /**
   * Explains why an event hit a unique index: a stored event with its id, or a version that
   * does not follow the stored one. Returns when the insert may be tried again: the cause was a
   * batch that is gone now (or a half-written one that sealing removed), or a guess of the
   * aggregate's incarnation that the events corrected.
   */
  async #explainDuplicate(
    events: Collection<EventDocument>,
    log: EventLog,
    versions: Versions,
    event: Event,
    append: AggregateAppend | undefined,
  ): Promise<void> {
    const holder = await events.findOne(
      { id: event.id },
      { projection: { _id: 1, batchStart: 1, batchEnd: 1 } },
    );
    if (holder) {
      if (await log.isComplete(holder)) throw new DuplicateEventError(event.id);
      // A batch still being written, or left half-written: sealing settles it either way.
      await log.seal();
      return;
    }
    if (append && (event.aggregate?.version ?? 0) > 0) await versions.resolve(append);
  }

  async #delete(ids: readonly string[], signal: AbortSignal | undefined): Promise<void> {
    const { events, log, versions } = await this.#connection.ready(signal);
    try {
      const docs = await abortable(
        events
          .find(
            { id: { $in: [...ids] } },
            {
              projection: {
                _id: 1,
                aggregateName: 1,
                aggregateId: 1,
                aggregateVersion: 1,
                slot: 1,
                batchStart: 1,
                batchEnd: 1,
                settled: 1,
              },
            },
          )
          .toArray(),
        signal,
      );
      // Only stored events can be deleted: the others belong to inserts still running.
      const complete: EventDocument[] = [];
      for (const doc of docs) if (await log.isComplete(doc)) complete.push(doc);
      signal?.throwIfAborted();
      if (complete.length === 0) return;
      const deletedVersions = new Map<string, { ref: AggregateRef; versions: Set<number> }>();
      for (const doc of complete) {
        if (!doc.aggregateName || (doc.aggregateVersion ?? 0) === 0) continue;
        const ref = { name: doc.aggregateName, id: doc.aggregateId as string };
        const entry = deletedVersions.get(streamKey(ref)) ?? { ref, versions: new Set() };
        entry.versions.add(doc.aggregateVersion as number);
        deletedVersions.set(streamKey(ref), entry);
      }
      const before = await Promise.all(
        [...deletedVersions.values()].map(async (entry) => ({
          ...entry,
          last: await versions.stored(entry.ref),
        })),
      );
      // When an aggregate's last version goes, the slot after it is taken first: were the
      // versions replaced first, a writer that still believes in the last version could append
      // after it in between. Should the delete stop after this step, the versions are still
      // there and the next append goes into a new incarnation (Versions.resolve); deleting
      // again completes the delete. A deleted aggregate is created again in a new incarnation
      // too (goes' bug 5).
      for (const { ref, versions: deleted, last } of before) {
        versions.forget(ref);
        if (last.version > 0 && deleted.has(last.version)) await versions.poison(ref, last);
      }
      // Then the events become tombstones; deleted versions keep their slots, so no writer can
      // append after them either.
      await log.tombstone(complete, true);
    } catch (error) {
      throw toStoreError(error, 'deleting events');
    }
  }

  async #setUp(db: Db): Promise<Parts> {
    const info = await db.command({ buildInfo: 1 });
    const events = db.collection<EventDocument>(this.names.events);
    if (this.#options.createIndexes) await createIndexes(events, EVENT_INDEXES);
    const chunkSize = typeof info.ferretdbVersion === 'string' ? FERRETDB_CHUNK : MONGODB_CHUNK;
    const log = new EventLog(
      events,
      new Meta(db.collection<MetaDocument>(this.names.meta)),
      chunkSize,
    );
    return { events, log, versions: new Versions(events, log) };
  }
}
