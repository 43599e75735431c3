import {
  type AggregateRef,
  type EventQuery,
  isUuid,
  type SortOption,
  type VersionConstraints,
} from '@goes/event';
import { isStorableText } from './batch.js';
import type { TableNames } from './names.js';
import {
  FALSE,
  inList,
  or,
  Params,
  type SqlStatement,
  textList,
  timeConditions,
} from './sql-conditions.js';
import { EVENT_COLUMNS, ONE_AGGREGATE_COLUMNS } from './statements.js';

export type { SqlStatement };

/** A query's SELECT, and how its rows are laid out. */
export interface EventStatement extends SqlStatement {
  /**
   * Set when the WHERE clause pins every row to this one aggregate: its name and id are then not
   * selected (the rows are {@link ONE_AGGREGATE_COLUMNS}) but taken from here. Two text columns
   * less per row is a measurable part of reading a long history (benchmark PG-R1).
   */
  readonly aggregate?: AggregateRef | undefined;
}

/** Exact aggregate refs up to this many become `OR`ed equalities (index friendly), more an unnest. */
const MAX_INLINE_REFS = 16;

/**
 * Version constraints. Stored versions are NULL for version 0 (see the schema), so every
 * condition that can hold for 0 also accepts NULL; version constraints only match aggregate
 * events, hence the `aggregate_id IS NOT NULL`.
 */
function versionConditions(c: VersionConstraints, p: Params, where: string[]): void {
  const parts: string[] = [];
  if (c.exact && c.exact.length > 0) {
    const exact = [...new Set(c.exact)];
    const positive = exact.filter((v) => v > 0);
    const alternatives: string[] = [];
    if (exact.includes(0)) alternatives.push('aggregate_version IS NULL');
    if (positive.length > 0) alternatives.push(inList('aggregate_version', positive, 'bigint', p));
    parts.push(or(alternatives));
  }
  if (c.ranges && c.ranges.length > 0) {
    parts.push(
      or(
        c.ranges.map(([from, to]) =>
          from === 0
            ? `(aggregate_version IS NULL OR aggregate_version <= ${p.add(to, 'bigint')})`
            : `(aggregate_version >= ${p.add(from, 'bigint')} AND aggregate_version <= ${p.add(to, 'bigint')})`,
        ),
      ),
    );
  }
  if (c.min && c.min.length > 0) {
    const lowest = Math.min(...c.min);
    if (lowest > 0) parts.push(`aggregate_version >= ${p.add(lowest, 'bigint')}`);
  }
  if (c.max && c.max.length > 0) {
    const highest = Math.max(...c.max);
    parts.push(`(aggregate_version IS NULL OR aggregate_version <= ${p.add(highest, 'bigint')})`);
  }
  const present =
    (c.exact?.length ?? 0) + (c.ranges?.length ?? 0) + (c.min?.length ?? 0) + (c.max?.length ?? 0);
  if (present > 0) where.push('aggregate_id IS NOT NULL', ...parts);
}

function aggregateConditions(
  filters: NonNullable<EventQuery['aggregates']>,
  p: Params,
  where: string[],
): void {
  const anyId = new Set<string>();
  const exact = new Map<string, { name: string; id: string }>();
  for (const filter of filters) {
    if (!isStorableText(filter.name)) continue;
    if (filter.id === undefined) anyId.add(filter.name);
    else exact.set(`${filter.name}\u0000${filter.id}`, { name: filter.name, id: filter.id });
  }
  const alternatives: string[] = [];
  if (anyId.size > 0) alternatives.push(inList('aggregate_name', [...anyId], 'text', p));
  const refs = [...exact.values()].filter((ref) => !anyId.has(ref.name));
  if (refs.length > MAX_INLINE_REFS) {
    alternatives.push(
      `(aggregate_id, aggregate_name) IN (SELECT * FROM unnest(${p.add(
        refs.map((r) => r.id),
        'uuid[]',
      )}, ${p.add(
        refs.map((r) => r.name),
        'text[]',
      )}))`,
    );
  } else {
    for (const ref of refs) {
      alternatives.push(
        `(aggregate_id = ${p.add(ref.id, 'uuid')} AND aggregate_name = ${p.add(ref.name, 'text')})`,
      );
    }
  }
  where.push(or(alternatives));
}

/**
 * The ORDER BY of a sort: events without an aggregate sort as if name and id were "" and the
 * version 0 (NULLs first ascending, last descending; no stored version is 0, see the schema),
 * and remaining ties are broken by position, exactly like `eventComparator`.
 */
