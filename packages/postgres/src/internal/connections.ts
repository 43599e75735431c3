import { ClosedError } from '@goes/event';
import type pg from 'pg';
import { cancelStatement } from './cancel.js';
import { fromDriverError, isConnectionFailure } from './driver-errors.js';
import { quoteIdent } from './identifiers.js';
import { RAW_TYPES, type TextRow } from './rows.js';
import { ensureSchema, type SchemaSpec } from './schema.js';

/** A statement: its text, parameters and, for prepared statements, a name. */
export interface Statement {
  readonly name?: string | undefined;
  readonly text: string;
  readonly values: unknown[];
}

/**
 * Listens to 'error' of a checked-out client. pg-pool listens only while a client is idle; a
 * connection that dies while we hold the client would otherwise emit an unhandled 'error' and
 * crash the process. Nothing is lost: the statement in flight fails with the same error.
 */
function whileCheckedOut(): void {}

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

/** Waits for `promise`, or rejects with the abort reason first. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * The store's access to PostgreSQL: the pool, the one-time setup (schema creation) that every
 * first use waits for, and running statements with driver errors mapped to goes errors.
 *
 * Setup fixes goes' `sync.Once` bug: a failed attempt is forgotten, so the next call tries
 * again, and no caller ever proceeds on a half-set-up store.
 */
export class Connections {
  readonly pool: pg.Pool;
  readonly #ownsPool: boolean;
  readonly #schema: SchemaSpec;
  /** `"schema"."table"`, for messages. */
  readonly #relation: string;
  readonly #what: string;
  #initialized = false;
  #initializing: Promise<void> | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;

  /** Whether an aborted read is cancelled in the server (the `cancelOnAbort` option). */
  readonly #cancelOnAbort: boolean;

  /** `what`: the kind of store, for messages (e.g. "event store"). */
  constructor(
    pool: pg.Pool,
    ownsPool: boolean,
    schema: SchemaSpec,
    what: string,
    cancelOnAbort = true,
  ) {
    this.pool = pool;
    this.#cancelOnAbort = cancelOnAbort;
    this.#ownsPool = ownsPool;
    this.#schema = schema;
    this.#relation = `${quoteIdent(schema.schema)}.${quoteIdent(schema.table)}`;
    this.#what = what;
  }

  /** Throws {@link ClosedError} once the store is closed. */
  assertOpen(): void {
    if (this.#closed) throw new ClosedError(`the PostgreSQL ${this.#what} ${this.#relation}`);
  }

  /** Resolves once the schema is set up (setting it up if nobody has yet). */
  ready(signal: AbortSignal | undefined): Promise<void> {
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
    return abortable(this.#initializing, signal);
  }

  /** A pooled connection of a set-up store; give it back with {@link release}. */
  async acquire(signal: AbortSignal | undefined): Promise<pg.PoolClient> {
    this.assertOpen();
    if (!this.#initialized) await this.ready(signal);
    let client: pg.PoolClient;
    try {
      client = await connect(this.pool, signal);
    } catch (error) {
      if (signal?.aborted && error === signal.reason) throw error;
      throw fromDriverError(error, 'connect to PostgreSQL');
    }
    client.on('error', whileCheckedOut);
    return client;
  }

  /** Gives a connection back to the pool, or destroys it when it may be broken. */
  release(client: pg.PoolClient, destroy?: boolean): void {
    client.removeListener('error', whileCheckedOut);
    client.release(destroy === true ? true : undefined);
  }

  /**
   * Runs one statement on a pooled connection; the rows come as arrays of text. Once the
   * statement is sent, an abort is not reported: it completes or fails (use {@link read} for
   * reads that may be cancelled).
   */
  async run(
    doing: string,
    statement: Statement,
    signal: AbortSignal | undefined,
  ): Promise<TextRow[]> {
    const client = await this.acquire(signal);
    try {
      const result = await client.query<TextRow>({
        ...statement,
        rowMode: 'array' as const,
        types: RAW_TYPES,
      });
      this.release(client);
      return result.rows;
    } catch (error) {
      this.release(client, isConnectionFailure(error));
      throw fromDriverError(error, doing);
    }
  }

  /**
   * Runs one read-only statement; an abort while it runs rejects at once with the abort reason
   * and cancels the statement on the server (unless `cancelOnAbort` is off; the connection is
   * then destroyed when the statement ends: the cancel could otherwise hit its next statement). Writes use {@link run}, which never
   * reports an abort for a statement that may have committed.
   */
  async read(
    doing: string,
    statement: Statement,
    signal: AbortSignal | undefined,
  ): Promise<TextRow[]> {
    if (!signal) return this.run(doing, statement, signal);
    const client = await this.acquire(signal);
    if (signal.aborted) {
      this.release(client);
      throw signal.reason;
    }
    const running = client.query<TextRow>({
      ...statement,
      rowMode: 'array' as const,
      types: RAW_TYPES,
    });
    return new Promise<TextRow[]>((resolve, reject) => {
      let cancelled = false;
      const onAbort = () => {
        cancelled = this.cancel(client);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      running.then(
        (result) => {
          signal.removeEventListener('abort', onAbort);
          this.release(client, cancelled);
          resolve(result.rows);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          this.release(client, cancelled || isConnectionFailure(error));
          reject(fromDriverError(error, doing));
        },
      );
    });
  }

  /**
   * Cancels the statement running on `client` in the background (best effort; see
   * {@link cancelStatement}). Returns whether a cancel was sent: the connection must then be
   * destroyed, not reused. Without `cancelOnAbort` it sends none and the statement runs to its
   * end, after which the connection is as good as any.
   */
  cancel(client: pg.PoolClient): boolean {
    if (!this.#cancelOnAbort) return false;
    void cancelStatement(this.pool, client);
    return true;
  }

  /** Refuses further work and ends the pool if the store opened it (once; later calls wait for it). */
  close(): Promise<void> {
    if (!this.#closing) {
      this.#closed = true;
      this.#closing = this.#ownsPool ? this.pool.end() : Promise.resolve();
    }
    return this.#closing;
  }

  async #setup(): Promise<void> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw fromDriverError(error, `connect to PostgreSQL for ${this.#relation}`);
    }
    client.on('error', whileCheckedOut);
    try {
      await ensureSchema(client, this.#schema);
      this.release(client);
    } catch (error) {
      this.release(client, isConnectionFailure(error));
      throw fromDriverError(error, `set up ${this.#relation}`);
    }
  }
}
