import type { AggregateRef, EventQuery } from '@goes/event';

/**
 * A canonical text for a query (object keys sorted, bigints as decimal strings, empty parts
 * dropped), used to recognise identical store reads within a job. Unlike goes' SHA-256 of
 * `fmt.Sprintf("%v")`, two different queries can never share a key.
 *
 * @internal
 */
export function queryKey(q: EventQuery): string {
  return JSON.stringify(canonical(q)) ?? '';
}

function canonical(value: unknown): unknown {
  if (typeof value === 'bigint') return `${value}n`;
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const entry = (value as Record<string, unknown>)[key];
      if (entry === undefined) continue;
      out[key] = canonical(entry);
    }
    return out;
  }
  return value;
}

/**
 * Combines a query with "events of aggregate `ref`": undefined when no event can match both.
 *
 * @internal
 */
export function narrowToAggregate(q: EventQuery, ref: AggregateRef): EventQuery | undefined {
  const filters = q.aggregates;
  if (filters && filters.length > 0) {
    const allowed = filters.some(
      (f) => f.name === ref.name && (f.id === undefined || f.id === ref.id),
    );
    if (!allowed) return undefined;
  }
  return { ...q, aggregates: [{ name: ref.name, id: ref.id }] };
}
