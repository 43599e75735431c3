import type { AggregateSortOption, Snapshot, SnapshotQuery } from '@goes/aggregate';
import type { VersionConstraints } from '@goes/event';
import { quoteIdent } from './identifiers.js';
import type { TextRow } from './rows.js';
import type { SchemaSpec } from './schema.js';
import {
  FALSE,
  inList,
  or,
  Params,
  type SqlStatement,
  textList,
  timeConditions,
} from './sql-conditions.js';

/** The columns every snapshot read selects, in the order {@link decodeSnapshot} expects. */
const COLUMNS = 'aggregate_name, aggregate_id, version, time, state, soft_deleted';

/** Quoted names of a snapshot table. */
export interface SnapshotTable {
  readonly schema: string;
  readonly table: string;
  /** `"schema"."table"` */
  readonly relation: string;
}

/**
 * The snapshot table: one row per (aggregate name, id, version), the primary key serving
 * `latest`/`limit` (a backward index scan) and every lookup of one aggregate; `time` is indexed
 * for the cleanup of old snapshots. `state` is text, kept exactly as the snapshot codec wrote it
 * (it need not be JSON).
 */
export function snapshotSchema(t: SnapshotTable): SchemaSpec {
  return {
    schema: t.schema,
    table: t.table,
    relations: [`${t.table}_pkey`, `${t.table}_time_idx`],
    columns: [
      ['aggregate_name', 'text'],
      ['aggregate_id', 'uuid'],
      ['version', 'bigint'],
      ['time', 'bigint'],
      ['state', 'text'],
      ['soft_deleted', 'boolean'],
    ],
    ddl: `
CREATE SCHEMA IF NOT EXISTS ${quoteIdent(t.schema)};
CREATE TABLE IF NOT EXISTS ${t.relation} (
  aggregate_name text COLLATE "C" NOT NULL,
  aggregate_id uuid NOT NULL,
  version bigint NOT NULL,
  time bigint NOT NULL,
  state text NOT NULL,
  soft_deleted boolean NOT NULL,
  CONSTRAINT ${quoteIdent(`${t.table}_pkey`)} PRIMARY KEY (aggregate_name, aggregate_id, version)
);
CREATE INDEX IF NOT EXISTS ${quoteIdent(`${t.table}_time_idx`)} ON ${t.relation} (time);
`,
  };
}

/** The statements of a snapshot store (prepared, named per table). */
export function snapshotStatements(t: SnapshotTable, tag: string) {
  const select = `SELECT ${COLUMNS} FROM ${t.relation} WHERE aggregate_name = $1::text AND aggregate_id = $2::uuid`;
  return {
    save: {
      name: `${tag}_save`,
      text: `INSERT INTO ${t.relation} (${COLUMNS}) VALUES ($1::text, $2::uuid, $3::bigint, $4::bigint, $5::text, $6::boolean)
ON CONFLICT (aggregate_name, aggregate_id, version)
DO UPDATE SET time = EXCLUDED.time, state = EXCLUDED.state, soft_deleted = EXCLUDED.soft_deleted`,
    },
    latest: { name: `${tag}_latest`, text: `${select} ORDER BY version DESC LIMIT 1` },
    version: { name: `${tag}_version`, text: `${select} AND version = $3::bigint` },
    limit: {
      name: `${tag}_limit`,
      text: `${select} AND version <= $3::bigint ORDER BY version DESC LIMIT 1`,
    },
    delete: {
      name: `${tag}_delete`,
      text: `DELETE FROM ${t.relation} WHERE (aggregate_name, aggregate_id, version) IN (
  SELECT * FROM unnest($1::text[], $2::uuid[], $3::bigint[]))`,
    },
  };
}

/** A snapshot of a row of {@link COLUMNS}. */
export function decodeSnapshot(row: TextRow): Snapshot {
  return {
    aggregateName: row[0] as string,
    aggregateId: row[1] as string,
    version: Number(row[2]),
    time: BigInt(row[3] as string),
    state: row[4] as string,
    softDeleted: row[5] === 't',
  };
}

/** Version constraints on a NOT NULL column (goes' semantics: min/max lists widen). */
function versionConditions(c: VersionConstraints, p: Params, where: string[]): void {
  if (c.exact && c.exact.length > 0)
    where.push(inList('version', [...new Set(c.exact)], 'bigint', p));
  if (c.ranges && c.ranges.length > 0) {
    where.push(
      or(
        c.ranges.map(
          ([from, to]) =>
            `(version >= ${p.add(from, 'bigint')} AND version <= ${p.add(to, 'bigint')})`,
        ),
      ),
    );
  }
  if (c.min && c.min.length > 0) where.push(`version >= ${p.add(Math.min(...c.min), 'bigint')}`);
  if (c.max && c.max.length > 0) where.push(`version <= ${p.add(Math.max(...c.max), 'bigint')}`);
}

const COLUMN_OF: Record<AggregateSortOption['by'], string> = {
  name: 'aggregate_name',
  id: 'aggregate_id',
  version: 'version',
};

/**
 * Translates a validated {@link SnapshotQuery} into one SELECT whose result is exactly what
 * `matchesSnapshot()` selects, sorted by the query's keys and then name, id and version
 * ascending (the contract's order).
 */
export function snapshotQuerySql(q: SnapshotQuery, t: SnapshotTable): SqlStatement {
  const p = new Params();
  const where: string[] = [];
  if (q.names && q.names.length > 0) where.push(textList('aggregate_name', q.names, p));
  if (q.ids && q.ids.length > 0) where.push(inList('aggregate_id', [...new Set(q.ids)], 'uuid', p));
  if (q.versions) versionConditions(q.versions, p, where);
  if (q.times) timeConditions(q.times, p, where);
  const keys: string[] = [];
  const seen = new Set<string>();
  for (const { by, dir } of [
    ...(q.sort ?? []),
    { by: 'name', dir: 'asc' } as const,
    { by: 'id', dir: 'asc' } as const,
    { by: 'version', dir: 'asc' } as const,
  ]) {
    if (seen.has(by)) continue;
    seen.add(by);
    keys.push(`${COLUMN_OF[by]} ${dir === 'desc' ? 'DESC' : 'ASC'}`);
  }
  const select = `SELECT ${COLUMNS} FROM ${t.relation}`;
  const order = `ORDER BY ${keys.join(', ')}`;
  if (where.includes(FALSE)) return { text: `${select} WHERE false ${order}`, values: [] };
  const filter = where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '';
  return { text: `${select}${filter} ${order}`, values: p.values };
}
