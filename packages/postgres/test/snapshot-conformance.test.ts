import { snapshotStoreConformance } from '@goes/testing';
import { afterAll } from '@jest/globals';
import { createPostgresSnapshotStore } from '../src/index.js';
import { createPool, dropSchemas, uniqueSchema } from './support.js';

const pool = createPool(8);
const schema = uniqueSchema('snapshots');

// Cursor batches of 3: queries cross several round trips.
snapshotStoreConformance('postgres', () =>
  createPostgresSnapshotStore({ pool, schema, queryBatchSize: 3 }),
);

afterAll(async () => {
  await pool.end();
  await dropSchemas(schema);
});
