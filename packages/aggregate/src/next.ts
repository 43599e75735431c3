import {
  type AggregateVersion,
  createEvent,
  type Event,
  type EventMap,
  type EventOf,
  type Nanos,
  nowNanos,
} from '@goes/event';
import type { Aggregate } from './aggregate.js';

/**
 * Options of {@link next}.
 *
 * @example
 * ```ts
 * next(order, 'order.placed', data, { id: commandId });
 * ```
 */
export interface NextOptions {
  /** The event id; defaults to a new UUIDv7. */
  readonly id?: string | undefined;
  /**
   * The event time; defaults to now, moved to 1 ns after the aggregate's last event when the
   * clock is not ahead of it. A time that is not after the last change fails validation on save.
   */
  readonly time?: Nanos | undefined;
}

/**
 * An event raised by {@link next}: always an aggregate event.
 *
 * @example
 * ```ts
 * const event: RaisedEvent<'product.priced', { cents: number }> = next(product, 'product.priced', { cents: 5 });
 * event.aggregate.version; // number
 * ```
 */
export type RaisedEvent<N extends string, D> = Event<N, D> & {
  readonly aggregate: AggregateVersion;
};

/**
 * Raises an event on an aggregate (goes' `aggregate.Next`): builds it with the next version and
 * a nanosecond time strictly after the aggregate's last event, applies it at once, and records
 * it as an uncommitted change. The name must be in the aggregate's event map and the data must
 * have the type the map gives it.
 *
 * @throws what the applier throws (the event is then not recorded), e.g.
 * {@link UnknownEventError} when the aggregate has no applier for the name.
 * @example
 * ```ts
 * class Product extends AggregateRoot<ProductEvents> {
 *   price(cents: number) {
 *     if (cents < 0) throw new Error('negative price');
 *     next(this, 'product.priced', { cents });
 *   }
 * }
 * ```
 */
export function next<M extends EventMap, N extends keyof M & string>(
  aggregate: Aggregate<M>,
  name: N,
  data: M[N],
  options: NextOptions = {},
): RaisedEvent<N, M[N]> {
  const changes = aggregate.changes;
  const last = changes.length > 0 ? changes[changes.length - 1] : undefined;
  const version = (last?.aggregate?.version ?? aggregate.version + changes.length) + 1;
  let time = options.time;
  if (time === undefined) {
    time = nowNanos();
    // goes' nextTime: strictly increasing within the aggregate, even when events come faster
    // than the clock or the previous event was written by a process whose clock runs ahead.
    const previous = last?.time ?? aggregate.lastEventTime;
    if (previous !== undefined && time <= previous) time = previous + 1n;
  }
  const event = createEvent(name, data, {
    id: options.id,
    time,
    aggregate: { name: aggregate.aggregateName, id: aggregate.id, version },
  }) as RaisedEvent<N, M[N]>;
  aggregate.applyEvent(event);
  aggregate.recordChange(event as unknown as EventOf<M>);
  return event;
}
