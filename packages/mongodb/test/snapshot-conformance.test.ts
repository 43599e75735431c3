import { snapshotStoreConformance } from '@goes/testing';
import { afterAll } from '@jest/globals';
import { createMongoSnapshotStore } from '../src/index.js';
import { SERVER, testClient, uniqueDatabase } from './support.js';

const client = testClient();
const database = uniqueDatabase('snapshots');

afterAll(async () => {
  await client.db(database).dropDatabase();
  await client.close();
});

// A collection per test keeps FerretDB fast: it scans the whole collection for every query.
let collections = 0;
snapshotStoreConformance(`mongodb on ${SERVER}`, () =>
  createMongoSnapshotStore({ client, database, collection: `snapshots${++collections}` }),
);
