import { isCodecError } from '@goes/codec';
import { ConnectionError, GoesError, isGoesError } from '@goes/event';
import { PostgresStoreError } from '../errors.js';

/** The fields of a `pg` DatabaseError (or a Node socket error) the store looks at. */
export interface DriverError {
  readonly code?: unknown;
  readonly constraint?: unknown;
  readonly detail?: unknown;
  readonly message?: unknown;
  readonly severity?: unknown;
}

const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
]);

/** SQLSTATEs after which trying again (later, on another connection) can succeed. */
function isRetryableState(state: string): boolean {
  return (
    state.startsWith('08') || // connection exception
    state === '57P01' || // admin_shutdown
    state === '57P02' || // crash_shutdown
    state === '57P03' || // cannot_connect_now
    state === '53300' // too_many_connections
  );
}

/**
 * The SQLSTATE of an error PostgreSQL sent, if it is one. Server errors carry a `severity`;
 * Node's socket errors have string codes too, some of five letters (EPIPE).
 */
export function sqlState(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, severity } = error as DriverError;
  return typeof severity === 'string' && typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)
    ? code
    : undefined;
}

/** True when the error says the connection (not the statement) failed. */
export function isConnectionFailure(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  if (isGoesError(error, 'CONNECTION_FAILED')) return true;
  const { code, message } = error as DriverError;
  if (typeof code === 'string' && SOCKET_CODES.has(code)) return true;
  const state = sqlState(error);
  if (state !== undefined) return isRetryableState(state) || state.startsWith('28');
  return (
    typeof message === 'string' &&
    /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended/i.test(
      message,
    )
  );
}

/**
 * Turns a driver error into a goes error: connection failures become {@link ConnectionError}
 * (retryable unless authentication or the database name is wrong), everything else a
 * {@link PostgresStoreError} naming what the store was doing. goes errors pass through.
 */
export function fromDriverError(error: unknown, doing: string): Error {
  // Not isGoesError(error): driver errors carry string codes too (SQLSTATEs, ECONNREFUSED).
  if (error instanceof GoesError || isCodecError(error)) return error as Error;
  const message = (error as DriverError | null)?.message;
  const text = typeof message === 'string' ? message : String(error);
  const state = sqlState(error);
  if (isConnectionFailure(error)) {
    const retryable = state === undefined || isRetryableState(state);
    return new ConnectionError(`@goes/postgres: cannot ${doing}: ${text}`, {
      cause: error,
      retryable,
    });
  }
  if (state === '3D000') {
    return new ConnectionError(`@goes/postgres: cannot ${doing}: ${text}`, {
      cause: error,
      retryable: false,
    });
  }
  return new PostgresStoreError(
    `@goes/postgres: cannot ${doing}: ${text}${state ? ` (SQLSTATE ${state})` : ''}`,
    state,
    { cause: error },
  );
}
