import { InvalidArgumentError } from '@goes/event';
import pg from 'pg';
import type { PostgresConnectionOptions } from '../options.js';
import { timerMs } from './timers.js';

/**
 * The most rows one read may ask for: PostgreSQL takes a row count as a 32-bit signed integer
 * (`LIMIT $n::integer`, the protocol's Execute), so a larger batch size would only fail at the
 * first read, as a server or driver error.
 */
export const MAX_BATCH_SIZE = 2 ** 31 - 1;

/** A positive integer option, or its default. @throws InvalidArgumentError naming the option. */
export function positiveInteger(
  name: string,
  value: number | undefined,
  fallback: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1 || value > max) {
    const bound = max === Number.MAX_SAFE_INTEGER ? '' : ` of at most ${max}`;
    throw new InvalidArgumentError(
      `@goes/postgres: option ${name} must be a positive integer${bound}, got ${String(value)}`,
    );
  }
  return value;
}

/** Checks the options and opens (lazily) the store's own pool when it has none. */
export function openPool(options: PostgresConnectionOptions): { pool: pg.Pool; owned: boolean } {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(
      '@goes/postgres: options are required ({ pool } or { connectionString })',
    );
  }
  const { pool, connectionString } = options;
  if ((pool === undefined) === (connectionString === undefined)) {
    throw new InvalidArgumentError(
      '@goes/postgres: give exactly one of the options pool (a pg.Pool) and connectionString',
    );
  }
  const poolSize = positiveInteger('poolSize', options.poolSize, 10);
  const connectTimeout = positiveInteger('connectTimeoutMs', options.connectTimeoutMs, 10_000);
  if (pool) return { pool, owned: false };
  if (typeof connectionString !== 'string' || connectionString === '') {
    throw new InvalidArgumentError('@goes/postgres: connectionString must be a non-empty string');
  }
  // pg.Pool connects lazily: nothing happens until the first query.
  const own = new pg.Pool({
    connectionString,
    max: poolSize,
    // pg waits with setTimeout: a longer timeout would overflow to 1 ms and fail every connect.
    connectionTimeoutMillis: timerMs(connectTimeout),
  });
  // An idle client that loses its connection is dropped by the pool; without a listener the
  // 'error' event would crash the process.
  own.on('error', (error) => options.onError?.(error));
  return { pool: own, owned: true };
}
