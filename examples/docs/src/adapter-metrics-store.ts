/**
 * The second worked example of docs/writing-an-adapter.md: an event store decorator that counts
 * what passes through it, and still passes `eventStoreConformance` (../test/adapter.test.ts).
 */
// #region decorator
import type { Event, EventQuery, EventStore, SignalOptions } from '@goes/event';

export interface StoreMetrics {
  inserts: number;
  eventsInserted: number;
  queries: number;
  eventsRead: number;
}

export function withMetrics(store: EventStore): EventStore & { readonly metrics: StoreMetrics } {
  const metrics: StoreMetrics = { inserts: 0, eventsInserted: 0, queries: 0, eventsRead: 0 };

  async function* counted(events: AsyncIterable<Event>): AsyncGenerator<Event> {
    // for await closes the inner cursor when the caller breaks out or an error is thrown.
    for await (const event of events) {
      metrics.eventsRead++;
      yield event;
    }
  }

  return {
    metrics,
    async insert(events: readonly Event[], options?: SignalOptions) {
      const stored = await store.insert(events, options);
      metrics.inserts++;
      metrics.eventsInserted += stored.length;
      return stored;
    },
    find: (id, options) => store.find(id, options),
    query(query: EventQuery, options?: SignalOptions) {
      // Call the inner store now, not inside the generator: a malformed query must throw at
      // call, as the contract says.
      const events = store.query(query, options);
      metrics.queries++;
      return counted(events);
    },
    delete: (events, options) => store.delete(events, options),
    close: () => store.close(),
    [Symbol.asyncDispose]: () => store.close(),
  };
}
// #endregion decorator
