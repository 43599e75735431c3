import { eventStoreConformance } from '@goes/testing';
import { afterAll } from '@jest/globals';
import { createPostgresEventStore } from '../src/index.js';
import { createPool, dropSchemas, POSTGRES_URL, uniqueSchema } from './support.js';

// Variant 1: the user's pool, notifications on.
const pool = createPool(12);
const pooled = uniqueSchema('conf_pool');
eventStoreConformance('postgres (pg.Pool, NOTIFY)', ({ codec }) =>
  createPostgresEventStore({ pool, codec, schema: pooled }),
);

// Variant 2: the store's own pool from a connection string, notifications off, tiny cursor
// batches so that every streamed query crosses many round trips.
const owned = uniqueSchema('conf_url');
eventStoreConformance('postgres (connection string, no NOTIFY, cursor batches of 3)', ({ codec }) =>
  createPostgresEventStore({
    connectionString: POSTGRES_URL,
    codec,
    schema: owned,
    notify: false,
    queryBatchSize: 3,
    poolSize: 12,
  }),
);

afterAll(async () => {
  await pool.end();
  await dropSchemas(pooled, owned);
});