function orderBy(sort: readonly SortOption[] | undefined): string {
  const keys: string[] = [];
  for (const { by, dir } of sort ?? []) {
    const direction = dir === 'desc' ? 'DESC' : 'ASC';
    const nulls = dir === 'desc' ? 'NULLS LAST' : 'NULLS FIRST';
    if (by === 'position') {
      keys.push(`position ${direction}`);
      return keys.join(', ');
    }
    if (by === 'time') keys.push(`time ${direction}`);
    else if (by === 'aggregateName') keys.push(`aggregate_name ${direction} ${nulls}`);
    else if (by === 'aggregateId') keys.push(`aggregate_id ${direction} ${nulls}`);
    else keys.push(`aggregate_version ${direction} ${nulls}`);
  }
  keys.push('position ASC');
  return keys.join(', ');
}

/**
 * True when the query reads versioned events (version ≥ 1) of exactly one aggregate in position
 * order, like a repository fetch. Then version order is position order: an append must continue
 * the stored version, so a higher version of one aggregate always commits later and gets a
 * higher position. Ordering by version lets PostgreSQL read the unique index in order instead of
 * sorting.
 */
function oneAggregateByVersion(q: EventQuery): boolean {
  if (q.sort && q.sort.length > 0 && q.sort[0]?.by !== 'position') return false;
  if (q.sort?.[0]?.dir === 'desc') return false;
  const refs = q.aggregates ?? [];
  if (refs.length !== 1 || refs[0]?.id === undefined) return false;
  const v = q.aggregateVersions;
  if (!v) return false;
  const mins = v.min ?? [];
  const positive =
    (mins.length > 0 && Math.min(...mins) >= 1) ||
    ((v.exact?.length ?? 0) > 0 && (v.exact ?? []).every((x) => x >= 1)) ||
    ((v.ranges?.length ?? 0) > 0 && (v.ranges ?? []).every(([from]) => from >= 1));
  return positive;
}

/**
 * The one aggregate a query is limited to, when every matching row must have exactly this name
 * and id as stored text: one `aggregates` filter with an id, no filter by name alone. The id must
 * be canonical (lowercase) because PostgreSQL prints a uuid that way whatever way it was written
 * in the filter, and the event must hold what is stored.
 */
function pinnedAggregate(q: EventQuery): AggregateRef | undefined {
  const filters = q.aggregates ?? [];
  const first = filters[0];
  if (!first || first.id === undefined || !isUuid(first.id) || !isStorableText(first.name)) {
    return undefined;
  }
  const same = filters.every((f) => f.name === first.name && f.id === first.id);
  return same ? { name: first.name, id: first.id } : undefined;
}

/**
 * Translates a validated {@link EventQuery} into one SELECT whose result is exactly what
 * `matches()` selects, in the order `eventComparator` gives (position order without a sort).
 */
export function querySql(q: EventQuery, names: TableNames): EventStatement {
  const p = new Params();
  const where: string[] = [];
  if (q.names && q.names.length > 0) where.push(textList('name', q.names, p));
  if (q.ids && q.ids.length > 0) where.push(inList('id', [...new Set(q.ids)], 'uuid', p));
  if (q.times) timeConditions(q.times, p, where);
  if (q.aggregateNames && q.aggregateNames.length > 0)
    where.push(textList('aggregate_name', q.aggregateNames, p));
  if (q.aggregateIds && q.aggregateIds.length > 0)
    where.push(inList('aggregate_id', [...new Set(q.aggregateIds)], 'uuid', p));
  if (q.aggregateVersions) versionConditions(q.aggregateVersions, p, where);
  if (q.aggregates && q.aggregates.length > 0) aggregateConditions(q.aggregates, p, where);
  if (q.positions?.min !== undefined) where.push(`position >= ${p.add(q.positions.min, 'bigint')}`);
  if (q.positions?.max !== undefined) where.push(`position <= ${p.add(q.positions.max, 'bigint')}`);
  const aggregate = pinnedAggregate(q);
  const columns = aggregate ? ONE_AGGREGATE_COLUMNS : EVENT_COLUMNS;
  const select = `SELECT ${columns} FROM ${names.events}`;
  const order = `ORDER BY ${oneAggregateByVersion(q) ? 'aggregate_version ASC' : orderBy(q.sort)}`;
  // A category that can match nothing makes the whole query match nothing; its parameters
  // are dropped with the conditions (PostgreSQL refuses parameters the text does not use).
  if (where.includes(FALSE)) {
    return { text: `${select} WHERE false ${order}`, values: [], aggregate };
  }
  const filter = where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '';
  return { text: `${select}${filter} ${order}`, values: p.values, aggregate };
}
