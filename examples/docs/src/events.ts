/**
 * Code of docs/guides/events.md. Each `#region` is shown in the guide; the tests in
 * ../test/events.test.ts run it.
 */
// #region imports
import { createRegistry } from '@goes/codec';
import {
  createEvent,
  createMemoryEventBus,
  createMemoryEventStore,
  type EventOf,
  isVersionConflictError,
  query,
  uuidv7,
  withBus,
} from '@goes/event';
import { drain, first } from '@goes/streams';
// #endregion imports

// #region event-map
/** The events of an order and their data: narrowing on `name` narrows `data`. */
export type OrderEvents = {
  'order.placed': { readonly customerId: string; readonly totalCents: number };
  'order.paid': { readonly amountCents: number };
  'order.cancelled': { readonly reason: string };
};
export type OrderEvent = EventOf<OrderEvents>;

export function describeOrderEvent(event: OrderEvent): string {
  switch (event.name) {
    case 'order.placed':
      return `placed for ${event.data.totalCents} cents`;
    case 'order.paid':
      return `paid ${event.data.amountCents} cents`;
    case 'order.cancelled':
      return `cancelled: ${event.data.reason}`;
  }
}
// #endregion event-map

// #region codec
export const orderCodec = createRegistry<OrderEvents>({ strict: true })
  .register('order.placed')
  .register('order.paid')
  .register('order.cancelled');
// #endregion codec

export async function storeQueryAndSubscribe(): Promise<{ history: string[]; received: string }> {
  // #region store-and-bus
  const bus = createMemoryEventBus({ codec: orderCodec });
  const store = withBus(createMemoryEventStore({ codec: orderCodec }), bus);

  const subscription = await bus.subscribe(['order.paid']);
  const orderId = uuidv7();
  const order = (version: number) => ({ aggregate: { name: 'order', id: orderId, version } });

  await store.insert([
    createEvent('order.placed', { customerId: uuidv7(), totalCents: 4200 }, order(1)),
    createEvent('order.paid', { amountCents: 4200 }, order(2)),
  ]);

  const history = await drain(
    store.query(query().aggregate('order', orderId).sortBy('aggregateVersion')),
  );
  const paid = await first(subscription, { signal: AbortSignal.timeout(1_000) });
  // #endregion store-and-bus
  await store.close();
  await bus.close();
  return {
    history: history.map((event) => describeOrderEvent(event as OrderEvent)),
    received: paid?.name ?? 'nothing',
  };
}

export async function conflictingWrite(): Promise<string> {
  const store = createMemoryEventStore();
  const orderId = uuidv7();
  await store.insert([
    createEvent(
      'order.placed',
      { customerId: uuidv7(), totalCents: 1 },
      { aggregate: { name: 'order', id: orderId, version: 1 } },
    ),
  ]);
  // #region version-conflict
  try {
    // Another writer already stored version 1: this append expected version 0.
    await store.insert([
      createEvent(
        'order.cancelled',
        { reason: 'duplicate' },
        { aggregate: { name: 'order', id: orderId, version: 1 } },
      ),
    ]);
  } catch (error) {
    if (!isVersionConflictError(error)) throw error;
    return `expected ${error.expected}, actual ${error.actual}`;
  }
  // #endregion version-conflict
  return 'no conflict';
}

export function queries() {
  const orderId = uuidv7();
  const since = 1_700_000_000_000_000_000n;
  // #region queries
  const placedSince = query().name('order.placed').after(since).sortByTime();
  const oneOrder = query()
    .aggregate('order', orderId)
    .versionMin(2)
    .sortBy('aggregateVersion', 'desc');
  const afterCheckpoint = query().name('order.paid').afterPosition(1_000);
  // #endregion queries
  return { placedSince, oneOrder, afterCheckpoint };
}
