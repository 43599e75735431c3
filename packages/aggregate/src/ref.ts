import type { AggregateRef } from '@goes/event';
import type { Aggregate } from './aggregate.js';

/**
 * The ref `{ name, id }` of an aggregate.
 *
 * @example
 * ```ts
 * formatRef(refOf(product)); // 'product(0190a6f1-...)'
 * ```
 */
export function refOf(aggregate: Pick<Aggregate, 'aggregateName' | 'id'>): AggregateRef {
  return { name: aggregate.aggregateName, id: aggregate.id };
}

/**
 * The distinct non-empty names of `refs`, in first-seen order (goes' `ref.Names`).
 *
 * @example
 * ```ts
 * refNames([{ name: 'a', id: x }, { name: 'b', id: y }, { name: 'a', id: z }]); // ['a', 'b']
 * ```
 */
export function refNames(refs: Iterable<AggregateRef>): string[] {
  const names = new Set<string>();
  for (const ref of refs) if (ref.name) names.add(ref.name);
  return [...names];
}

/**
 * The distinct non-empty ids of `refs`, in first-seen order (goes' `ref.IDs`).
 *
 * @example
 * ```ts
 * refIds(refs); // ['0190a6f1-...', ...]
 * ```
 */
export function refIds(refs: Iterable<AggregateRef>): string[] {
  const ids = new Set<string>();
  for (const ref of refs) if (ref.id) ids.add(ref.id);
  return [...ids];
}

/**
 * The distinct ids of the refs named `name`, in first-seen order (goes' `ref.Aggregates`).
 *
 * @example
 * ```ts
 * refIdsOf('product', refs); // ids of the product refs only
 * ```
 */
export function refIdsOf(name: string, refs: Iterable<AggregateRef>): string[] {
  const ids = new Set<string>();
  for (const ref of refs) if (ref.name === name && ref.id) ids.add(ref.id);
  return [...ids];
}
