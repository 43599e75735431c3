import { randomBytes } from 'node:crypto';
import { type Collection, MongoClient } from 'mongodb';
import { createMongoEventStore, type MongoEventStore } from '../src/index.js';
import type { EventDocument } from '../src/internal/documents.js';

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

/**
 * Stores of one test file: one client, one database of its own, a fresh collection per
 * `open()`, and `cleanUp()` (for `afterAll`) closing the stores and dropping the database.
 */
export interface StoreFixture {
  readonly client: MongoClient;
  readonly database: string;
  /** A store on a new collection (or on `collection`, to share one between stores). */
  open(options?: { readonly collection?: string }): MongoEventStore;
  /** The raw events collection of a store, to look at or plant documents. */
  events(store: MongoEventStore): Collection<EventDocument>;
  cleanUp(): Promise<void>;
}

/** The {@link StoreFixture} of a test file; `label` names its database. */
export function storeFixture(
  label: string,
  clientOptions: ConstructorParameters<typeof MongoClient>[1] = {},
): StoreFixture {
  const client = testClient(clientOptions);
  const database = uniqueDatabase(label);
  const stores: MongoEventStore[] = [];
  let collections = 0;
  return {
    client,
    database,
    open(options = {}) {
      const collection = options.collection ?? `events${++collections}`;
      const store = createMongoEventStore({ client, database, collection });
      stores.push(store);
      return store;
    },
    events: (store) => client.db(database).collection<EventDocument>(store.names.events),
    async cleanUp() {
      for (const store of stores) await store.close();
      await client.db(database).dropDatabase();
      await client.close();
    },
  };
}
