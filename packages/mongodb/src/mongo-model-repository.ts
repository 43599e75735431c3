import { InvalidArgumentError, type SignalOptions } from '@goes/event';
import {
  checkExpectedVersion,
  checkModelId,
  type DeleteOptions,
  ModelConflictError,
  ModelNotFoundError,
  type ModelRepository,
  type SaveOptions,
  type UseFunction,
  type UseOptions,
  useModel,
  type Versioned,
} from '@goes/projection';
import { abortable, sleep } from '@goes/streams';
import type { Collection, Db, MongoClient } from 'mongodb';
import { MongoStoreError } from './errors.js';
import { Connection } from './internal/connection.js';
import { formatPosition, isStorableString } from './internal/documents.js';
import { isDuplicateKey, toStoreError } from './internal/driver-errors.js';
import {
  type MongoConnectionOptions,
  type ResolvedConnection,
  resolveConnection,
} from './options.js';

/**
 * Options of {@link createMongoModelRepository}. Give either `client` or `url`.
 *
 * @example
 * ```ts
 * const options: MongoModelRepositoryOptions<OrderSummary> = {
 *   client,
 *   collection: 'order_summaries',
 *   modelId: (summary) => summary.orderId,
 *   decode: (text) => OrderSummary.fromJSON(JSON.parse(text)),
 * };
 * ```
 */
export interface MongoModelRepositoryOptions<M> extends MongoConnectionOptions {
  /** Name of the models collection. Default `models`. */
  readonly collection?: string | undefined;
  /** The id of a model. Default: its `id` property. */
  readonly modelId?: ((model: M) => string) | undefined;
  /** Turns a model into the text stored. Default `JSON.stringify`. */
  readonly encode?: ((model: M) => string) | undefined;
  /** Rebuilds a model from its text (e.g. restoring a class). Default `JSON.parse`. */
  readonly decode?: ((text: string) => M) | undefined;
}

/**
 * The MongoDB read-model repository: a `ModelRepository` plus the client it uses and `connect()`.
 *
 * @example
 * ```ts
 * const summaries: MongoModelRepository<OrderSummary> = createMongoModelRepository({ client });
 * await summaries.use(orderId, (s) => { s.total += 10; }, { create: (id) => ({ id, total: 0 }) });
 * ```
 */
export interface MongoModelRepository<M> extends ModelRepository<M> {
  /** The client: the one given, or the one made from `url` (closed by `close()`). */
  readonly client: MongoClient;
  /** The database and collection the repository uses. */
  readonly names: { readonly database: string; readonly models: string };
  /** Connects now instead of on first use; a failed setup is retried by the next call. */
  connect(options?: SignalOptions): Promise<void>;
}

/**
 * Creates a read-model repository on MongoDB or a MongoDB-wire server (goes'
 * `mongo.NewModelRepository`), with the optimistic concurrency goes lacked: every save and
 * delete names the version it replaces, and a stale one fails with `ModelConflictError`, so
 * concurrent `use` calls in many processes never lose an update. It needs no transactions and no
 * atomic updates (FerretDB has none): each version of a model is a document whose `_id` is
 * (model id, generation, version), so the unique `_id` index lets exactly one writer create each
 * version. The data of replaced versions is dropped, but their small documents stay, so that no
 * writer holding an old version can ever save after them.
 *
 * Models are stored as text (JSON by default), so any keys — `$`-prefixed, dotted — are safe.
 *
 * @throws {@link InvalidArgumentError} for invalid options.
 * @example
 * ```ts
 * import { createMongoModelRepository } from '@goes/mongodb';
 *
 * interface Counter { id: string; count: number }
 * const counters = createMongoModelRepository<Counter>({ url: 'mongodb://127.0.0.1:27017/' });
 * await counters.use('orders', (c) => { c.count++; }, { create: (id) => ({ id, count: 0 }) });
 * ```
 */
