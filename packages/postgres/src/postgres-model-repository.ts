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
import { isStorableText } from './internal/batch.js';
import { Connections } from './internal/connections.js';
import { sqlState } from './internal/driver-errors.js';
import { checkIdentifier, quoteIdent } from './internal/identifiers.js';
import { type ModelTable, modelSchema, modelStatements } from './internal/model-sql.js';
import { tableNames } from './internal/names.js';
import { openPool } from './internal/pool.js';
import type { PostgresConnectionOptions } from './options.js';

/**
 * Options of {@link createPostgresModelRepository}.
 *
 * @example
 * ```ts
 * createPostgresModelRepository<OrderSummary>({
 *   pool,
 *   table: 'order_summaries',
 *   decode: (text) => OrderSummary.fromJSON(JSON.parse(text)),
 * });
 * ```
 */
export interface PostgresModelRepositoryOptions<M> extends PostgresConnectionOptions {
  /** The table of this model type (one table per type); created if missing. */
  readonly table: string;
  /** The id of a model. Default: its `id` property (a non-empty string). */
  readonly modelId?: ((model: M) => string) | undefined;
  /** Turns a model into JSON text (stored as `jsonb`). Default `JSON.stringify`. */
  readonly encode?: ((model: M) => string) | undefined;
  /**
   * Turns stored JSON text back into a model; give one to get class instances back.
   * Default `JSON.parse` (plain objects).
   */
  readonly decode?: ((json: string) => M) | undefined;
}

/** PostgreSQL's B-tree cannot index keys much longer than this; longer ids are refused. */
const MAX_ID_BYTES = 2_000;

/**
 * Creates a PostgreSQL read-model repository (goes' `model.Repository`) with optimistic
 * concurrency: each model is one row `(id, version, data jsonb)`, every conditional write is a
 * single statement that checks the version in its `WHERE` (or relies on the primary key for
 * "insert only"), so concurrent `use` calls in any number of processes never lose an update,
 * and a save costs one round trip.
 *
 * @throws {@link InvalidArgumentError} for bad options (a missing or unsafe table name).
 * @example
 * ```ts
 * interface Counter { id: string; count: number }
 * const counters = createPostgresModelRepository<Counter>({ pool, table: 'counters' });
 * await counters.use('orders', (c) => { c.count++; }, { create: (id) => ({ id, count: 0 }) });
 * ```
 */
export function createPostgresModelRepository<M>(
  options: PostgresModelRepositoryOptions<M>,
): ModelRepository<M> {
  return new PgModelRepository(options);
}

function defaultModelId(model: unknown): string {
  const id = (model as { id?: unknown } | null)?.id;
  if (typeof id !== 'string' || id.length === 0) {
    throw new InvalidArgumentError(
      `the model has no string "id" property (got ${JSON.stringify(id) ?? String(id)}); pass a modelId option`,
    );
  }
  return id;
}

/** Ids PostgreSQL cannot store as a primary key are refused (they could never be fetched). */
function checkStorableId(id: string): void {
  if (!isStorableText(id)) {
    throw new InvalidArgumentError(
      `model id ${JSON.stringify(id)} contains a NUL character or a lone surrogate, which PostgreSQL cannot store`,
    );
  }
  if (Buffer.byteLength(id) > MAX_ID_BYTES) {
    throw new InvalidArgumentError(
      `model id ${JSON.stringify(`${id.slice(0, 40)}…`)} is longer than ${MAX_ID_BYTES} bytes`,
    );
  }
}

class PgModelRepository<M> implements ModelRepository<M> {
  readonly #sql: ReturnType<typeof modelStatements>;
  readonly #connections: Connections;
  readonly #modelId: (model: M) => string;
  readonly #encode: (model: M) => string;
  readonly #decode: (json: string) => M;

