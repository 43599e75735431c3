import type { EventBus, EventStore, SignalOptions } from './contracts.js';
import type { Event } from './event.js';
import type { EventQuery } from './query/types.js';

/**
 * Options of {@link withBus}.
 *
 * @example
 * ```ts
 * withBus(store, bus, { onPublishError: (error, events) => log.error({ error, count: events.length }) });
 * ```
 */
export interface WithBusOptions {
  /**
   * Called when publishing stored events fails. The insert still succeeds: the events are stored,
   * and the store stays the source of truth (readers catch up from it by position). Defaults to
   * a `console.error` line.
   */
  readonly onPublishError?: ((error: unknown, events: readonly Event[]) => void) | undefined;
}

/**
 * Decorates a store so that every successful insert publishes the stored events (with their
 * positions) on `bus` (goes' `eventstore.WithBus`). Unlike goes, a failed publish never makes a
 * stored event look unsaved: `insert` resolves, and the failure goes to `onPublishError`.
 *
 * @example
 * ```ts
 * const store = withBus(createMemoryEventStore(), bus);
 * await store.insert([event]); // stored, then published
 * ```
 */
export function withBus(
  store: EventStore,
  bus: EventBus,
  options: WithBusOptions = {},
): EventStore {
  const onPublishError =
    options.onPublishError ??
    ((error: unknown, events: readonly Event[]) => {
      console.error(`goes: ${events.length} stored event(s) could not be published:`, error);
    });
  return {
    async insert(
      events: readonly Event[],
      insertOptions?: SignalOptions,
    ): Promise<readonly Event[]> {
      const stored = await store.insert(events, insertOptions);
      if (stored.length === 0) return stored;
      try {
        await bus.publish(stored);
      } catch (error) {
        try {
          onPublishError(error, stored);
        } catch {
          // The events are stored: a failing error handler must not make them look unsaved.
        }
      }
      return stored;
    },
    find: (id: string, findOptions?: SignalOptions) => store.find(id, findOptions),
    query: (q: EventQuery, queryOptions?: SignalOptions) => store.query(q, queryOptions),
    delete: (events: readonly { readonly id: string }[], deleteOptions?: SignalOptions) =>
      store.delete(events, deleteOptions),
    close: () => store.close(),
    [Symbol.asyncDispose]: () => store.close(),
  };
}
