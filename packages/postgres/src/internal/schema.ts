import { createHash } from 'node:crypto';
import type { PoolClient } from 'pg';
import { SchemaMismatchError } from '../errors.js';
import { quoteIdent } from './identifiers.js';

/** What a store needs in the database, and how to create it. */
export interface SchemaSpec {
  readonly schema: string;
  /** The main table (unquoted), whose columns are checked. */
  readonly table: string;
  /** Every relation (tables, indexes; unquoted names in `schema`) that must exist. */
  readonly relations: readonly string[];
  /** The columns the store reads and writes, with the type `format_type` reports. */
  readonly columns: readonly (readonly [string, string])[];
  /** Idempotent DDL creating everything. */
  readonly ddl: string;
  /** A statement returning one row with a `ready` boolean once the data setup is complete. */
  readonly complete?: string | undefined;
}

/**
 * A 64-bit advisory lock key (decimal text) for DDL in one schema: per schema, not per table, so
 * that stores of different tables creating the same schema at once also wait for each other.
 */
function lockKey(spec: SchemaSpec): string {
  return createHash('sha256')
    .update(`goes:ddl:${spec.schema}`)
    .digest()
    .readBigInt64BE(0)
    .toString();
}

/** What {@link inspect} found. */
interface Inspection {
  readonly complete: boolean;
  readonly columns: ReadonlyMap<string, string> | undefined;
}

/**
 * Looks the relations up in the catalog tables with one statement snapshot (not with
 * `to_regclass`, whose catalog lookups may already see a table that another session created
 * after the statement began, while the statement's own snapshot does not see its columns yet).
 */
async function inspect(client: PoolClient, spec: SchemaSpec): Promise<Inspection> {
  const wanted = [spec.table, ...spec.relations];
  const { rows } = await client.query<{ relname: string; columns: [string, string][] | null }>(
    `SELECT c.relname,
       (SELECT json_agg(json_build_array(a.attname, format_type(a.atttypid, a.atttypmod)))
          FROM pg_attribute a
         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relname = ANY($2::text[])`,
    [spec.schema, wanted],
  );
  const found = new Map(rows.map((row) => [row.relname, row.columns]));
  let complete = wanted.every((name) => found.has(name));
  if (complete && spec.complete) {
    const checked = await client.query<{ ready: boolean }>(spec.complete);
    complete = checked.rows[0]?.ready === true;
  }
  const columns = found.get(spec.table);
  return { complete, columns: columns ? new Map(columns) : undefined };
}

function verify(spec: SchemaSpec, columns: ReadonlyMap<string, string> | undefined): void {
  const relation = `${quoteIdent(spec.schema)}.${quoteIdent(spec.table)}`;
  if (!columns) {
    throw new SchemaMismatchError(relation, [
      'the table is missing after it was created (was it dropped concurrently?)',
    ]);
  }
  const differences: string[] = [];
  for (const [column, type] of spec.columns) {
    const actual = columns.get(column);
    if (actual === undefined) differences.push(`column ${column} (${type}) is missing`);
    else if (actual !== type) differences.push(`column ${column} is ${actual}, expected ${type}`);
  }
  if (differences.length > 0) throw new SchemaMismatchError(relation, differences);
}

/**
 * Makes sure the schema, tables and indexes of a store exist, creating what is missing, then
 * checks the table's columns. When everything exists, no DDL runs (so a role without CREATE
 * privileges can use a prepared database, and no table lock is taken). Creation runs in one
 * transaction under an advisory lock, so several processes starting at once do not trip over
 * each other's `CREATE ... IF NOT EXISTS`.
 */
export async function ensureSchema(client: PoolClient, spec: SchemaSpec): Promise<void> {
  let found = await inspect(client, spec);
  // A table of another layout is reported as such, before any DDL trips over it.
  if (found.columns) verify(spec, found.columns);
  if (!found.complete) {
    await client.query('BEGIN');
    try {
      await client.query(`SELECT pg_advisory_xact_lock(${lockKey(spec)})`);
      await client.query(spec.ddl);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
    found = await inspect(client, spec);
  }
  verify(spec, found.columns);
}
