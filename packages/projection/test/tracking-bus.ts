import type { EventBus, Subscription } from '@goes/event';

/** A bus that counts the subscriptions opened through it and not closed yet (leak checks). */
export function trackingBus(bus: EventBus): { bus: EventBus; open: () => number } {
  const live = new Set<Subscription>();
  const tracked: EventBus = {
    publish: (events, options) => bus.publish(events, options),
    subscribe: async (names, options) => {
      const inner = await bus.subscribe(names, options);
      const close = async () => {
        live.delete(wrapped);
        await inner.close();
      };
      const wrapped: Subscription = {
        names: inner.names,
        close,
        [Symbol.asyncIterator]: () => inner[Symbol.asyncIterator](),
        [Symbol.asyncDispose]: close,
      };
      live.add(wrapped);
      return wrapped;
    },
    close: () => bus.close(),
    [Symbol.asyncDispose]: () => bus.close(),
  };
  return { bus: tracked, open: () => live.size };
}
