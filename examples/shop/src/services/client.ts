/**
 * The client: runs the shop's scenario against the handler and projection services, through the
 * command bus only (writes are commands, reads are read requests), and exits.
 *
 *   GOES_STORE=postgres GOES_BUS=nats pnpm --filter @goes/example-shop client
 */

import { runScenario } from '../scenario.js';
import { createShop } from '../shop.js';
import { serviceConfig } from './service.js';

const config = serviceConfig('client');
const shop = await createShop(config, { handlers: false, projections: false });
try {
  console.log(`client (${shop.description}): waiting for the handler and projection services`);
  const result = await runScenario(shop, {
    orders: Number(process.env.SHOP_ORDERS ?? 500),
    waitForServices: 30_000,
  });
  // One line for scripts (the multi-service test reads it).
  console.log(
    `result ${JSON.stringify({ dispatched: result.dispatched, placed: result.placed.length, cancelled: result.cancelled.length })}`,
  );
} finally {
  await shop.close();
}