  constructor(options: PostgresModelRepositoryOptions<M>) {
    const schema = checkIdentifier('schema', options?.schema ?? 'goes');
    const table = checkIdentifier('table', options?.table);
    const { pool, owned } = openPool(options);
    const t: ModelTable = { schema, table, relation: `${quoteIdent(schema)}.${quoteIdent(table)}` };
    this.#sql = modelStatements(t, `goes_${tableNames(schema, table).tag}_model`);
    this.#connections = new Connections(
      pool,
      owned,
      modelSchema(t),
      'model repository',
      options.cancelOnAbort ?? true,
    );
    this.#modelId = options.modelId ?? defaultModelId;
    this.#encode = options.encode ?? ((model) => JSON.stringify(model));
    this.#decode = options.decode ?? ((json) => JSON.parse(json) as M);
  }

  async fetch(id: string, options: SignalOptions = {}): Promise<M> {
    return (await this.fetchVersioned(id, options)).model;
  }

  async fetchVersioned(id: string, options: SignalOptions = {}): Promise<Versioned<M>> {
    this.#open(options);
    checkModelId(id);
    if (!isStorableText(id) || Buffer.byteLength(id) > MAX_ID_BYTES)
      throw new ModelNotFoundError(id);
    const rows = await this.#connections.read(
      'fetch a model',
      { ...this.#sql.fetch, values: [id] },
      options.signal,
    );
    const row = rows[0];
    if (!row) throw new ModelNotFoundError(id);
    return { model: this.#decode(row[1] as string), version: Number(row[0]) };
  }

  async save(model: M, options: SaveOptions = {}): Promise<number> {
    this.#open(options);
    checkExpectedVersion(options.expectedVersion);
    const id = this.#modelId(model);
    checkModelId(id);
    checkStorableId(id);
    const data = this.#encode(model);
    if (typeof data !== 'string') {
      throw new InvalidArgumentError(`model ${JSON.stringify(id)}: encode must return JSON text`);
    }
    const expected = options.expectedVersion;
    const statement =
      expected === undefined
        ? { ...this.#sql.upsert, values: [id, data] }
        : expected === 0
          ? { ...this.#sql.insert, values: [id, data] }
          : { ...this.#sql.update, values: [id, data, expected] };
    let rows: Awaited<ReturnType<Connections['run']>>;
    try {
      rows = await this.#connections.run('save a model', statement, options.signal);
    } catch (error) {
      const state = sqlState((error as { cause?: unknown }).cause);
      if (state === '22P02' || state === '22P05' || state === '22021') {
        throw new InvalidArgumentError(
          `model ${JSON.stringify(id)} cannot be stored as PostgreSQL jsonb (JSON without \\u0000 or lone surrogates): ${(error as Error).message}`,
        );
      }
      throw error;
    }
    const saved = rows[0];
    if (saved) return Number(saved[0]);
    throw new ModelConflictError(id, expected ?? 0, await this.#version(id));
  }

  async use(id: string, fn: UseFunction<M>, options: UseOptions<M> = {}): Promise<M> {
    this.#open(options);
    checkModelId(id);
    if (typeof fn !== 'function') throw new InvalidArgumentError('use: fn must be a function');
    return useModel(this, id, fn, options, (model) => this.#modelId(model));
  }

  async delete(id: string, options: DeleteOptions = {}): Promise<boolean> {
    this.#open(options);
    checkModelId(id);
    checkExpectedVersion(options.expectedVersion);
    const expected = options.expectedVersion;
    const storable = isStorableText(id) && Buffer.byteLength(id) <= MAX_ID_BYTES;
    if (expected === 0) {
      // "Delete only if not stored": nothing to delete, or a conflict.
      const actual = storable ? await this.#version(id, options.signal) : 0;
      if (actual !== 0) throw new ModelConflictError(id, 0, actual);
      return false;
    }
    if (!storable) {
      if (expected !== undefined) throw new ModelConflictError(id, expected, 0);
      return false;
    }
    const rows = await this.#connections.run(
      'delete a model',
      expected === undefined
        ? { ...this.#sql.delete, values: [id] }
        : { ...this.#sql.deleteVersion, values: [id, expected] },
      options.signal,
    );
    if (rows.length > 0) return true;
    if (expected === undefined) return false;
    throw new ModelConflictError(id, expected, await this.#version(id));
  }

  async close(): Promise<void> {
    await this.#connections.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #open(options: SignalOptions): void {
    this.#connections.assertOpen();
    options.signal?.throwIfAborted();
  }

  /** The stored version of a model (0 when none), for conflict reports. */
  async #version(id: string, signal?: AbortSignal): Promise<number> {
    const rows = await this.#connections.read(
      'read a model version',
      { ...this.#sql.version, values: [id] },
      signal,
    );
    return Number(rows[0]?.[0] ?? 0);
  }
}
