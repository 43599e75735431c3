import { ConnectionError } from '@goes/event';
import { MongoStoreError } from '../errors.js';

/** One failed document of a bulk write, as the driver reports it. @internal */
export interface WriteFailure {
  readonly index: number;
  readonly code: number | undefined;
  readonly message: string;
}

/**
 * Codes of a unique-index violation. MongoDB answers 11000 (11001 and 12582 on old servers);
 * FerretDB answers 11000 on inserts and upserts and names no index. The message prefix covers
 * servers that wrap the code.
 */
const DUPLICATE_KEY_CODES = new Set([11000, 11001, 12582]);

/** True for a unique-index violation, whatever the server. @internal */
export function isDuplicateKey(failure: { code?: unknown; message?: unknown }): boolean {
  return (
    (typeof failure.code === 'number' && DUPLICATE_KEY_CODES.has(failure.code)) ||
    (typeof failure.message === 'string' && failure.message.startsWith('E11000'))
  );
}

/**
 * The first failed document of an insert error, or `undefined` when the error is not about a
 * document (a lost connection, a refused command).
 *
 * @internal
 */
export function firstWriteFailure(error: unknown): WriteFailure | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const raw = (error as { writeErrors?: unknown }).writeErrors;
  const list = Array.isArray(raw) ? raw : raw ? [raw] : [];
  let first: WriteFailure | undefined;
  for (const item of list as { index?: unknown; code?: unknown; errmsg?: unknown }[]) {
    const index = typeof item.index === 'number' ? item.index : undefined;
    if (index === undefined) continue;
    if (!first || index < first.index) {
      first = {
        index,
        code: typeof item.code === 'number' ? item.code : undefined,
        message: typeof item.errmsg === 'string' ? item.errmsg : String(item.errmsg ?? ''),
      };
    }
  }
  return first;
}

const CONNECTION_ERRORS = new Set([
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoServerSelectionError',
  'MongoTopologyClosedError',
  'MongoNotConnectedError',
  'MongoServerClosedError',
  'MongoPoolClosedError',
  'MongoOperationTimeoutError',
  'MongoClientClosedError',
]);

/** True when the driver lost or could not reach the server. @internal */
export function isConnectionFailure(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    CONNECTION_ERRORS.has((error as { name?: unknown }).name as string)
  );
}

/**
 * Wraps what the driver threw in a typed goes error (`action` says what the store was doing);
 * anything else (goes errors, abort reasons) passes as it is.
 *
 * @internal
 */
export function toStoreError(error: unknown, action: string): unknown {
  const isDriverError = error instanceof Error && error.name.startsWith('Mongo');
  if (!isDriverError) return error;
  if (isConnectionFailure(error)) {
    return new ConnectionError(
      `MongoDB event store: ${action} failed: ${(error as Error).message}`,
      { cause: error, retryable: true },
    );
  }
  const code = (error as { code?: unknown }).code;
  return new MongoStoreError(`MongoDB event store: ${action} failed: ${(error as Error).message}`, {
    cause: error,
    ...(typeof code === 'number' || typeof code === 'string' ? { serverCode: code } : {}),
  });
}
