import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';

/** The server under test: GOES_MONGODB_URL, by default the local FerretDB that `pnpm test` starts. */
export const MONGODB_URL = process.env.GOES_MONGODB_URL ?? 'mongodb://127.0.0.1:27017/';

/** `mongodb` when GOES_MONGODB_SERVER says a real MongoDB is configured, else `ferretdb`. */
export const SERVER: 'mongodb' | 'ferretdb' =
  process.env.GOES_MONGODB_SERVER === 'mongodb' ? 'mongodb' : 'ferretdb';

/** True when tests run against a real MongoDB (features FerretDB lacks can be tested). */
export const REAL_MONGODB = SERVER === 'mongodb';

/** A database name no other test file or run uses (FerretDB allows [a-zA-Z0-9_-]{1,63}). */
export function uniqueDatabase(label: string): string {
  return `goes_${label}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

/** A client for tests, failing fast when the server is not there. */
export function testClient(
  options: ConstructorParameters<typeof MongoClient>[1] = {},
): MongoClient {
  return new MongoClient(MONGODB_URL, { serverSelectionTimeoutMS: 5_000, ...options });
}
