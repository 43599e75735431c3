import type { EventQuery } from './types.js';
import { validateQuery } from './validate.js';

/**
 * A query in JSON-safe form: nanosecond times as decimal strings. Used to send queries over the
 * wire (projection triggers) and to store them.
 *
 * @example
 * ```ts
 * const wire: JsonQuery = queryToJson(q);
 * ```
 */
export type JsonQuery = { readonly [key: string]: unknown };

/**
 * Converts a query to a JSON-safe object (bigint times become strings).
 *
 * @example
 * ```ts
 * const text = JSON.stringify(queryToJson(query().name('a').timeMin(t)));
 * ```
 */
export function queryToJson(q: EventQuery): JsonQuery {
  const { times, ...rest } = q;
  const json: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(rest)) if (value !== undefined) json[key] = value;
  if (times) {
    const t: Record<string, unknown> = {};
    if (times.exact) t.exact = times.exact.map(String);
    if (times.ranges) t.ranges = times.ranges.map(([a, b]) => [String(a), String(b)]);
    if (times.min !== undefined) t.min = String(times.min);
    if (times.max !== undefined) t.max = String(times.max);
    json.times = t;
  }
  return json;
}

/**
 * Rebuilds a query from {@link queryToJson}'s output and validates it.
 *
 * @throws {@link InvalidQueryError} when the object is not a valid query.
 * @example
 * ```ts
 * const q = queryFromJson(JSON.parse(text));
 * ```
 */
export function queryFromJson(json: JsonQuery): EventQuery {
  const { times, ...rest } = json as Record<string, unknown>;
  const q: Record<string, unknown> = { ...rest };
  if (times !== undefined && times !== null && typeof times === 'object') {
    const t = times as Record<string, unknown>;
    const big = (value: unknown) =>
      typeof value === 'string' && /^-?\d+$/.test(value) ? BigInt(value) : value;
    const converted: Record<string, unknown> = {};
    if (Array.isArray(t.exact)) converted.exact = t.exact.map(big);
    if (Array.isArray(t.ranges)) {
      converted.ranges = t.ranges.map((r: unknown) => (Array.isArray(r) ? r.map(big) : r));
    }
    if (t.min !== undefined) converted.min = big(t.min);
    if (t.max !== undefined) converted.max = big(t.max);
    q.times = converted;
  } else if (times !== undefined) {
    q.times = times;
  }
  validateQuery(q as EventQuery);
  return q as EventQuery;
}
