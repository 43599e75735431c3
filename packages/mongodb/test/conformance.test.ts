import { eventStoreConformance } from '@goes/testing';
import { afterAll } from '@jest/globals';
import { createMongoEventStore } from '../src/index.js';
import { SERVER, testClient, uniqueDatabase } from './support.js';

const client = testClient();
const database = uniqueDatabase('conformance');

afterAll(async () => {
  await client.db(database).dropDatabase();
  await client.close();
});

// A collection per test keeps FerretDB fast: it answers every query but lookups by _id by
// scanning the whole collection.
let collections = 0;
eventStoreConformance(`mongodb on ${SERVER}`, ({ codec }) =>
  createMongoEventStore({ client, database, collection: `events${++collections}`, codec }),
);