export function createMongoModelRepository<M>(
  options: MongoModelRepositoryOptions<M>,
): MongoModelRepository<M> {
  return new MongoModelRepositoryImpl(options);
}

/**
 * One version of a model. `_id` is the JSON of [model id, generation, version] with the numbers
 * as 16-digit strings, so the versions of one model are one `_id` range in order. A delete is a
 * version too (`deleted`); the model then starts again at version 1 in the next generation.
 * Versions that were replaced keep their document, without the data (`superseded`).
 */
interface ModelDocument {
  _id: string;
  modelId: string;
  generation: number;
  version: number;
  model?: string;
  deleted?: true;
  superseded?: true;
}

/** Attempts of an unconditional save or delete before it gives up (only contention loops). */
const MAX_ATTEMPTS = 100;

const keyOf = (id: string, generation: number, version: number) =>
  JSON.stringify([id, formatPosition(generation), formatPosition(version)]);

/** The `_id` range holding every version of model `id`. */
function rangeOf(id: string): { $gt: string; $lt: string } {
  // '["<id>",' begins every key of the id and no other: the id's JSON string ends at its quote.
  const prefix = `${JSON.stringify([id]).slice(0, -1)},`;
  return { $gt: prefix, $lt: `${prefix}\uffff` };
}

class MongoModelRepositoryImpl<M> implements MongoModelRepository<M> {
  readonly names: MongoModelRepository<M>['names'];
  readonly #options: ResolvedConnection;
  readonly #connection: Connection<Collection<ModelDocument>>;
  readonly #modelId: (model: M) => string;
  readonly #encode: (model: M) => string;
  readonly #decode: (text: string) => M;

