/** Runs the backends of docs/backends/postgres.md and mongodb.md (../test/backends-databases.test.ts). */
import { createEvent, createMemoryEventBus, type EventBus, uuidv7 } from '@goes/event';
import { continuously } from '@goes/projection';
import type { mongoBackends } from './backends-mongodb.js';
import type { postgresBackends } from './backends-postgres.js';
import { OrderSummary } from './projections.js';
import { SnapshottedProduct } from './snapshots.js';

type Backends = ReturnType<typeof postgresBackends> | ReturnType<typeof mongoBackends>;

/** Saves a product (snapshotted at version 100), projects an order into its summary, reads both. */
export async function exercise(make: (bus: EventBus) => Backends) {
  const bus = createMemoryEventBus();
  const backends = make(bus);
  try {
    const products = backends.repository.typed((id) => new SnapshottedProduct(id));
    const productId = uuidv7();
    await products.use(productId, (product) => product.create('Webcam', 6_450));
    for (let cents = 1_000; cents < 1_100; cents++) {
      await products.use(productId, (product) => product.changePrice(cents));
    }
    const schedule = continuously(bus, backends.store, ['order.placed']);
    const subscription = await schedule.subscribe(async (job) => {
      await job.applyToModels(backends.summaries, {
        aggregateNames: ['order'],
        create: (ref) => new OrderSummary(ref.id),
      });
    });
    const orderId = uuidv7();
    const [placed] = await backends.store.insert([
      createEvent(
        'order.placed',
        { customerId: uuidv7(), totalCents: 990 },
        { aggregate: { name: 'order', id: orderId, version: 1 } },
      ),
    ]);
    await subscription.whenProcessed(placed?.position ?? 0, {
      signal: AbortSignal.timeout(10_000),
    });
    await subscription.close();
    return {
      summary: await backends.summaries.fetch(orderId),
      product: await products.fetch(productId),
      snapshot: (await backends.snapshots.latest('product', productId)).version,
    };
  } finally {
    await backends.summaries.close();
    await backends.snapshots.close();
    await backends.store.close();
    await backends.close();
    await bus.close();
  }
}
