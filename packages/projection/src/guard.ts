import {
  compileQuery,
  type Event,
  type EventMap,
  type EventQuery,
  InvalidArgumentError,
  validateQuery,
} from '@goes/event';
import type { Guard } from './target.js';

/**
 * A guard built from a query (goes' `QueryGuard`): an event is accepted when it
 * {@link matches} the query. Time, name, aggregate, version and position constraints all work,
 * so time-based guards stay available next to position-based progress.
 *
 * @throws {@link InvalidQueryError} for a malformed query.
 * @example
 * ```ts
 * class RecentOrders implements Target, Guard {
 *   readonly guardProjection = queryGuard(query().name('order.placed').timeMin(since)).guardProjection;
 *   applyEvent(event: Event) {}
 * }
 * ```
 */
export function queryGuard(q: EventQuery): Guard {
  validateQuery(q);
  const test = compileQuery(q);
  return { guardProjection: (event) => test(event) };
}

/**
 * Per-name guard functions of an event map: the guard of an event's name decides; events whose
 * name has no guard are rejected (goes' `projection/guard`).
 *
 * @example
 * ```ts
 * const guards: EventGuards<ShopEvents> = { 'order.placed': (e) => e.data.total > 0 };
 * ```
 */
export type EventGuards<M extends EventMap> = {
  readonly [N in keyof M & string]?: (event: Event<N, M[N]>) => boolean;
};

/**
 * Builds a guard from per-name functions (goes' `guard.New(guard.Event(...), guard.Any(...))`).
 * Events whose name has no function are rejected, as in goes. Data is typed by the event map;
 * goes' runtime cast failure has no counterpart because data is not cast.
 *
 * @throws {@link InvalidArgumentError} when a value is not a function.
 * @example
 * ```ts
 * const guard = eventGuard<ShopEvents>({
 *   'order.placed': (event) => event.data.total > 0,
 *   'order.cancelled': () => true,
 * });
 * await apply(target, events, { guard: guard.guardProjection });
 * ```
 */
export function eventGuard<M extends EventMap = EventMap>(guards: EventGuards<M>): Guard {
  const table = new Map<string, (event: Event) => boolean>();
  for (const [name, fn] of Object.entries(guards)) {
    if (fn === undefined) continue;
    if (typeof fn !== 'function') {
      throw new InvalidArgumentError(
        `eventGuard: the guard of ${JSON.stringify(name)} must be a function`,
      );
    }
    table.set(name, fn as (event: Event) => boolean);
  }
  return {
    guardProjection(event) {
      const fn = table.get(event.name);
      return fn?.(event) ?? false;
    },
  };
}
