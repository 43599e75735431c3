/**
 * The projection service: keeps the catalogue and the order summaries, runs the customer lookup,
 * and answers the read requests of clients over the command bus.
 *
 *   GOES_STORE=postgres GOES_BUS=nats pnpm --filter @goes/example-shop projections
 */
import { createShop } from '../shop.js';
import { onShutdown, serviceConfig } from './service.js';

const config = serviceConfig('projections');
const shop = await createShop(config, { handlers: false, projections: true });
onShutdown(async () => {
  const { projections } = await shop.stats();
  await shop.close();
  console.log(`projection stats ${JSON.stringify(projections)}`);
});
console.log(`projections ready (bus ${shop.commands.id}; ${shop.description})`);
