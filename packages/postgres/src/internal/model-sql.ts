import { quoteIdent } from './identifiers.js';
import type { SchemaSpec } from './schema.js';

/** Quoted names of a model table. */
export interface ModelTable {
  readonly schema: string;
  readonly table: string;
  /** `"schema"."table"` */
  readonly relation: string;
}

/**
 * The model table: one row per model, its id the primary key (byte-ordered), the version the
 * repository keeps, and the model as `jsonb` (so it can be queried with SQL as well).
 */
export function modelSchema(t: ModelTable): SchemaSpec {
  return {
    schema: t.schema,
    table: t.table,
    relations: [`${t.table}_pkey`],
    columns: [
      ['id', 'text'],
      ['version', 'bigint'],
      ['data', 'jsonb'],
    ],
    ddl: `
CREATE SCHEMA IF NOT EXISTS ${quoteIdent(t.schema)};
CREATE TABLE IF NOT EXISTS ${t.relation} (
  id text COLLATE "C" NOT NULL,
  version bigint NOT NULL,
  data jsonb NOT NULL,
  CONSTRAINT ${quoteIdent(`${t.table}_pkey`)} PRIMARY KEY (id)
);
`,
  };
}

/**
 * The statements of a model repository (prepared, named per table). Each write is one statement
 * whose condition is the optimistic concurrency check, so it is atomic across processes:
 * - `upsert`: no expected version, insert at 1 or add 1;
 * - `insert`: expected version 0, insert only (the primary key refuses a second one; a
 *   concurrent insert waits for the first to commit and then does nothing);
 * - `update` / `deleteVersion`: only when the stored version is the expected one.
 * A write that matched nothing returns no row, which the repository reports as a conflict.
 */
export function modelStatements(t: ModelTable, tag: string) {
  return {
    fetch: {
      name: `${tag}_fetch`,
      text: `SELECT version, data FROM ${t.relation} WHERE id = $1::text`,
    },
    version: {
      name: `${tag}_version`,
      text: `SELECT version FROM ${t.relation} WHERE id = $1::text`,
    },
    upsert: {
      name: `${tag}_upsert`,
      text: `INSERT INTO ${t.relation} AS m (id, version, data) VALUES ($1::text, 1, $2::text::jsonb)
ON CONFLICT (id) DO UPDATE SET version = m.version + 1, data = EXCLUDED.data
RETURNING version`,
    },
    insert: {
      name: `${tag}_insert`,
      text: `INSERT INTO ${t.relation} (id, version, data) VALUES ($1::text, 1, $2::text::jsonb)
ON CONFLICT (id) DO NOTHING RETURNING version`,
    },
    update: {
      name: `${tag}_update`,
      text: `UPDATE ${t.relation} SET version = version + 1, data = $2::text::jsonb
WHERE id = $1::text AND version = $3::bigint RETURNING version`,
    },
    delete: {
      name: `${tag}_delete`,
      text: `DELETE FROM ${t.relation} WHERE id = $1::text RETURNING version`,
    },
    deleteVersion: {
      name: `${tag}_delete_version`,
      text: `DELETE FROM ${t.relation} WHERE id = $1::text AND version = $2::bigint RETURNING version`,
    },
  };
}
