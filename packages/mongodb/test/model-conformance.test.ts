import { type ConformanceModel, modelRepositoryConformance } from '@goes/testing';
import { afterAll } from '@jest/globals';
import { createMongoModelRepository } from '../src/index.js';
import { SERVER, testClient, uniqueDatabase } from './support.js';

const client = testClient();
const database = uniqueDatabase('models');

afterAll(async () => {
  await client.db(database).dropDatabase();
  await client.close();
});

// A collection per test keeps FerretDB fast: it scans the whole collection for every query.
let collections = 0;
modelRepositoryConformance(
  `mongodb on ${SERVER}`,
  () =>
    createMongoModelRepository<ConformanceModel>({
      client,
      database,
      collection: `models${++collections}`,
    }),
  { concurrentUses: 8 },
);
