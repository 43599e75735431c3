import { first } from '@goes/streams';
import type { EventBus, SignalOptions } from './contracts.js';
import type { Event } from './event.js';

/**
 * What {@link awaitEvent} resolves to once it is subscribed: `event` settles with the next
 * matching event (or `undefined` when the bus closes first, or rejects on abort).
 *
 * @example
 * ```ts
 * const { event }: AwaitingEvent = await awaitEvent(bus, ['order.placed']);
 * ```
 */
export interface AwaitingEvent {
  readonly event: Promise<Event | undefined>;
}

/**
 * Waits for the next event with one of `names` on `bus` (goes' `eventbus.Await`) and
 * unsubscribes. It resolves once subscribed, so the event can be caused afterwards without being
 * missed: await it, cause the event, then await `event`. (The pending event is wrapped in an
 * object because an async function cannot resolve to a promise: it would wait for the event.)
 *
 * @example
 * ```ts
 * const { event } = await awaitEvent(bus, ['order.placed'], { signal: AbortSignal.timeout(1_000) });
 * await placeOrder();
 * const placed = await event; // the order.placed event
 * ```
 */
export async function awaitEvent(
  bus: EventBus,
  names: readonly string[],
  options: SignalOptions = {},
): Promise<AwaitingEvent> {
  const subscription = await bus.subscribe(names, options);
  return { event: first(subscription, options).finally(() => subscription.close()) };
}
