import { first } from '@goes/streams';
import type { EventBus, SignalOptions } from './contracts.js';
import type { Event } from './event.js';

/**
 * Waits for the next event with one of `names` on `bus` (goes' `eventbus.Await`) and
 * unsubscribes. The subscription is made before this returns a promise that can be awaited
 * while the event is triggered elsewhere: call it, then cause the event, then await.
 *
 * @example
 * ```ts
 * const placed = await awaitEvent(bus, ['order.placed'], { signal: AbortSignal.timeout(1_000) });
 * const waiting = await placed; // resolves with the event
 * ```
 */
export async function awaitEvent(
  bus: EventBus,
  names: readonly string[],
  options: SignalOptions = {},
): Promise<Promise<Event | undefined>> {
  const subscription = await bus.subscribe(names, options);
  return first(subscription, options).finally(() => subscription.close());
}
