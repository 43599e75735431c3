/**
 * `pnpm demo`: the whole shop in one process — command handlers, projections and a client —
 * on the backends the environment names (in memory by default: no set-up at all).
 */
import { ConfigError, readConfig, type ShopConfig } from '../config.js';
import { runScenario } from '../scenario.js';
import { createShop } from '../shop.js';
import { count, table } from '../ui/format.js';

const started = performance.now();
let config: ShopConfig;
try {
  config = readConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`demo: ${error.message}`);
  process.exit(2);
}
console.log('goes example shop — products, customers and orders, event-sourced');
const shop = await createShop(config);
try {
  const transport =
    config.bus === 'memory'
      ? 'the event bus'
      : `core NATS, subjects ${config.namespace}.commands.>`;
  console.log(`backends: ${shop.description}; command bus: distributed over ${transport}`);
  console.log(
    'running: command handlers, projections (catalogue, order summaries), customer lookup, and this client',
  );
  console.log(
    'write path: dispatch → command bus → handler → repository.use → store.insert → bus.publish',
  );
  console.log('read path:  bus.publish → schedule → job → apply → read model');
  await runScenario(shop, { orders: Number(process.env.SHOP_ORDERS ?? 500) });
  const { handled, snapshots, projections } = await shop.stats();
  const handledTotal = Object.values(handled).reduce((sum, c) => sum + c.succeeded + c.failed, 0);
  console.log(`    commands handled here: ${count(handledTotal)}`);
  const rows = Object.entries(handled).map(([name, c]) => [
    name,
    count(c.succeeded),
    count(c.failed),
  ]);
  for (const line of table(['command', '>succeeded', '>refused'], rows)) console.log(`    ${line}`);
  console.log(`    product snapshots taken (every 50 versions): ${count(snapshots)}`);
  if (projections) {
    for (const [name, p] of Object.entries(projections)) {
      console.log(
        `    projection ${name}: ${count(p.jobs)} runs (jobs), ${count(p.applied)} events applied, ${p.failures} failed`,
      );
    }
  }
} finally {
  await shop.close();
}
console.log(`\nDone in ${((performance.now() - started) / 1_000).toFixed(1)} s.`);
