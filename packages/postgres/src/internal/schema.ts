import type { PoolClient } from 'pg';
import { SchemaMismatchError } from '../errors.js';
import { quoteIdent } from './identifiers.js';
import type { TableNames } from './names.js';

/** The columns the store reads and writes, with the type `format_type` reports for each. */
const COLUMNS: readonly (readonly [string, string])[] = [
  ['position', 'bigint'],
  ['id', 'uuid'],
  ['name', 'text'],
  ['time', 'bigint'],
  ['aggregate_name', 'text'],
  ['aggregate_id', 'uuid'],
  ['aggregate_version', 'integer'],
  ['data', 'jsonb'],
];

/**
 * The DDL of the store, every statement idempotent. Design notes:
 * - `position` is the primary key and is handed out by the one-row counter table in commit order
 *   (see the insert statement), so it has no sequence.
 * - Non-aggregate events store NULL aggregate columns; version-0 aggregate events store a NULL
 *   version. NULLs are distinct in a unique index, so the one unique index on
 *   (aggregate_id, aggregate_name, aggregate_version) both guards versions > 0 against
 *   concurrent writers and serves every read of one aggregate (version-0 events included).
 * - Names use the "C" collation: byte order, which is code point order, like the in-memory
 *   store's comparison for all but astral-plane characters, and independent of the server's locale.
 */
export function schemaDdl(names: TableNames): string {
  const { schema, events, counter, constraints: c } = names;
  return `
CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)};
CREATE TABLE IF NOT EXISTS ${events} (
  position bigint NOT NULL,
  id uuid NOT NULL,
  name text COLLATE "C" NOT NULL,
  time bigint NOT NULL,
  aggregate_name text COLLATE "C",
  aggregate_id uuid,
  aggregate_version integer,
  data jsonb NOT NULL,
  CONSTRAINT ${quoteIdent(c.primaryKey)} PRIMARY KEY (position),
  CONSTRAINT ${quoteIdent(c.id)} UNIQUE (id),
  CONSTRAINT ${quoteIdent(c.aggregateCheck)} CHECK (
    (aggregate_name IS NULL) = (aggregate_id IS NULL)
    AND (aggregate_version IS NULL OR (aggregate_name IS NOT NULL AND aggregate_version > 0))
  )
);
CREATE UNIQUE INDEX IF NOT EXISTS ${quoteIdent(c.aggregate)}
  ON ${events} (aggregate_id, aggregate_name, aggregate_version);
CREATE INDEX IF NOT EXISTS ${quoteIdent(c.nameTime)} ON ${events} (name, time, position);
CREATE TABLE IF NOT EXISTS ${counter} (
  single boolean PRIMARY KEY DEFAULT true CHECK (single),
  last bigint NOT NULL
);
INSERT INTO ${counter} (last) SELECT coalesce(max(position), 0) FROM ${events}
  ON CONFLICT (single) DO NOTHING;
`;
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
async function inspect(client: PoolClient, names: TableNames): Promise<Inspection> {
  const { relations } = names;
  const wanted = [relations.events, relations.counter, ...relations.indexes];
  const { rows } = await client.query<{ relname: string; columns: [string, string][] | null }>(
    `SELECT c.relname,
       (SELECT json_agg(json_build_array(a.attname, format_type(a.atttypid, a.atttypmod)))
          FROM pg_attribute a
         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relname = ANY($2::text[])`,
    [names.schema, wanted],
  );
  const found = new Map(rows.map((row) => [row.relname, row.columns]));
  let complete = wanted.every((name) => found.has(name));
  if (complete) {
    const counted = await client.query<{ rows: string }>(
      `SELECT count(*)::text AS rows FROM ${names.counter}`,
    );
    complete = counted.rows[0]?.rows === '1';
  }
  const columns = found.get(relations.events);
  return { complete, columns: columns ? new Map(columns) : undefined };
}

function verify(names: TableNames, columns: ReadonlyMap<string, string> | undefined): void {
  if (!columns) {
    throw new SchemaMismatchError(names.events, [
      'the table is missing after it was created (was it dropped concurrently?)',
    ]);
  }
  const differences: string[] = [];
  for (const [column, type] of COLUMNS) {
    const actual = columns.get(column);
    if (actual === undefined) differences.push(`column ${column} (${type}) is missing`);
    else if (actual !== type) differences.push(`column ${column} is ${actual}, expected ${type}`);
  }
  if (differences.length > 0) throw new SchemaMismatchError(names.events, differences);
}

/**
 * Makes sure the schema, table, indexes and position counter exist, creating what is missing,
 * then checks the table's columns. When everything exists, no DDL runs (so a role without
 * CREATE privileges can use a prepared database, and no table lock is taken). Creation runs in
 * one transaction under an advisory lock, so several processes starting at once do not trip
 * over each other's `CREATE ... IF NOT EXISTS`.
 */
export async function ensureSchema(client: PoolClient, names: TableNames): Promise<void> {
  let found = await inspect(client, names);
  // A table of another layout is reported as such, before any DDL trips over it.
  if (found.columns) verify(names, found.columns);
  if (!found.complete) {
    await client.query('BEGIN');
    try {
      await client.query(`SELECT pg_advisory_xact_lock(${names.lockKey})`);
      await client.query(schemaDdl(names));
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
    found = await inspect(client, names);
  }
  verify(names, found.columns);
}
