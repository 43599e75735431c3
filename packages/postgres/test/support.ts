import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The server under test: GOES_POSTGRES_URL (exported by `pnpm test`) or the local default. */
export const POSTGRES_URL =
  process.env.GOES_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * A schema name no other test (or engineer) uses. Every test file works in its own schemas and
 * drops them at the end, so runs never see each other's tables.
 */
export function uniqueSchema(label: string): string {
  return `goes_pgtest_${label}_${randomBytes(4).toString('hex')}`;
}

/** A pool on the server under test. */
export function createPool(max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString: POSTGRES_URL, max });
  pool.on('error', () => {});
  return pool;
}

/** Drops test schemas (and everything in them). */
export async function dropSchemas(...schemas: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}
