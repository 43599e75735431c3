import { createHash } from 'node:crypto';
import { quoteIdent } from './identifiers.js';

/**
 * Every name the store derives from its schema and table: quoted relation names for SQL text,
 * plain names for catalog lookups and constraint matching, the LISTEN/NOTIFY channel and the
 * advisory lock key that serialises schema creation.
 */
export interface TableNames {
  readonly schema: string;
  readonly table: string;
  /** `"schema"."table"`, ready for SQL text. */
  readonly events: string;
  /** `"schema"."table_position"`: the one-row position counter. */
  readonly counter: string;
  /** The plain names of the relations in the schema, for catalog lookups. */
  readonly relations: {
    readonly events: string;
    readonly counter: string;
    readonly indexes: readonly string[];
  };
  /** Index and constraint names (unquoted). */
  readonly constraints: {
    readonly primaryKey: string;
    readonly id: string;
    readonly aggregate: string;
    readonly nameTime: string;
    readonly aggregateCheck: string;
  };
  /** The notification channel (a valid identifier of at most 63 bytes). */
  readonly channel: string;
  /** A short hash of schema and table, to name prepared statements per table. */
  readonly tag: string;
}

/** Derives the {@link TableNames} of a validated schema and table name. */
export function tableNames(schema: string, table: string): TableNames {
  const digest = createHash('sha256').update(`goes:${schema}.${table}`).digest();
  const tag = digest.subarray(0, 6).toString('hex');
  const constraints = {
    primaryKey: `${table}_pkey`,
    id: `${table}_id_key`,
    aggregate: `${table}_aggregate_key`,
    nameTime: `${table}_name_time_idx`,
    aggregateCheck: `${table}_ref_check`,
  };
  return {
    schema,
    table,
    events: `${quoteIdent(schema)}.${quoteIdent(table)}`,
    counter: `${quoteIdent(schema)}.${quoteIdent(`${table}_position`)}`,
    relations: {
      events: table,
      counter: `${table}_position`,
      indexes: [
        constraints.primaryKey,
        constraints.id,
        constraints.aggregate,
        constraints.nameTime,
        `${table}_position_pkey`,
      ],
    },
    constraints,
    channel: `goes_${digest.subarray(0, 12).toString('hex')}`,
    tag,
  };
}
