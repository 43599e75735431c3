import type { Codec } from '@goes/codec';
import type { AggregateRef, AggregateVersion, Event } from '@goes/event';
import type { CustomTypesConfig } from 'pg';

/** A result row as text, one entry per column (see {@link RAW_TYPES}). */
export type TextRow = (string | null)[];

const identity = (value: string): string => value;

/**
 * Per-query type parsers that return every column as PostgreSQL's text. The store parses the
 * few columns itself (bigint times exactly, jsonb only once through the codec) and never depends
 * on, or changes, the process-wide type parsers of `pg` that other code may have set.
 */
export const RAW_TYPES: CustomTypesConfig = {
  getTypeParser: (() => identity) as unknown as CustomTypesConfig['getTypeParser'],
};

/** Builds the event of a row; the data is decoded by the codec (its only parse). */
export function decodeRow(row: TextRow, codec: Codec): Event {
  const name = row[2] as string;
  const aggregateName = row[4];
  const data = codec.decode(name, row[7] as string);
  if (aggregateName === null || aggregateName === undefined) {
    return {
      id: row[1] as string,
      name,
      time: BigInt(row[3] as string),
      data,
      position: Number(row[0]),
    };
  }
  const version = row[6];
  const aggregate: AggregateVersion = {
    name: aggregateName,
    id: row[5] as string,
    version: version === null || version === undefined ? 0 : Number(version),
  };
  return {
    id: row[1] as string,
    name,
    time: BigInt(row[3] as string),
    data,
    aggregate,
    position: Number(row[0]),
  };
}

/**
 * Builds the event of a row of a read limited to one aggregate (`ONE_AGGREGATE_COLUMNS`): the
 * WHERE clause guarantees every row belongs to `ref`, so its name and id come from there.
 */
export function decodeAggregateRow(row: TextRow, codec: Codec, ref: AggregateRef): Event {
  const name = row[2] as string;
  const version = row[4];
  return {
    id: row[1] as string,
    name,
    time: BigInt(row[3] as string),
    data: codec.decode(name, row[5] as string),
    aggregate: {
      name: ref.name,
      id: ref.id,
      version: version === null || version === undefined ? 0 : Number(version),
    },
    position: Number(row[0]),
  };
}
