/** The README's quick start, run by ../test/quick-start.test.ts. */
// #region quick-start
import { AggregateRoot, next } from '@goes/aggregate';
import { type CommandSpec, createCommand, createLocalCommandBus } from '@goes/command';
import { createMemoryEventBus, createMemoryEventStore, uuidv7, withBus } from '@goes/event';
import { continuously, Progressor } from '@goes/projection';
import { createRepository } from '@goes/repository';

class Order extends AggregateRoot<{ 'order.placed': { cents: number } }> {
  cents = 0;
  constructor(id: string) {
    super('order', id);
    this.applyWith({
      'order.placed': (event) => {
        this.cents = event.data.cents;
      },
    });
  }
  place(cents: number) {
    next(this, 'order.placed', { cents }); // applied at once, stored by the repository
  }
}

const bus = createMemoryEventBus(); // or the NATS bus of @goes/nats
const store = withBus(createMemoryEventStore(), bus); // or @goes/postgres, @goes/mongodb
const orders = createRepository({ store }).typed((id) => new Order(id));

// Write path: dispatch → command bus → handler → repository.use → store.insert → bus.publish
const commands = createLocalCommandBus<{ 'order.place': CommandSpec<{ cents: number }, void> }>();
await commands.handle('order.place', async ({ aggregate, payload }) => {
  await orders.use(aggregate!.id, (order) => order.place(payload.cents));
});

// Read path: bus.publish → schedule → job → apply → projection (progress = store position)
export const revenue = new (class extends Progressor {
  total = 0;
  applyEvent(event: { data: unknown }) {
    this.total += (event.data as { cents: number }).cents;
  }
})();
const schedule = continuously(bus, store, ['order.placed']);
const projection = await schedule.subscribe((job) => job.apply(revenue).then(() => {}));

const target = { aggregate: { name: 'order', id: uuidv7() } };
await commands.dispatch(createCommand('order.place', { cents: 4_200 }, target), { sync: true });
await schedule.trigger(); // the bus asked for a job already; this one waits until it ran
console.log(revenue.total); // 4200
// #endregion quick-start
await projection.close();
await commands.close();
await bus.close();
