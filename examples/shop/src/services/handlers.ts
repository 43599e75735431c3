/**
 * The command handler service: runs the shop's command handlers (and the customer lookup they
 * check e-mail addresses against). Start as many as you like: the distributed command bus gives
 * every command to exactly one of them.
 *
 *   GOES_STORE=postgres GOES_BUS=nats pnpm --filter @goes/example-shop handlers
 */
import { createShop } from '../shop.js';
import { onShutdown, serviceConfig } from './service.js';

const config = serviceConfig('handlers');
const shop = await createShop(config, { handlers: true, projections: false });
onShutdown(async () => {
  const { handled, snapshots } = await shop.stats();
  await shop.close();
  console.log(`handled ${JSON.stringify(handled)}`);
  console.log(`snapshots ${snapshots}`);
});
console.log(`handlers ready (bus ${shop.commands.id}; ${shop.description})`);
