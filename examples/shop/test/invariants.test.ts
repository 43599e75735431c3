import { createLocalCommandBus } from '@goes/command';
import {
  createMemoryEventBus,
  createMemoryEventStore,
  type EventStore,
  uuidv7,
  withBus,
} from '@goes/event';
import { createRepository } from '@goes/repository';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { commands, type ShopCommands } from '../src/commands/commands.js';
import { registerCommandHandlers } from '../src/commands/handlers.js';
import { Customer } from '../src/domain/customer.js';
import { Order } from '../src/domain/order.js';
import { Product } from '../src/domain/product.js';
import { createCustomerLookup } from '../src/projections/customer-lookup.js';
import { runScenario, type ScenarioResult } from '../src/scenario.js';
import { createShop, type Shop } from '../src/shop.js';
import { foldStore, reservationViolations } from './invariants.js';
import { captureOutput, testConfig } from './support.js';

// The demo's load, checked against the event store itself (not against the aggregates, which are
// folded from the same events and would share a bug): stock conserved and never negative, every
// reservation owned by an open order, the read models equal to a fold over the stored events.
describe('the scenario under more concurrency, checked against the stored events', () => {
  let shop: Shop;
  let result: ScenarioResult;
  const errors: unknown[] = [];

  beforeAll(async () => {
    shop = await createShop(testConfig({ GOES_STORE: 'memory', GOES_BUS: 'memory' }), {
      onError: (error) => errors.push(error),
      snapshotEvery: 10,
    });
    result = await runScenario(shop, {
      orders: 400,
      concurrency: 32,
      seed: 11,
      output: captureOutput().output,
    });
  }, 120_000);
  afterAll(() => shop?.close());

  it('refused some orders for stock, so the compensation ran', () => {
    expect(result.refused.OUT_OF_STOCK ?? 0).toBeGreaterThan(0);
    expect(result.cancelled.length).toBeGreaterThan(0);
  });

  it('keeps every reservation owned by an open order, and stock never below zero', async () => {
    expect(reservationViolations(await foldStore(shop.store))).toEqual([]);
  });

  it('shows in the catalogue and the aggregates what the stored events add up to', async () => {
    await shop.reads.settle();
    const folded = await foldStore(shop.store);
    const catalogue = await shop.reads.catalogue();
    expect(catalogue).toHaveLength(folded.products.size);
    for (const entry of catalogue) {
      const product = folded.products.get(entry.id);
      const reserved = [...(product?.reservations.values() ?? [])].reduce((s, n) => s + n, 0);
      expect({ id: entry.id, available: entry.available, reserved: entry.reserved }).toEqual({
        id: entry.id,
        available: product?.stock,
        reserved,
      });
      expect(entry.available + entry.reserved).toBe(product?.supplied);
      // Loaded through snapshots (every 10 versions here).
      const aggregate = await shop.products.fetch(entry.id);
      expect(aggregate.stock).toBe(product?.stock);
      expect(aggregate.reservations).toEqual(Object.fromEntries(product?.reservations ?? []));
    }
  });

  it('summarizes every stored order as its events say', async () => {
    await shop.reads.settle();
    const folded = await foldStore(shop.store);
    expect(new Set(folded.orders.keys())).toEqual(new Set(result.placed));
    const summaries = await shop.reads.orders([...folded.orders.keys()]);
    expect(summaries).toHaveLength(folded.orders.size);
    for (const summary of summaries) {
      const order = folded.orders.get(summary.id);
      expect(summary).toMatchObject({
        customerId: order?.customerId,
        lines: order?.lines,
        totalCents: order?.totalCents,
        status: order?.status,
        items: order?.lines.reduce((s, l) => s + l.quantity, 0),
      });
      expect(order?.totalCents).toBe(
        order?.lines.reduce((s, l) => s + l.quantity * l.unitPriceCents, 0),
      );
    }
  });

  it('reports no background errors', () => {
    expect(errors).toEqual([]);
  });
});

/** Handlers on a local bus over `store`, with a product and a customer to order with. */
async function handlersOn(store: EventStore, executionTimeout?: number) {
  const events = createMemoryEventBus();
  const stored = withBus(store, events);
  const repository = createRepository({ store: stored });
  const lookup = createCustomerLookup(stored, events);
  await lookup.start();
  const bus = createLocalCommandBus<ShopCommands>({ executionTimeout });
  const handlers = await registerCommandHandlers(bus, {
    repository,
    products: repository.typed((id) => new Product(id)),
    customers: repository.typed((id) => new Customer(id)),
    orders: repository.typed((id) => new Order(id)),
    customerLookup: lookup,
  });
  const productIds = [uuidv7(), uuidv7()];
  for (const productId of productIds) {
    await bus.dispatch(
      commands.createProduct(productId, { name: 'Mouse', priceCents: 100, stock: 1_000 }),
      { sync: true },
    );
  }
  const customerId = uuidv7();
  await bus.dispatch(
    commands.registerCustomer(customerId, { name: 'Ada', email: 'ada@example.com' }),
    { sync: true },
  );
  const close = async () => {
    for (const registration of handlers.registrations) await registration.close();
    await bus.close();
    await lookup.close();
  };
  return { bus, handlers, productIds, customerId, close };
}

