import type { Codec } from '@goes/codec';
import type { Pool } from 'pg';

/**
 * How a PostgreSQL store of goes connects: either `pool` (your `pg.Pool`, which the store uses
 * but never ends) or `connectionString` (the store opens and closes its own pool), and the schema
 * its tables live in.
 *
 * @example
 * ```ts
 * const connection: PostgresConnectionOptions = { connectionString: process.env.DATABASE_URL, schema: 'shop' };
 * ```
 */
export interface PostgresConnectionOptions {
  /** A pool to use. The store never ends it; `close()` leaves it open. */
  readonly pool?: Pool | undefined;
  /** A connection string for a pool the store opens (lazily) and ends on `close()`. */
  readonly connectionString?: string | undefined;
  /** Size of the store's own pool (with `connectionString`). Default 10. */
  readonly poolSize?: number | undefined;
  /**
   * How long the store's own pool waits for a connection (connecting, or for a free one) before
   * it fails with a retryable {@link ConnectionError}, in milliseconds. Default 10,000. With
   * `pool`, your pool's `connectionTimeoutMillis` applies.
   */
  readonly connectTimeoutMs?: number | undefined;
  /** The schema of the store's tables; created if missing. Default `goes`. */
  readonly schema?: string | undefined;
  /**
   * Cancel a read statement in PostgreSQL when its signal aborts (`pg_cancel_backend` from a
   * connection of its own). Turn it off behind a connection pooler such as PgBouncer, where the
   * backend pid the client sees is not the server's: the aborted read is then still rejected at
   * once, and its statement runs to its end in the background. Default true.
   */
  readonly cancelOnAbort?: boolean | undefined;
  /**
   * Non-fatal errors of background work (idle pool connections dropping, the LISTEN connection
   * of feeds failing and being reconnected). Default: ignored.
   */
  readonly onError?: ((error: unknown) => void) | undefined;
}

/**
 * Options of {@link createPostgresEventStore}.
 *
 * @example
 * ```ts
 * const store = createPostgresEventStore({
 *   connectionString: process.env.DATABASE_URL,
 *   codec: events,
 *   schema: 'shop',
 *   table: 'events',
 * });
 * ```
 */
export interface PostgresEventStoreOptions extends PostgresConnectionOptions {
  /**
   * Encodes and decodes event data. It must produce JSON text: data is stored as `jsonb`.
   * Default: a plain JSON registry.
   */
  readonly codec?: Codec | undefined;
  /**
   * The events table; created if missing, with `<table>_position` (the position counter) beside
   * it. Lowercase letters, digits and underscores, at most 49 characters. Default `events`.
   */
  readonly table?: string | undefined;
  /**
   * Send a `NOTIFY` with every append, so feeds in other processes wake at once (otherwise they
   * find new events when they poll). Costs a little per append. Default true.
   */
  readonly notify?: boolean | undefined;
  /** Rows fetched per round trip by `query` (the cursor batch). Default 1,000. */
  readonly queryBatchSize?: number | undefined;
}
