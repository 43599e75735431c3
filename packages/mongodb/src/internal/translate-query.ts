import type {
  EventQuery,
  SortField,
  SortOption,
  TimeConstraints,
  VersionConstraints,
} from '@goes/event';
import type { Document, Filter, Sort } from 'mongodb';
import {
  type EventDocument,
  formatPosition,
  INT64_MAX,
  INT64_MIN,
  isStorableString,
} from './documents.js';

/**
 * A translated query: the filter clauses (ANDed, without the visibility bound, which is only
 * known when the query runs) and the sort, or `undefined` when the query can match nothing
 * (e.g. only names no document can hold), so the store answers without a round trip.
 *
 * @internal
 */
export interface TranslatedQuery {
  readonly clauses: readonly Filter<EventDocument>[];
  readonly positionMin: number | undefined;
  readonly positionMax: number | undefined;
  readonly sort: Sort;
}

const SORT_FIELDS: Record<SortField, keyof EventDocument> = {
  time: 'time',
  aggregateName: 'aggregateName',
  aggregateId: 'aggregateId',
  aggregateVersion: 'aggregateVersion',
  position: '_id',
};

/**
 * Translates a validated {@link EventQuery} into a MongoDB filter and sort with exactly the
 * semantics of `matches()` and `sortEvents()`:
 *
 * - every user string is a value (in `$in` lists or equality), never a key, so `$`-prefixed or
 *   dotted names cannot become operators or paths;
 * - events without an aggregate are stored with aggregate name `""`, id `""` and version 0, so
 *   they sort as `compareBy` says; aggregate filters cannot match them (query values are
 *   non-empty), and version filters exclude them explicitly;
 * - times outside the int64 range are clamped (a bound beyond the range matches nothing or
 *   everything, as it would on unbounded integers);
 * - ties are broken by position; sort keys repeated later in the list are dropped, since an
 *   earlier key on the same field already decided every order they could.
 *
 * @internal
 */
export function translateQuery(q: EventQuery): TranslatedQuery | undefined {
  const clauses: Filter<EventDocument>[] = [];
  let excludesTombstones = false;

  if (q.names && q.names.length > 0) {
    const names = q.names.filter(isStorableString);
    if (names.length === 0) return undefined;
    clauses.push({ name: { $in: names } });
    excludesTombstones = true;
  }
  if (q.ids && q.ids.length > 0) {
    clauses.push({ id: { $in: [...q.ids] } });
    excludesTombstones = true;
  }
  if (q.times) {
    const time = timeClauses(q.times, 'time');
    if (time === false) return undefined;
    if (time.length > 0) excludesTombstones = true;
    clauses.push(...(time as Filter<EventDocument>[]));
  }
  if (q.aggregateNames && q.aggregateNames.length > 0) {
    const names = q.aggregateNames.filter(isStorableString);
    if (names.length === 0) return undefined;
    clauses.push({ aggregateName: { $in: names } });
  }
  if (q.aggregateIds && q.aggregateIds.length > 0) {
    clauses.push({ aggregateId: { $in: [...q.aggregateIds] } });
  }
  if (q.aggregateVersions) {
    const version = versionClauses(q.aggregateVersions, 'aggregateVersion');
    if (version.length > 0) {
      // Version constraints only match aggregate events; others are stored with version 0.
      clauses.push({ aggregateName: { $gt: '' } }, ...(version as Filter<EventDocument>[]));
    }
  }
  if (q.aggregates && q.aggregates.length > 0) {
    const refs = q.aggregates
      .filter((ref) => isStorableString(ref.name))
      .map(
        (ref): Filter<EventDocument> =>
          ref.id === undefined
            ? { aggregateName: ref.name }
            : { aggregateName: ref.name, aggregateId: ref.id },
      );
    if (refs.length === 0) return undefined;
    clauses.push(refs.length === 1 ? (refs[0] as Filter<EventDocument>) : { $or: refs });
  }
  // Tombstones have no name, id or time; those of deleted versions keep their aggregate fields.
  if (!excludesTombstones) clauses.push({ deleted: { $exists: false } });
  const { min, max } = q.positions ?? {};
  if (max !== undefined && (max < 1 || (min !== undefined && min > max))) return undefined;

  return {
    clauses,
    positionMin: q.positions?.min,
    positionMax: q.positions?.max,
    sort: translateSort(q.sort ?? []),
  };
}

