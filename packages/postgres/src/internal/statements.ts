import type { TableNames } from './names.js';

/** The columns every read selects, in the order {@link decodeRow} expects them. */
export const EVENT_COLUMNS =
  'position, id, name, time, aggregate_name, aggregate_id, aggregate_version, data';

/**
 * The columns of a read limited to one aggregate (see `querySql`), in the order
 * {@link decodeAggregateRow} expects them: the aggregate's name and id are known already.
 */
export const ONE_AGGREGATE_COLUMNS = 'position, id, name, time, aggregate_version, data';

/**
 * The append statement: ONE round trip per batch, whatever its size, and atomic because it is a
 * single statement. Parameters: $1..$7 the column arrays of the batch, $8 the batch size, and
 * (with notifications) $9 the channel.
 *
 * 1. `input` unnests the arrays (with their order as `n`) and parses the data as jsonb; it is
 *    materialised by the version check, i.e. before the counter is locked, which keeps the work
 *    done while holding the lock small.
 * 2. `conflict` finds the first aggregate of the batch whose stored version is not the one the
 *    batch continues from (first version − 1), reading the version from the unique index.
 * 3. `counter` takes the next positions by updating the one-row counter, but only when there is
 *    no conflict. The row lock it takes is held until the statement's transaction commits, so
 *    appends commit in the order of their positions: a reader of `position > p` can never miss
 *    an event that commits later with a lower position (there is none).
 * 4. `inserted` writes the rows only if `counter` produced a row (the join), so a conflict stores
 *    nothing. A concurrent writer that slips in between the check and the insert makes the
 *    unique index on (aggregate_id, aggregate_name, aggregate_version) fail the statement.
 * 5. The result is the last position of the batch, or the conflicting aggregate.
 */
export function insertSql(names: TableNames, notify: boolean): string {
  return `WITH input AS (
  SELECT i.id, i.name, i.time, i.aggregate_name, i.aggregate_id, i.aggregate_version,
    i.data::jsonb AS data, i.n
  FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::text[], $5::uuid[], $6::integer[], $7::text[])
    WITH ORDINALITY AS i(id, name, time, aggregate_name, aggregate_id, aggregate_version, data, n)
), firsts AS (
  SELECT aggregate_id, aggregate_name, min(aggregate_version) AS first
  FROM input WHERE aggregate_version > 0 GROUP BY aggregate_id, aggregate_name
), conflict AS (
  SELECT f.aggregate_name, f.aggregate_id, f.first, s.current
  FROM firsts f CROSS JOIN LATERAL (
    SELECT coalesce(max(e.aggregate_version), 0) AS current FROM ${names.events} e
    WHERE e.aggregate_id = f.aggregate_id AND e.aggregate_name = f.aggregate_name
  ) s
  WHERE s.current <> f.first - 1
  LIMIT 1
), counter AS (
  UPDATE ${names.counter} SET last = last + $8::bigint
  WHERE NOT EXISTS (SELECT FROM conflict) RETURNING last
), inserted AS (
  INSERT INTO ${names.events} (position, id, name, time, aggregate_name, aggregate_id, aggregate_version, data)
  SELECT c.last - $8::bigint + i.n, i.id, i.name, i.time, i.aggregate_name, i.aggregate_id,
    nullif(i.aggregate_version, 0), i.data
  FROM input i CROSS JOIN counter c
)
SELECT (SELECT last FROM counter) AS last, x.aggregate_name, x.aggregate_id, x.first, x.current${
    notify ? ',\n  (SELECT pg_notify($9, last::text) FROM counter) AS notified' : ''
  }
FROM (SELECT) AS one LEFT JOIN conflict x ON true`;
}

/**
 * The append statement for ONE event: the same steps as {@link insertSql} with scalar
 * parameters ($1 id, $2 name, $3 time, $4 aggregate name, $5 aggregate id, $6 version or 0,
 * $7 data, with notifications $8 the channel). Without arrays the planner's estimates do not
 * depend on the values, so PostgreSQL settles on a cached generic plan instead of planning every
 * execution; a single-event append then costs about what a plain INSERT costs.
 */
