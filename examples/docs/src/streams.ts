/** Code of docs/guides/streams.md, run by ../test/streams.test.ts. */
import { createEvent, createMemoryEventBus, createMemoryEventStore, type Event } from '@goes/event';
// #region helpers
import { drain, fanIn, filter, map, take, walk } from '@goes/streams';

export async function totals(events: AsyncIterable<Event>, signal?: AbortSignal): Promise<number> {
  let total = 0;
  // Walk stops at the first error (of the stream or of the callback) and closes the stream.
  await walk(
    filter(events, (event) => event.name === 'order.paid'),
    (event) => {
      total += (event.data as { amountCents: number }).amountCents;
    },
    { signal },
  );
  return total;
}

export async function firstNames(
  a: AsyncIterable<Event>,
  b: AsyncIterable<Event>,
): Promise<string[]> {
  // Merge two streams, keep the first three names, and close both sources.
  return take(
    map(fanIn([a, b]), (event) => event.name),
    3,
  );
}
// #endregion helpers

export async function demo(): Promise<{ total: number; names: string[]; aborted: boolean }> {
  const store = createMemoryEventStore();
  await store.insert([
    createEvent('order.paid', { amountCents: 100 }),
    createEvent('order.paid', { amountCents: 250 }),
  ]);
  const total = await totals(store.query({}));
  const names = await firstNames(store.query({}), store.query({}));
  const bus = createMemoryEventBus();
  // #region cancel
  // A subscription never ends by itself: bound the wait with a signal.
  const subscription = await bus.subscribe(['order.paid']);
  const aborted = await drain(subscription, { signal: AbortSignal.timeout(50) }).then(
    () => false,
    (error: unknown) => error instanceof DOMException && error.name === 'TimeoutError',
  );
  // #endregion cancel
  await bus.close();
  return { total, names, aborted };
}
