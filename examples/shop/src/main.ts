/**
 * The goes example shop, step by step on the in-memory backends: create product events, store
 * them (which publishes them), query them back, and watch a subscriber receive them.
 */
import {
  createEvent,
  createMemoryEventBus,
  createMemoryEventStore,
  formatNanos,
  query,
  uuidv7,
  withBus,
} from '@goes/event';
import { drain, take } from '@goes/streams';
import { type ProductEvent, productCodec } from './events.js';

const step = (n: number, text: string) => console.log(`\n[${n}] ${text}`);

const bus = createMemoryEventBus({ codec: productCodec });
const store = withBus(createMemoryEventStore({ codec: productCodec }), bus);

step(1, 'A subscriber listens to every product event.');
const subscription = await bus.subscribe([
  'product.created',
  'product.priced',
  'product.restocked',
]);
const received = take(subscription, 4);

step(
  2,
  'Two products are created, one is re-priced and restocked; each batch is stored atomically.',
);
const mouse = uuidv7();
const keyboard = uuidv7();
const product = (id: string, version: number) => ({ aggregate: { name: 'product', id, version } });
await store.insert([
  createEvent('product.created', { name: 'Wireless Mouse', priceCents: 2999 }, product(mouse, 1)),
  createEvent('product.priced', { priceCents: 2499 }, product(mouse, 2)),
  createEvent('product.restocked', { quantity: 40 }, product(mouse, 3)),
]);
await store.insert([
  createEvent('product.created', { name: 'Keyboard', priceCents: 5900 }, product(keyboard, 1)),
]);

step(3, "The store answers a query: the mouse's history, in version order.");
for await (const event of store.query(
  query().aggregate('product', mouse).sortBy('aggregateVersion'),
)) {
  const e = event as ProductEvent;
  console.log(
    `    v${e.aggregate?.version} ${e.name.padEnd(18)} ${JSON.stringify(e.data)}  at ${formatNanos(e.time)}  position ${e.position}`,
  );
}

step(4, 'The subscriber received every stored event over the bus.');
for (const event of await received)
  console.log(`    got ${event.name} for product ${event.aggregate?.id.slice(-12)}`);

step(
  5,
  'A stale write is refused: version 2 of the keyboard follows 1, but version 3 would skip one.',
);
try {
  await store.insert([createEvent('product.priced', { priceCents: 4900 }, product(keyboard, 3))]);
} catch (error) {
  console.log(`    ${(error as Error).name}: ${(error as Error).message}`);
}

const count = (await drain(store.query({}))).length;
console.log(`\nDone: ${count} events stored, 4 delivered to the subscriber.`);
await bus.close();
await store.close();
