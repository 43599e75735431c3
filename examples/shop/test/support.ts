import { randomUUID } from 'node:crypto';
import { CommandError, createCommand } from '@goes/command';
import { uuidv7 } from '@goes/event';
import { drain } from '@goes/streams';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { commands } from '../src/commands/commands.js';
import { readConfig, type ShopConfig } from '../src/config.js';
import type { ShopEvent } from '../src/domain/events.js';
import { runScenario, type ScenarioResult } from '../src/scenario.js';
import { createShop, type Shop } from '../src/shop.js';

/** A configuration from `GOES_*` variables, with a namespace of its own for this run. */
export function testConfig(overrides: Record<string, string>): ShopConfig {
  return readConfig({
    ...process.env,
    GOES_SHOP_NAMESPACE: `test_${randomUUID().replaceAll('-', '').slice(0, 12)}`,
    ...overrides,
  });
}

/** Output that keeps what the scenario prints, for a failure message. */
export function captureOutput() {
  const lines: string[] = [];
  return { lines, output: { write: (text: string) => lines.push(text) } };
}

/**
 * Runs the shop's scenario on the configured backends and checks what every backend combination
 * must give: read models equal to the aggregates, stock conserved, each command handled once.
 */
export function shopScenarioSuite(
  label: string,
  config: () => ShopConfig,
  options: {
    /** Orders the scenario places (slow test servers get fewer). Default 80. */
    readonly orders?: number;
    readonly teardown?: (config: ShopConfig) => Promise<void>;
  } = {},
): void {
  describe(label, () => {
    let shop: Shop;
    let result: ScenarioResult;
    const errors: unknown[] = [];
    const shopConfig = config();

    beforeAll(async () => {
      shop = await createShop(shopConfig, { onError: (error) => errors.push(error) });
      result = await runScenario(shop, {
        orders: options.orders ?? 80,
        output: captureOutput().output,
      });
    }, 180_000);
    afterAll(async () => {
      await shop?.close();
      await options.teardown?.(shopConfig);
    });

    it('stores an event per placed and per cancelled order', () => {
      expect(result.placed.length).toBeGreaterThan(0);
      expect(result.cancelled.length).toBeGreaterThan(0);
      expect(result.events['order.placed']).toBe(result.placed.length);
      expect(result.events['order.cancelled']).toBe(result.cancelled.length);
      expect(result.events['product.created']).toBe(result.products.length);
      expect(result.events['customer.registered']).toBe(result.customers.length);
    });

    it('handles every dispatched command exactly once', async () => {
      const { handled } = await shop.stats();
      for (const [name, dispatched] of Object.entries(result.dispatched)) {
        const counts = handled[name];
        expect({ name, handled: (counts?.succeeded ?? 0) + (counts?.failed ?? 0) }).toEqual({
          name,
          handled: dispatched,
        });
      }
      expect(handled['order.place']?.succeeded).toBe(result.placed.length);
      expect(handled['order.place']?.failed).toBe(
        Object.values(result.refused).reduce((sum, n) => sum + n, 0),
      );
    });

    it('keeps the catalogue equal to the products, and conserves stock', async () => {
      await shop.reads.settle();
      const catalogue = await shop.reads.catalogue();
      expect(catalogue).toHaveLength(result.products.length);
      const events = (await drain(
        shop.store.query({ aggregateNames: ['product'] }),
      )) as ShopEvent[];
      for (const entry of catalogue) {
        const product = await shop.products.fetch(entry.id);
        const reserved = Object.values(product.reservations).reduce((sum, n) => sum + n, 0);
        expect(entry).toEqual({
          id: product.id,
          name: product.name,
          priceCents: product.priceCents,
          available: product.stock,
          reserved,
        });
        let supplied = 0;
        for (const event of events) {
          if (event.aggregate?.id !== entry.id) continue;
          if (event.name === 'product.created') supplied += event.data.stock;
          if (event.name === 'product.restocked') supplied += event.data.quantity;
        }
        expect(entry.available + entry.reserved).toBe(supplied);
      }
    });

    it('summarizes every placed order as its aggregate says', async () => {
      await shop.reads.settle();
      const summaries = await shop.reads.orders(result.placed);
      expect(summaries).toHaveLength(result.placed.length);
      const cancelled = new Set(result.cancelled);
      for (const summary of summaries) {
        const order = await shop.orders.fetch(summary.id);
        expect(summary).toMatchObject({
          customerId: order.customerId,
          totalCents: order.totalCents,
          lines: order.lines,
          status: cancelled.has(summary.id) ? 'cancelled' : 'placed',
        });
      }
    });

    it('finds customers by e-mail through the lookup', async () => {
      const id = await shop.reads.customerByEmail('GRACE@example.com');
      expect(id).toBe(result.customers[1]);
      expect(await shop.reads.customerByEmail('nobody@example.com')).toBeUndefined();
    });

    it('refuses bad commands with typed errors, and gives back reserved stock', async () => {
      const [first, second] = result.products as [string, string];
      const customerId = result.customers[0] as string;
      const dispatch = (command: Parameters<Shop['commands']['dispatch']>[0]) =>
        shop.commands.dispatch(command, { sync: true });

      await expect(
        dispatch(
          commands.placeOrder(uuidv7(), {
            customerId,
            lines: [{ productId: first, quantity: -1 }],
          }),
        ),
      ).rejects.toMatchObject({ code: 'INVALID_COMMAND' });
      await expect(
        dispatch(createCommand('order.cancel', { reason: 'no target' })),
      ).rejects.toMatchObject({ code: 'INVALID_COMMAND' });
      await expect(
        dispatch(
          commands.placeOrder(uuidv7(), {
            customerId: uuidv7(),
            lines: [{ productId: first, quantity: 1 }],
          }),
        ),
      ).rejects.toMatchObject({ code: 'UNKNOWN_CUSTOMER' });
      await expect(
        dispatch(
          commands.placeOrder(uuidv7(), {
            customerId,
            lines: [{ productId: uuidv7(), quantity: 1 }],
          }),
        ),
      ).rejects.toMatchObject({ code: 'UNKNOWN_PRODUCT' });
      await expect(dispatch(commands.cancelOrder(uuidv7(), 'unknown'))).rejects.toMatchObject({
        code: 'UNKNOWN_ORDER',
      });

      const before = (await shop.products.fetch(first)).stock;
      const tooMany = (await shop.products.fetch(second)).stock + 1;
      const refused = await dispatch(
        commands.placeOrder(uuidv7(), {
          customerId,
          lines: [
            { productId: first, quantity: 1 },
            { productId: second, quantity: tooMany },
          ],
        }),
      ).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(CommandError);
      expect(refused).toMatchObject({
        code: 'OUT_OF_STOCK',
        details: { productId: second, wanted: tooMany },
      });
      expect((await shop.products.fetch(first)).stock).toBe(before);
    });

    it('reports no background errors', () => {
      expect(errors).toEqual([]);
    });
  });
}
