import type { TimeConstraints } from '@goes/event';
import { isStorableText, MAX_INT64, MIN_INT64 } from './batch.js';

/** SQL text with its parameters. */
export interface SqlStatement {
  readonly text: string;
  readonly values: unknown[];
}

/** Collects parameters and hands out their `$n::type` placeholders. */
export class Params {
  readonly values: unknown[] = [];

  add(value: unknown, type: string): string {
    this.values.push(value);
    return `$${this.values.length}::${type}`;
  }
}

/** A condition that holds for no row. */
export const FALSE = 'false';

/** `column = $n` for one value, `column = ANY($n)` for several. */
export function inList(
  column: string,
  values: readonly unknown[],
  type: string,
  p: Params,
): string {
  if (values.length === 1) return `${column} = ${p.add(values[0], type)}`;
  return `${column} = ANY(${p.add(values, `${type}[]`)})`;
}

/**
 * Strings no stored event can hold (NUL, lone surrogates) are dropped: they cannot match, and
 * sending them would make PostgreSQL fail the query instead of answering "nothing".
 */
export function textList(column: string, values: readonly string[], p: Params): string {
  const storable = [...new Set(values.filter(isStorableText))];
  return storable.length === 0 ? FALSE : inList(column, storable, 'text', p);
}

export function or(parts: readonly string[]): string {
  if (parts.length === 0) return FALSE;
  return parts.length === 1 ? (parts[0] as string) : `(${parts.join(' OR ')})`;
}

const inInt64 = (t: bigint): boolean => t >= MIN_INT64 && t <= MAX_INT64;
const clamp = (t: bigint): bigint => (t < MIN_INT64 ? MIN_INT64 : t > MAX_INT64 ? MAX_INT64 : t);

/** Time constraints; bounds outside `bigint` are clamped (every stored time is inside). */
export function timeConditions(c: TimeConstraints, p: Params, where: string[]): void {
  if (c.exact && c.exact.length > 0) {
    const exact = [...new Set(c.exact.filter(inInt64))].map(String);
    where.push(exact.length === 0 ? FALSE : inList('time', exact, 'bigint', p));
  }
  if (c.ranges && c.ranges.length > 0) {
    const ranges = c.ranges
      .filter(([from, to]) => from <= MAX_INT64 && to >= MIN_INT64)
      .map(
        ([from, to]) =>
          `(time >= ${p.add(String(clamp(from)), 'bigint')} AND time <= ${p.add(String(clamp(to)), 'bigint')})`,
      );
    where.push(or(ranges));
  }
  if (c.min !== undefined) {
    if (c.min > MAX_INT64) where.push(FALSE);
    else if (c.min > MIN_INT64) where.push(`time >= ${p.add(String(c.min), 'bigint')}`);
  }
  if (c.max !== undefined) {
    if (c.max < MIN_INT64) where.push(FALSE);
    else if (c.max < MAX_INT64) where.push(`time <= ${p.add(String(c.max), 'bigint')}`);
  }
}