/**
 * The complete filter of a translated query when everything up to `horizon` is visible.
 * Returns `undefined` when the position bounds leave nothing to read.
 *
 * @internal
 */
export function withVisibility(
  translated: TranslatedQuery,
  horizon: number,
): Filter<EventDocument> | undefined {
  const max = Math.min(horizon, translated.positionMax ?? horizon);
  const min = translated.positionMin ?? 1;
  if (max < 1 || min > max) return undefined;
  const position: Document = { $lte: formatPosition(max) };
  if (min > 1) position.$gte = formatPosition(min);
  const clauses = [{ _id: position } as Filter<EventDocument>, ...translated.clauses];
  return { $and: clauses };
}

/**
 * The clauses of time constraints on `field` (an int64 of nanoseconds), with bounds beyond the
 * int64 range clamped; `false` when they can match nothing.
 *
 * @internal
 */
export function timeClauses(times: TimeConstraints, field: string): Filter<Document>[] | false {
  const clauses: Filter<Document>[] = [];
  if (times.exact && times.exact.length > 0) {
    const exact = times.exact.filter((t) => t >= INT64_MIN && t <= INT64_MAX);
    if (exact.length === 0) return false;
    clauses.push({ [field]: { $in: exact } });
  }
  if (times.ranges && times.ranges.length > 0) {
    const ranges = times.ranges
      .filter(([from, to]) => to >= INT64_MIN && from <= INT64_MAX)
      .map(([from, to]): Filter<Document> => ({ [field]: { $gte: clamp(from), $lte: clamp(to) } }));
    if (ranges.length === 0) return false;
    clauses.push(ranges.length === 1 ? (ranges[0] as Filter<Document>) : { $or: ranges });
  }
  if (times.min !== undefined) {
    if (times.min > INT64_MAX) return false;
    clauses.push({ [field]: { $gte: clamp(times.min) } });
  }
  if (times.max !== undefined) {
    if (times.max < INT64_MIN) return false;
    clauses.push({ [field]: { $lte: clamp(times.max) } });
  }
  return clauses;
}

function clamp(time: bigint): bigint {
  return time < INT64_MIN ? INT64_MIN : time > INT64_MAX ? INT64_MAX : time;
}

/**
 * The clauses of version constraints on `field`. goes' `min`/`max` are lists meaning ">= at
 * least one" / "<= at least one", so they become the smallest minimum and the largest maximum
 * (goes compared the field with the whole list, bug 6).
 *
 * @internal
 */
export function versionClauses(versions: VersionConstraints, field: string): Filter<Document>[] {
  const clauses: Filter<Document>[] = [];
  if (versions.exact && versions.exact.length > 0) {
    clauses.push({ [field]: { $in: [...versions.exact] } });
  }
  if (versions.ranges && versions.ranges.length > 0) {
    const ranges = versions.ranges.map(
      ([from, to]): Filter<Document> => ({ [field]: { $gte: from, $lte: to } }),
    );
    clauses.push(ranges.length === 1 ? (ranges[0] as Filter<Document>) : { $or: ranges });
  }
  if (versions.min && versions.min.length > 0) {
    clauses.push({ [field]: { $gte: Math.min(...versions.min) } });
  }
  if (versions.max && versions.max.length > 0) {
    clauses.push({ [field]: { $lte: Math.max(...versions.max) } });
  }
  return clauses;
}

function translateSort(sort: readonly SortOption[]): Sort {
  const keys: [string, 1 | -1][] = [];
  const seen = new Set<string>();
  for (const { by, dir } of sort) {
    const field = SORT_FIELDS[by];
    if (seen.has(field)) continue;
    seen.add(field);
    keys.push([field, dir === 'desc' ? -1 : 1]);
  }
  if (!seen.has('_id')) keys.push(['_id', 1]);
  return keys;
}
