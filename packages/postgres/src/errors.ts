import { GoesError, isGoesError } from '@goes/event';

/**
 * PostgreSQL answered with an error the store does not map to a more specific goes error.
 * `sqlState` is PostgreSQL's five-character error code (e.g. `42501` for a missing privilege),
 * and the driver's error is the `cause`.
 *
 * @example
 * ```ts
 * try { await store.insert(events); } catch (e) {
 *   if (isPostgresStoreError(e) && e.sqlState === '42501') console.error('grant INSERT on the events table');
 * }
 * ```
 */
export class PostgresStoreError extends GoesError {
  readonly sqlState: string | undefined;

  constructor(message: string, sqlState: string | undefined, options?: { cause?: unknown }) {
    super('POSTGRES_ERROR', message, options);
    this.sqlState = sqlState;
  }
}

/**
 * The events table (or its position counter) exists but does not have the layout the store
 * needs: a column is missing or has another type. The store never alters an existing table;
 * the message lists what differs.
 *
 * @example
 * ```ts
 * await store.ready().catch((e) => { if (isGoesError(e, 'SCHEMA_MISMATCH')) console.error(e.message); });
 * ```
 */
export class SchemaMismatchError extends GoesError {
  readonly differences: readonly string[];

  constructor(relation: string, differences: readonly string[]) {
    super(
      'SCHEMA_MISMATCH',
      `@goes/postgres: table ${relation} exists but does not match the event store layout: ${differences.join('; ')}`,
    );
    this.differences = differences;
  }
}

/**
 * True for a {@link PostgresStoreError} (checked by code).
 *
 * @example
 * ```ts
 * if (isPostgresStoreError(error)) console.log(error.sqlState);
 * ```
 */
export function isPostgresStoreError(error: unknown): error is PostgresStoreError {
  return isGoesError(error, 'POSTGRES_ERROR');
}