export function insertOneSql(names: TableNames, notify: boolean): string {
  return `WITH conflict AS (
  SELECT s.current FROM (
    SELECT coalesce(max(e.aggregate_version), 0) AS current FROM ${names.events} e
    WHERE e.aggregate_id = $5::uuid AND e.aggregate_name = $4::text
  ) s
  WHERE $6::integer > 0 AND s.current <> $6::integer - 1
), counter AS (
  UPDATE ${names.counter} SET last = last + 1
  WHERE NOT EXISTS (SELECT FROM conflict) RETURNING last
), inserted AS (
  INSERT INTO ${names.events} (position, id, name, time, aggregate_name, aggregate_id, aggregate_version, data)
  SELECT c.last, $1::uuid, $2::text, $3::bigint, $4::text, $5::uuid, nullif($6::integer, 0), $7::text::jsonb
  FROM counter c
)
SELECT (SELECT last FROM counter) AS last, (SELECT current FROM conflict) AS current${
    notify ? ',\n  (SELECT pg_notify($8, last::text) FROM counter) AS notified' : ''
  }`;
}

/** The stored version of each given aggregate (0 when it has none), in a fresh snapshot. */
export function currentVersionsSql(names: TableNames): string {
  return `SELECT a.n, coalesce(max(e.aggregate_version), 0) AS current
FROM unnest($1::uuid[], $2::text[]) WITH ORDINALITY AS a(aggregate_id, aggregate_name, n)
LEFT JOIN ${names.events} e ON e.aggregate_id = a.aggregate_id AND e.aggregate_name = a.aggregate_name
GROUP BY a.n ORDER BY a.n`;
}

/** One event by id. */
export function findSql(names: TableNames): string {
  return `SELECT ${EVENT_COLUMNS} FROM ${names.events} WHERE id = $1::uuid`;
}

/** Deletes events by id in one statement (atomic); unknown ids match nothing. */
export function deleteSql(names: TableNames): string {
  return `DELETE FROM ${names.events} WHERE id = ANY($1::uuid[])`;
}

/** The highest position handed out so far (0 for an empty store). */
export function lastPositionSql(names: TableNames): string {
  return `SELECT last FROM ${names.counter}`;
}

/**
 * The next page of the feed: events after a position, in position order, each row followed by
 * the counter's last position as of the same snapshot (one row of NULL event columns when the
 * page is empty). Every position up to that horizon is visible in the snapshot, so a page that is
 * not full lets the feed move on to the horizon and not scan the same non-matching rows again.
 */
export function feedSql(names: TableNames, filtered: boolean): string {
  return `SELECT p.*, c.last FROM (
  SELECT ${EVENT_COLUMNS} FROM ${names.events}
  WHERE position > $1::bigint${filtered ? ' AND name = ANY($3::text[])' : ''}
  ORDER BY position LIMIT $2::integer
) p RIGHT JOIN ${names.counter} c ON true
ORDER BY p.position`;
}

/** A prepared statement: parsed once per connection under its name. */
export interface PreparedSql {
  readonly name: string;
  readonly text: string;
}

/** Every statement of a store on one table. */
export interface Statements {
  readonly insert: PreparedSql;
  readonly insertOne: PreparedSql;
  readonly find: PreparedSql;
  readonly delete: PreparedSql;
  readonly feed: PreparedSql;
  readonly feedFiltered: PreparedSql;
  readonly currentVersions: string;
  readonly lastPosition: string;
}

/**
 * The statements of a store. Prepared statement names are per connection, and a pool may serve
 * stores of several tables: the table's tag keeps their names apart.
 */
export function statements(names: TableNames, notify: boolean): Statements {
  const tag = `goes_${names.tag}`;
  const notifying = notify ? '_notify' : '';
  return {
    insert: { name: `${tag}_insert${notifying}`, text: insertSql(names, notify) },
    insertOne: { name: `${tag}_insert_one${notifying}`, text: insertOneSql(names, notify) },
    find: { name: `${tag}_find`, text: findSql(names) },
    delete: { name: `${tag}_delete`, text: deleteSql(names) },
    feed: { name: `${tag}_feed`, text: feedSql(names, false) },
    feedFiltered: { name: `${tag}_feed_names`, text: feedSql(names, true) },
    currentVersions: currentVersionsSql(names),
    lastPosition: lastPositionSql(names),
  };
}
