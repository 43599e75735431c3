/** Code of docs/backends/*.md, run by ../test/backends.test.ts. */
import { createMemorySnapshotStore } from '@goes/aggregate';
import { createDistributedCommandBus } from '@goes/command';
import {
  createEvent,
  createMemoryEventBus,
  createMemoryEventStore,
  type Event,
  uuidv7,
  withBus,
} from '@goes/event';
import { createNatsEventBus } from '@goes/nats';
import { createMemoryModelRepository } from '@goes/projection';
import { first } from '@goes/streams';
import { orderCodec } from './events.js';
import { OrderSummary } from './projections.js';

export async function inMemory() {
  // #region memory
  const bus = createMemoryEventBus({ codec: orderCodec, bufferSize: 4_096 });
  const store = withBus(createMemoryEventStore({ codec: orderCodec }), bus);
  const snapshots = createMemorySnapshotStore();
  const summaries = createMemoryModelRepository<OrderSummary>();
  // #endregion memory
  const orderId = uuidv7();
  const [stored] = await store.insert([
    createEvent(
      'order.placed',
      { customerId: uuidv7(), totalCents: 100 },
      { aggregate: { name: 'order', id: orderId, version: 1 } },
    ),
  ]);
  await summaries.save(new OrderSummary(orderId));
  const result = { position: stored?.position, models: summaries.size };
  await snapshots.close();
  await store.close();
  await bus.close();
  return result;
}

export async function natsCore(url: string, prefix: string) {
  // #region nats-core
  const bus = createNatsEventBus({ url, codec: orderCodec, subjectPrefix: `${prefix}.events` });
  const store = withBus(createMemoryEventStore({ codec: orderCodec }), bus); // any store
  // Commands between processes: the protocol on a core-NATS bus and a prefix of its own.
  const transport = createNatsEventBus({ url, subjectPrefix: `${prefix}.commands` });
  const commands = createDistributedCommandBus(transport);

  const subscription = await bus.subscribe(['order.placed']);
  await store.insert([
    createEvent(
      'order.placed',
      { customerId: uuidv7(), totalCents: 4_200 },
      { aggregate: { name: 'order', id: uuidv7(), version: 1 } },
    ),
  ]);
  const received = await first(subscription, { signal: AbortSignal.timeout(5_000) });
  // #endregion nats-core
  await commands.close();
  await transport.close();
  await bus.close();
  return received?.data;
}

export async function natsJetStream(url: string, prefix: string, stream: string) {
  let received: Event | undefined;
  // #region nats-jetstream
  const bus = createNatsEventBus({
    driver: 'jetstream',
    url,
    codec: orderCodec,
    subjectPrefix: `${prefix}.events`,
    jetstream: { stream, storage: 'file', maxAge: 7 * 86_400_000, maxDeliver: 5 },
  });
  // A durable consumer: events published while its process was down arrive after a restart.
  const billing = await bus.subscribe(['order.placed'], { durable: 'billing' });
  await bus.publish([createEvent('order.placed', { customerId: uuidv7(), totalCents: 990 })]);
  for await (const event of billing) {
    received = event; // acknowledged when the loop asks for the next event
    break; // leaving the loop with an event in hand: it is delivered again later
  }
  // #endregion nats-jetstream
  await billing.close();
  await bus.close();
  return received?.data;
}
