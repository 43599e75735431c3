import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from '@jest/globals';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { exercise } from '../src/backends-databases.js';
import { mongoBackends } from '../src/backends-mongodb.js';
import { postgresBackends } from '../src/backends-postgres.js';
import { OrderSummary } from '../src/projections.js';

// The servers of the tests (`pnpm test` starts them); a missing server fails, never skips.
const POSTGRES_URL = process.env.GOES_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const MONGODB_URL = process.env.GOES_MONGODB_URL ?? 'mongodb://127.0.0.1:27017/';
const namespace = `docs_${randomUUID().replaceAll('-', '').slice(0, 12)}`;

afterAll(async () => {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${namespace} CASCADE`);
  await client.end();
  const mongo = new MongoClient(MONGODB_URL);
  await mongo.db(namespace).dropDatabase();
  await mongo.close();
});

describe('docs/backends: databases', () => {
  it.each([
    ['postgres', () => exercise((bus) => postgresBackends(POSTGRES_URL, namespace, bus))],
    ['mongodb', () => exercise((bus) => mongoBackends(MONGODB_URL, namespace, bus))],
  ])('%s: stores, snapshots and projects', async (_, run) => {
    const { summary, product, snapshot } = await run();
    expect(summary).toBeInstanceOf(OrderSummary);
    expect(summary).toMatchObject({ status: 'placed', totalCents: 990 });
    expect(product).toMatchObject({ version: 101, priceCents: 1_099 });
    expect(snapshot).toBe(100);
  });
});