  constructor(options: MongoModelRepositoryOptions<M>) {
    this.#options = resolveConnection(options, 'createMongoModelRepository', 'models');
    this.#modelId = options.modelId ?? ((model) => (model as { id?: unknown }).id as string);
    this.#encode = options.encode ?? ((model) => JSON.stringify(model));
    this.#decode = options.decode ?? ((text) => JSON.parse(text) as M);
    const { database, collection, connectAttempts, connectBackoffMs } = this.#options;
    this.names = { database, models: collection };
    this.#connection = new Connection(
      options,
      {
        what: 'the MongoDB model repository',
        database,
        collection,
        attempts: connectAttempts,
        backoffMs: connectBackoffMs,
      },
      async (db: Db) => db.collection<ModelDocument>(collection),
    );
  }

  get client(): MongoClient {
    return this.#connection.client;
  }

  async connect(options: SignalOptions = {}): Promise<void> {
    await this.#connection.ready(options.signal);
  }

  async fetch(id: string, options: SignalOptions = {}): Promise<M> {
    return (await this.fetchVersioned(id, options)).model;
  }

  async fetchVersioned(id: string, options: SignalOptions = {}): Promise<Versioned<M>> {
    this.#begin(id, options);
    const models = await this.#connection.ready(options.signal);
    let latest: ModelDocument | undefined;
    try {
      latest = await abortable(this.#latest(models, id), options.signal);
    } catch (error) {
      throw toStoreError(error, `reading model ${JSON.stringify(id)}`);
    }
    if (!latest || latest.deleted || latest.model === undefined) throw new ModelNotFoundError(id);
    return { model: this.#decode(latest.model), version: latest.version };
  }

  save(model: M, options: SaveOptions = {}): Promise<number> {
    try {
      const id = this.#modelId(model);
      this.#begin(id, options);
      checkExpectedVersion(options.expectedVersion);
      const text = this.#encode(model);
      if (typeof text !== 'string') {
        throw new InvalidArgumentError(
          `model ${JSON.stringify(id)}: encode must return a string, got ${typeof text}`,
        );
      }
      return this.#connection.track(
        this.#write(id, { model: text }, options.expectedVersion, options.signal).then(
          (written) => written.version,
        ),
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  use(id: string, fn: UseFunction<M>, options: UseOptions<M> = {}): Promise<M> {
    try {
      this.#begin(id, options);
      return useModel(this, id, fn, options, (model) => this.#modelId(model));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  delete(id: string, options: DeleteOptions = {}): Promise<boolean> {
    try {
      this.#begin(id, options);
      checkExpectedVersion(options.expectedVersion);
      return this.#connection.track(
        this.#write(id, { deleted: true }, options.expectedVersion, options.signal).then(
          (written) => written.changed,
        ),
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

  #begin(id: string, options: SignalOptions): void {
    this.#connection.assertOpen();
    options.signal?.throwIfAborted();
    checkModelId(id);
    if (!isStorableString(id)) {
      throw new InvalidArgumentError(
        `model id ${JSON.stringify(id)} contains a lone UTF-16 surrogate, which MongoDB cannot store`,
      );
    }
  }

  /**
   * Writes the next version of a model: its data, or a delete. The version's key is unique, so
   * of two writers that read the same version only one succeeds; the other gets a
   * `ModelConflictError` (with `expectedVersion`) or tries again (without). A delete of a
   * model that is not stored changes nothing.
   */
  async #write(
    id: string,
    content: { readonly model: string } | { readonly deleted: true },
    expected: number | undefined,
    signal: AbortSignal | undefined,
  ): Promise<{ version: number; changed: boolean }> {
    const models = await this.#connection.ready(signal);
    try {
      for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
        signal?.throwIfAborted();
        const latest = await this.#latest(models, id);
        const live = latest !== undefined && !latest.deleted;
        const current = live ? latest.version : 0;
        if (expected !== undefined && expected !== current) {
          throw new ModelConflictError(id, expected, current);
        }
        if ('deleted' in content && !live) return { version: 0, changed: false };
        // After a delete the model starts again at 1, in the next generation (keys stay unique).
        const generation = latest ? (live ? latest.generation : latest.generation + 1) : 0;
        const version = current + 1;
        const doc: ModelDocument = {
          _id: keyOf(id, generation, version),
          modelId: id,
          generation,
          version,
          ...content,
        };
        try {
          await models.insertOne(doc);
        } catch (error) {
          if (!isDuplicateKey(error as { code?: unknown })) throw error;
          if (expected !== undefined) {
            const now = await this.#latest(models, id);
            throw new ModelConflictError(id, expected, now && !now.deleted ? now.version : 0);
          }
          if (attempt > 3) await sleep(Math.random() * Math.min(50, 2 ** attempt), { signal });
          continue;
        }
        if (latest) {
          // The replaced version keeps its key (so no stale writer can save after it) and
          // drops its data. This is only clean-up: the write is done once the insert succeeded,
          // so a failure here must not report it failed (a caller would apply its change
          // again); the old version then just keeps its data.
          await models
            .replaceOne(
              { _id: latest._id },
              {
                modelId: id,
                generation: latest.generation,
                version: latest.version,
                superseded: true,
              },
            )
            .catch(() => undefined);
        }
        return { version, changed: true };
      }
    } catch (error) {
      throw toStoreError(error, `writing model ${JSON.stringify(id)}`);
    }
    throw new MongoStoreError(
      `MongoDB model repository: no write of model ${JSON.stringify(id)} succeeded after ${MAX_ATTEMPTS} attempts`,
    );
  }

  /**
   * The latest version document of a model. A version found already superseded was replaced
   * while the query ran: the query is asked again.
   */
  async #latest(models: Collection<ModelDocument>, id: string): Promise<ModelDocument | undefined> {
    for (let round = 0; round < MAX_ATTEMPTS; round++) {
      const [latest] = await models
        .find({ _id: rangeOf(id) }, { sort: { _id: -1 }, limit: 1 })
        .toArray();
      if (!latest?.superseded) return latest;
    }
    throw new MongoStoreError(
      `MongoDB model repository: the latest version of model ${JSON.stringify(id)} is marked replaced, but nothing replaces it`,
    );
  }
}
