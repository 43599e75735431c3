/** Code of docs/guides/projections.md, run by ../test/projections.test.ts. */
// #region imports
import {
  createEvent,
  createMemoryEventBus,
  createMemoryEventStore,
  type Event,
  uuidv7,
  withBus,
} from '@goes/event';
import {
  continuously,
  createLookup,
  createMemoryModelRepository,
  Progressor,
  type Target,
} from '@goes/projection';
// #endregion imports

// #region target
export type Placed = { readonly customerId: string; readonly totalCents: number };

/** Revenue over all orders. Progress-aware: it remembers the position of its last event. */
export class Revenue extends Progressor implements Target {
  totalCents = 0;

  applyEvent(event: Event): void {
    if (event.name === 'order.placed') this.totalCents += (event.data as Placed).totalCents;
  }
}
// #endregion target

// #region model
/** One read model per order, kept by job.applyToModels. */
export class OrderSummary extends Progressor implements Target {
  status = 'new';
  totalCents = 0;

  constructor(readonly id: string) {
    super();
  }

  applyEvent(event: Event): void {
    if (event.name === 'order.placed') {
      this.status = 'placed';
      this.totalCents = (event.data as Placed).totalCents;
    }
    if (event.name === 'order.cancelled') this.status = 'cancelled';
  }
}
// #endregion model

export async function readPath() {
  // #region schedule
  const bus = createMemoryEventBus();
  const store = withBus(createMemoryEventStore(), bus);

  const revenue = new Revenue(); // load it (state and position) from your database here
  const summaries = createMemoryModelRepository<OrderSummary>();

  // Bus.Publish → Schedule → Job → Apply → Projection
  const schedule = continuously(bus, store, ['order.placed', 'order.cancelled'], {
    debounce: 20,
  });
  const subscription = await schedule.subscribe(
    async (job) => {
      await job.apply(revenue); // reads the store after revenue's position
      // save revenue (state and position together) here
      await job.applyToModels(summaries, {
        aggregateNames: ['order'],
        create: (ref) => new OrderSummary(ref.id),
      });
    },
    { startup: true }, // first catch up with everything stored
  );

  const orderId = uuidv7();
  const [placed] = await store.insert([
    createEvent(
      'order.placed',
      { customerId: uuidv7(), totalCents: 4_200 },
      { aggregate: { name: 'order', id: orderId, version: 1 } },
    ),
  ]);
  // Read your writes: wait until the schedule processed the stored event.
  await subscription.whenProcessed(placed?.position ?? 0, { signal: AbortSignal.timeout(5_000) });
  const summary = await summaries.fetch(orderId); // { status: 'placed', totalCents: 4200 }
  await subscription.close();
  // #endregion schedule
  await bus.close();
  return { revenue: revenue.totalCents, position: revenue.position, summary, placed };
}

export async function lookup() {
  const bus = createMemoryEventBus();
  const store = withBus(createMemoryEventStore(), bus);
  const customerId = uuidv7();
  await store.insert([
    createEvent(
      'customer.registered',
      { email: 'ada@example.com' },
      { aggregate: { name: 'customer', id: customerId, version: 1 } },
    ),
  ]);
  // #region lookup
  type CustomerEvents = { 'customer.registered': { email: string } };
  const emails = createLookup<CustomerEvents>(store, bus, {
    'customer.registered': (event, table) => table.provide('email', event.data.email),
  });
  await emails.start(); // replays the history, then follows the bus
  const id = await emails.reverse('customer', 'email', 'ada@example.com'); // waits until ready
  const email = await emails.get('customer', 'email', customerId);
  await emails.close();
  // #endregion lookup
  await bus.close();
  return { id, email, customerId };
}
