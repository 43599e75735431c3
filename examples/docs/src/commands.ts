/** Code of docs/guides/commands.md, run by ../test/commands.test.ts. */
// #region imports
import {
  type CommandReport,
  type CommandSpec,
  createCommand,
  createDistributedCommandBus,
  createLocalCommandBus,
  isCommandError,
  requireAggregateTarget,
} from '@goes/command';
import { createMemoryEventBus, createMemoryEventStore, uuidv7, withBus } from '@goes/event';
import { createRepository } from '@goes/repository';
import { Product } from './aggregates.js';
// #endregion imports

// #region command-map
/** Each command: its payload, and the result a synchronous dispatch resolves to. */
export type ProductCommands = {
  'product.create': CommandSpec<{ name: string; priceCents: number }, { id: string }>;
  'product.change_price': CommandSpec<{ priceCents: number }, void>;
};
// #endregion command-map

export async function writePath() {
  // #region write-path
  const events = createMemoryEventBus();
  const store = withBus(createMemoryEventStore(), events); // Store.Insert → Bus.Publish
  const products = createRepository({ store }).typed((id) => new Product(id));
  const bus = createLocalCommandBus<ProductCommands>();

  // The seed's handler: take the target, repository.use → domain method → save.
  await bus.handle('product.create', async (ctx) => {
    const { id } = requireAggregateTarget(ctx, 'product');
    await products.use(id, (p) => p.create(ctx.payload.name, ctx.payload.priceCents), {
      signal: ctx.signal,
    });
    return { id };
  });
  await bus.handle('product.change_price', async (ctx) => {
    const { id } = requireAggregateTarget(ctx, 'product');
    await products.use(id, (p) => p.changePrice(ctx.payload.priceCents), { signal: ctx.signal });
  });

  const id = uuidv7();
  const created = await bus.dispatch(
    createCommand(
      'product.create',
      { name: 'Wireless Mouse', priceCents: 2_999 },
      { aggregate: { name: 'product', id } },
    ),
    { sync: true }, // wait for the handler and get its result: { id }
  );
  // #endregion write-path

  // #region errors
  let refusal = '';
  try {
    await bus.dispatch(
      createCommand(
        'product.change_price',
        { priceCents: -5 },
        { aggregate: { name: 'product', id } },
      ),
      { sync: true },
    );
  } catch (error) {
    // The handler threw a RangeError: the dispatcher gets a CommandError with its message.
    if (!isCommandError(error)) throw error;
    refusal = `${error.code}: ${error.message}`;
  }
  // #endregion errors
  await bus.close();
  await events.close();
  return { created, refusal, version: (await products.fetch(id)).version };
}

export async function distributed() {
  // #region distributed
  // One event bus shared by every service (in production: the NATS event bus).
  const events = createMemoryEventBus();
  const worker = createDistributedCommandBus<ProductCommands>(events);
  const api = createDistributedCommandBus<ProductCommands>(events);

  await worker.handle(
    'product.create',
    async ({ payload }) => {
      if (payload.priceCents <= 0) throw new RangeError('a price must be positive');
      return { id: uuidv7() };
    },
    { concurrency: 8 }, // up to 8 commands at once on this instance
  );

  const reports: CommandReport[] = [];
  const { id } = await api.dispatch(
    createCommand('product.create', { name: 'Webcam', priceCents: 6_450 }),
    { sync: true, timeout: 5_000, onReport: (report) => reports.push(report) },
  );
  // An asynchronous dispatch resolves once a handler took the command.
  await api.dispatch(createCommand('product.create', { name: 'Hub', priceCents: 3_450 }));
  // #endregion distributed
  await api.close();
  await worker.close();
  await events.close();
  return { id, outcome: reports[0]?.outcome, handler: reports[0]?.handler === worker.id };
}
