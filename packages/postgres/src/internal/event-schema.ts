import { quoteIdent } from './identifiers.js';
import type { TableNames } from './names.js';
import type { SchemaSpec } from './schema.js';

/**
 * The event store's schema, every statement idempotent. Design notes:
 * - `position` is the primary key and is handed out by the one-row counter table in commit order
 *   (see the insert statement), so it has no sequence.
 * - Non-aggregate events store NULL aggregate columns; version-0 aggregate events store a NULL
 *   version. NULLs are distinct in a unique index, so the one unique index on
 *   (aggregate_id, aggregate_name, aggregate_version) both guards versions > 0 against
 *   concurrent writers and serves every read of one aggregate (version-0 events included).
 * - Names use the "C" collation: byte order, which is code point order (`compareCodePoints` of
 *   @goes/event, which the in-memory store sorts by too), independent of the server's locale.
 */
export function eventSchema(names: TableNames): SchemaSpec {
  const { schema, events, counter, constraints: c } = names;
  const ddl = `
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
  return {
    schema,
    table: names.table,
    relations: names.relations.indexes.concat(names.relations.counter),
    columns: [
      ['position', 'bigint'],
      ['id', 'uuid'],
      ['name', 'text'],
      ['time', 'bigint'],
      ['aggregate_name', 'text'],
      ['aggregate_id', 'uuid'],
      ['aggregate_version', 'integer'],
      ['data', 'jsonb'],
    ],
    ddl,
    complete: `SELECT count(*) = 1 AS ready FROM ${counter}`,
  };
}
