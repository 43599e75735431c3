import pg from 'pg';
import type { ShopConfig } from '../src/config.js';
import { shopScenarioSuite, testConfig } from './support.js';

// The PostgreSQL and NATS servers of the tests (`pnpm test` starts them); a missing server fails,
// never skips. Every suite works in a schema of its own, dropped afterwards.
const urls = {
  GOES_POSTGRES_URL: process.env.GOES_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  GOES_NATS_URL: process.env.GOES_NATS_URL ?? 'nats://127.0.0.1:4222',
};

async function dropSchema(config: ShopConfig): Promise<void> {
  const client = new pg.Client({ connectionString: config.postgresUrl });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${config.namespace} CASCADE`);
  await client.end();
}

shopScenarioSuite(
  'the shop on PostgreSQL and the in-memory bus',
  () => testConfig({ ...urls, GOES_STORE: 'postgres', GOES_BUS: 'memory' }),
  { teardown: dropSchema },
);

shopScenarioSuite(
  'the shop on PostgreSQL and NATS',
  () => testConfig({ ...urls, GOES_STORE: 'postgres', GOES_BUS: 'nats' }),
  { teardown: dropSchema },
);
