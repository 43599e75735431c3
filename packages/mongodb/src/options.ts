import type { Codec } from '@goes/codec';
import { InvalidArgumentError } from '@goes/event';
import type { MongoClient, MongoClientOptions } from 'mongodb';

/**
 * What every MongoDB component of goes takes: a client or a URL, where its data lives, and how
 * it connects. Give either `client` or `url`.
 *
 * @example
 * ```ts
 * const connection: MongoConnectionOptions = { url: 'mongodb://127.0.0.1:27017/', database: 'shop' };
 * ```
 */
export interface MongoConnectionOptions {
  /** A client to use. The component never closes it; close it yourself after `close()`. */
  readonly client?: MongoClient | undefined;
  /** A connection string. The component creates the client, connects on first use and closes it. */
  readonly url?: string | undefined;
  /** Options for the client created from `url` (ignored with `client`). */
  readonly clientOptions?: MongoClientOptions | undefined;
  /** Database name. Default `goes`. */
  readonly database?: string | undefined;
  /** Name of the component's collection (each component has its own default). */
  readonly collection?: string | undefined;
  /**
   * Create the indexes on first use (idempotent). Default true. Turn it off when a migration
   * tool owns the indexes.
   */
  readonly createIndexes?: boolean | undefined;
  /** Attempts of the first connection and setup within one call. Default 3. */
  readonly connectAttempts?: number | undefined;
  /** Wait before the second attempt, doubled for each further one. Default 200 ms. */
  readonly connectBackoffMs?: number | undefined;
}

/**
 * Options of {@link createMongoEventStore}. Give either `client` or `url`.
 *
 * @example
 * ```ts
 * const options: MongoEventStoreOptions = {
 *   url: 'mongodb://127.0.0.1:27017/',
 *   database: 'shop',
 *   codec: events,
 * };
 * ```
 */
export interface MongoEventStoreOptions extends MongoConnectionOptions {
  /**
   * Name of the events collection. Default `events`. The store also uses `<collection>_meta`
   * (a few commit markers).
   */
  readonly collection?: string | undefined;
  /** Encodes event data to text and back. Default: JSON for every name. */
  readonly codec?: Codec | undefined;
  /**
   * Create the indexes on first use (idempotent). Default true. Turn it off when a migration
   * tool owns the indexes; the unique indexes `goes_id` and `goes_aggregate_version` must exist.
   */
  readonly createIndexes?: boolean | undefined;
  /** Documents per cursor batch when streaming query results. Default 1,000. */
  readonly batchSize?: number | undefined;
}

/** The connection options with defaults applied and checked. @internal */
export interface ResolvedConnection {
  readonly database: string;
  readonly collection: string;
  readonly createIndexes: boolean;
  readonly connectAttempts: number;
  readonly connectBackoffMs: number;
}

/** The event store options with defaults applied and checked. @internal */
export interface ResolvedOptions extends ResolvedConnection {
  readonly batchSize: number;
}

// The characters MongoDB refuses in database names (NUL is checked apart).
const BAD_DATABASE_CHARACTERS = /[/\\. "$*<>:|?]/;

/**
 * Applies defaults and checks the connection options of component `factory`.
 *
 * @throws {@link InvalidArgumentError} naming the offending option.
 * @internal
 */
export function resolveConnection(
  options: MongoConnectionOptions,
  factory: string,
  defaultCollection: string,
): ResolvedConnection {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(`${factory} expects an options object`);
  }
  if ((options.client === undefined) === (options.url === undefined)) {
    throw new InvalidArgumentError(
      `${factory} needs exactly one of \`client\` (a MongoClient) or \`url\` (a connection string)`,
    );
  }
  if (options.url !== undefined && (typeof options.url !== 'string' || options.url === '')) {
    throw new InvalidArgumentError(
      `url ${JSON.stringify(options.url)} must be a connection string`,
    );
  }
  const database = options.database ?? 'goes';
  if (
    typeof database !== 'string' ||
    database === '' ||
    database.length > 63 ||
    BAD_DATABASE_CHARACTERS.test(database) ||
    database.includes('\u0000')
  ) {
    throw new InvalidArgumentError(
      `database ${JSON.stringify(database)} is not a valid MongoDB database name (1–63 characters, none of / \\ . " $ * < > : | ? or spaces)`,
    );
  }
  const collection = options.collection ?? defaultCollection;
  if (
    typeof collection !== 'string' ||
    collection === '' ||
    collection.includes('$') ||
    collection.includes('\u0000') ||
    collection.startsWith('system.')
  ) {
    throw new InvalidArgumentError(
      `collection ${JSON.stringify(collection)} is not a valid MongoDB collection name (non-empty, no "$", not "system.*")`,
    );
  }
  return {
    database,
    collection,
    createIndexes: options.createIndexes ?? true,
    connectAttempts: positiveInteger('connectAttempts', options.connectAttempts, 3),
    connectBackoffMs: nonNegative('connectBackoffMs', options.connectBackoffMs, 200),
  };
}

/**
 * Applies defaults and checks the event store options.
 *
 * @throws {@link InvalidArgumentError} naming the offending option.
 * @internal
 */
export function resolveOptions(options: MongoEventStoreOptions): ResolvedOptions {
  return {
    ...resolveConnection(options, 'createMongoEventStore', 'events'),
    batchSize: positiveInteger('batchSize', options.batchSize, 1_000),
  };
}

/** @internal */
export function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new InvalidArgumentError(`${name} ${String(value)} must be a positive integer`);
  }
  return value;
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidArgumentError(`${name} ${String(value)} must be a non-negative number`);
  }
  return value;
}