describe('orders under retries and timeouts', () => {
  it('keeps the reservations of an order placed twice at once (a client retrying)', async () => {
    const store = createMemoryEventStore();
    const shop = await handlersOn(store);
    try {
      const lines = shop.productIds.map((productId) => ({ productId, quantity: 2 }));
      for (let i = 0; i < 20; i++) {
        const orderId = uuidv7();
        // Two commands for one order: the second is a retry of a dispatch that timed out.
        const outcomes = await Promise.allSettled(
          [0, 1].map(() =>
            shop.bus.dispatch(
              commands.placeOrder(orderId, { customerId: shop.customerId, lines }),
              { sync: true },
            ),
          ),
        );
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      }
      expect(reservationViolations(await foldStore(store))).toEqual([]);
    } finally {
      await shop.close();
    }
  });

  it('gives back the reserved stock of an order whose time ran out', async () => {
    const memory = createMemoryEventStore();
    // The order's insert hangs until the command's signal aborts (a slow database).
    const slow: EventStore = {
      ...memory,
      insert: async (events, options) => {
        const signal = options?.signal;
        if (signal && events.some((e) => e.name === 'order.placed')) {
          await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
          signal.throwIfAborted();
        }
        return memory.insert(events, options);
      },
      find: (id, options) => memory.find(id, options),
      query: (q, options) => memory.query(q, options),
      delete: (events, options) => memory.delete(events, options),
      close: () => memory.close(),
    };
    const shop = await handlersOn(slow, 200);
    try {
      const lines = shop.productIds.map((productId) => ({ productId, quantity: 3 }));
      const outcome = await shop.bus
        .dispatch(commands.placeOrder(uuidv7(), { customerId: shop.customerId, lines }), {
          sync: true,
        })
        .catch((error: unknown) => error);
      expect(outcome).toMatchObject({ code: 'COMMAND_EXECUTION_TIMEOUT' });
      // The handler goes on compensating after the dispatcher got its answer.
      for (let i = 0; i < 200 && (shop.handlers.counts()['order.place']?.failed ?? 0) === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(shop.handlers.counts()['order.place']?.failed).toBe(1);
      expect(reservationViolations(await foldStore(memory))).toEqual([]);
    } finally {
      await shop.close();
    }
  });

  it('gives back every product of a cancelled order, also when the time ran out half-way', async () => {
    const memory = createMemoryEventStore();
    // Releases are slow (and land anyway): the command's time runs out after the first one.
    const slow: EventStore = {
      ...memory,
      insert: async (events, options) => {
        if (events.some((e) => e.name === 'product.released')) {
          await new Promise((resolve) => setTimeout(resolve, 150));
          return memory.insert(events);
        }
        return memory.insert(events, options);
      },
      find: (id, options) => memory.find(id, options),
      query: (q, options) => memory.query(q, options),
      delete: (events, options) => memory.delete(events, options),
      close: () => memory.close(),
    };
    const shop = await handlersOn(slow, 100);
    try {
      const orderId = uuidv7();
      const lines = shop.productIds.map((productId) => ({ productId, quantity: 1 }));
      await shop.bus.dispatch(
        commands.placeOrder(orderId, { customerId: shop.customerId, lines }),
        {
          sync: true,
        },
      );
      const outcome = await shop.bus
        .dispatch(commands.cancelOrder(orderId, 'too slow'), { sync: true })
        .catch((error: unknown) => error);
      expect(outcome).toMatchObject({ code: 'COMMAND_EXECUTION_TIMEOUT' });
      const handled = () => shop.handlers.counts()['order.cancel'];
      for (
        let i = 0;
        i < 200 && (handled()?.failed ?? 0) + (handled()?.succeeded ?? 0) === 0;
        i++
      ) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const folded = await foldStore(memory);
      expect(folded.orders.get(orderId)?.status).toBe('cancelled');
      expect(reservationViolations(folded)).toEqual([]);
    } finally {
      await shop.close();
    }
  });
});
