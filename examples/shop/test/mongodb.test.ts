import { MongoClient } from 'mongodb';
import type { ShopConfig } from '../src/config.js';
import { shopScenarioSuite, testConfig } from './support.js';

// The MongoDB-wire server and NATS of the tests (`pnpm test` starts FerretDB and NATS); a missing
// server fails, never skips. Every suite works in a database of its own, dropped afterwards.
// FerretDB on SQLite is slow, so the scenario places fewer orders here.
const urls = {
  GOES_MONGODB_URL: process.env.GOES_MONGODB_URL ?? 'mongodb://127.0.0.1:27017/',
  GOES_NATS_URL: process.env.GOES_NATS_URL ?? 'nats://127.0.0.1:4222',
};

async function dropDatabase(config: ShopConfig): Promise<void> {
  const client = new MongoClient(config.mongodbUrl);
  try {
    await client.db(config.namespace).dropDatabase();
  } finally {
    await client.close();
  }
}

shopScenarioSuite(
  'the shop on MongoDB and the in-memory bus',
  () => testConfig({ ...urls, GOES_STORE: 'mongodb', GOES_BUS: 'memory' }),
  { orders: 24, teardown: dropDatabase },
);

shopScenarioSuite(
  'the shop on MongoDB and NATS',
  () => testConfig({ ...urls, GOES_STORE: 'mongodb', GOES_BUS: 'nats' }),
  { orders: 24, teardown: dropDatabase },
);
