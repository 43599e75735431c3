/**
 * The shop's scenario, step by step: what `pnpm demo` runs in one process and what the client
 * service runs against the handler and projection services. It talks to the shop only through
 * the command bus and the read side, so it runs unchanged in both.
 */
import {
  type Command,
  type CommandName,
  deleteAggregateCommand,
  isCommandError,
  type PayloadOf,
  type ResultOf,
} from '@goes/command';
import { isGoesError, uuidv7 } from '@goes/event';
import { isAggregateNotFoundError } from '@goes/repository';
import { drain } from '@goes/streams';
import { commands, type ShopCommands } from './commands/commands.js';
import type { Shop } from './shop.js';
import { count, money, shortId, table } from './ui/format.js';
import { createProgress, type ProgressOutput } from './ui/progress.js';

/** Options of {@link runScenario}. */
export interface ScenarioOptions {
  /** Orders to place. Default 500. */
  readonly orders?: number | undefined;
  /** Orders in flight at once. Default 16. */
  readonly concurrency?: number | undefined;
  /** Seed of the random order mix (same seed, same orders). Default 7. */
  readonly seed?: number | undefined;
  /**
   * Milliseconds to wait for the services when the handlers or the projections run in other
   * processes that may still be starting. Default 0 (they run here).
   */
  readonly waitForServices?: number | undefined;
  /** Where to print. Default `process.stdout`. */
  readonly output?: ProgressOutput | undefined;
}

/** What the scenario did and saw, for tests and for the caller's summary. */
export interface ScenarioResult {
  readonly products: readonly string[];
  readonly customers: readonly string[];
  /** Orders placed (and not refused). */
  readonly placed: readonly string[];
  /** Orders cancelled afterwards. */
  readonly cancelled: readonly string[];
  /** Refused orders per rejection code. */
  readonly refused: Readonly<Record<string, number>>;
  /** Commands dispatched per name. */
  readonly dispatched: Readonly<Record<string, number>>;
  /** Events in the store per name at the end. */
  readonly events: Readonly<Record<string, number>>;
}

const PRODUCTS = [
  { name: 'Wireless Mouse', priceCents: 2_999, stock: 500 },
  { name: 'Mechanical Keyboard', priceCents: 8_900, stock: 420 },
  { name: 'USB-C Hub', priceCents: 3_450, stock: 450 },
  { name: '27" Monitor', priceCents: 24_900, stock: 250 },
  { name: 'Laptop Stand', priceCents: 3_999, stock: 400 },
  { name: 'Webcam', priceCents: 6_450, stock: 300 },
] as const;

const CUSTOMERS = [
  { name: 'Ada Lovelace', email: 'ada@example.com' },
  { name: 'Grace Hopper', email: 'grace@example.com' },
  { name: 'Alan Turing', email: 'alan@example.com' },
  { name: 'Barbara Liskov', email: 'barbara@example.com' },
  { name: 'Edsger Dijkstra', email: 'edsger@example.com' },
] as const;

/** Runs the scenario and prints every step. */
export async function runScenario(
  shop: Shop,
  options: ScenarioOptions = {},
): Promise<ScenarioResult> {
  const output = options.output ?? process.stdout;
  const orderCount = options.orders ?? 500;
  const concurrency = options.concurrency ?? 16;
  const random = seeded(options.seed ?? 7);
  const print = (line = '') => output.write(`${line}\n`);
  const indent = (lines: readonly string[]) => {
    for (const line of lines) print(`    ${line}`);
  };
  let stepNumber = 0;
  const step = (text: string) => print(`\n[${++stepNumber}] ${text}`);
  const dispatched: Record<string, number> = {};
  // Every command of the scenario is dispatched synchronously (it waits for the outcome).
  const send = <N extends CommandName<ShopCommands>>(
    command: Command<N, PayloadOf<ShopCommands, N>>,
  ): Promise<ResultOf<ShopCommands, N>> => {
    dispatched[command.name] = (dispatched[command.name] ?? 0) + 1;
    return shop.commands.dispatch(command, { sync: true });
  };

  if (options.waitForServices) {
    const waitedFor = await waitUntil(async () => {
      try {
        await shop.reads.settle();
        // A refused cancel of an unknown order: proof that a handler runs, with no effect.
        await shop.commands.dispatch(commands.cancelOrder(uuidv7(), 'probe'), { sync: true });
        return true;
      } catch (error) {
        if (isCommandError(error, 'UNKNOWN_ORDER')) return true;
        // Not up yet. A dispatch published in the moment a service subscribes can miss it and
        // end in an assign timeout although the service announced itself: ask again.
        if (
          isGoesError(error, 'COMMAND_NO_HANDLER') ||
          isGoesError(error, 'COMMAND_ASSIGN_TIMEOUT')
        ) {
          return false;
        }
        throw error;
      }
    }, options.waitForServices);
    print(`the services answered after ${waitedFor} ms`);
  }

  step('Products are created through the command bus (product.create, dispatched synchronously).');
  const productIds: string[] = [];
  for (const product of PRODUCTS) {
    const id = uuidv7();
    const command = commands.createProduct(id, product);
    await send(command);
    productIds.push(id);
  }
  indent(
    table(
      ['product', '>price', '>stock', 'id'],
      PRODUCTS.map((p, i) => [p.name, money(p.priceCents), String(p.stock), productIds[i] ?? '']),
    ),
  );

  step('Customers register (customer.register); the customer lookup maps e-mails to ids.');
  const customerIds: string[] = [];
  for (const customer of CUSTOMERS) {
    const id = uuidv7();
    const command = commands.registerCustomer(id, customer);
    await send(command);
    customerIds.push(id);
  }
  const first = CUSTOMERS[0];
  const waited = await waitUntil(
    async () => (await shop.reads.customerByEmail(first.email)) !== undefined,
  );
  print(`    the lookup knew ${first.email} after ${waited} ms (it is eventually consistent)`);
  const duplicate = commands.registerCustomer(uuidv7(), {
    name: 'Ada Impostor',
    email: 'ADA@example.com',
  });
  try {
    await send(duplicate);
    print('    a second registration with the same e-mail was accepted (unexpected)');
  } catch (error) {
    if (!isCommandError(error, 'EMAIL_TAKEN')) throw error;
    print(
      `    a second registration of ADA@example.com is refused: ${error.code} — ${error.message}`,
    );
  }
  const known: string[] = [];
  for (const customer of CUSTOMERS) {
    known.push((await shop.reads.customerByEmail(customer.email)) ?? '(unknown)');
  }
  indent(
    table(
      ['customer', 'e-mail', 'id (from the lookup)'],
      CUSTOMERS.map((c, i) => [c.name, c.email, known[i] ?? '']),
    ),
  );

  step(
    'A customer closes the account: the built-in delete command (goes.command.aggregate.delete) removes its events.',
  );
  const leaving = uuidv7();
  const temporary = commands.registerCustomer(leaving, {
    name: 'Temporary Tester',
    email: 'temp@example.com',
  });
  await send(temporary);
  await waitUntil(async () => (await shop.reads.customerByEmail('temp@example.com')) === leaving);
  const deletion = deleteAggregateCommand({ name: 'customer', id: leaving });
  await send(deletion);
  const fetched = await shop.customers.fetch(leaving).catch((error: unknown) => error);
  const freed = await waitUntil(
    async () => (await shop.reads.customerByEmail('temp@example.com')) === undefined,
  );
  print(
    `    customer ${shortId(leaving)} registered and deleted; fetching it now: ${isAggregateNotFoundError(fetched) ? fetched.code : 'found (unexpected)'}; the lookup freed temp@example.com after ${freed} ms`,
  );

  step(
    `${count(orderCount)} orders are placed, ${concurrency} at a time (order.place): each reserves stock on its products, then places the order.`,
  );
  const placed: string[] = [];
  const refused: Record<string, number> = {};
  let revenue = 0;
  const progress = createProgress('orders', orderCount, output);
  const started = performance.now();
  await inParallel(orderCount, concurrency, async () => {
    const orderId = uuidv7();
    const lines = pickLines(random, productIds);
    const customerId = customerIds[Math.floor(random() * customerIds.length)] as string;
    const command = commands.placeOrder(orderId, { customerId, lines });
    try {
      const { totalCents } = await send(command);
      placed.push(orderId);
      revenue += totalCents;
    } catch (error) {
      if (!isCommandError(error)) throw error;
      refused[error.code] = (refused[error.code] ?? 0) + 1;
    }
    const refusedCount = Object.values(refused).reduce((sum, n) => sum + n, 0);
    progress.update(
      placed.length + refusedCount,
      `placed ${placed.length}, refused ${refusedCount}, ${money(revenue)}`,
    );
  });
  progress.finish();
  const seconds = (performance.now() - started) / 1_000;
  print(
    `    ${count(placed.length)} placed (${money(revenue)}), ${describeCounts(refused) || 'none refused'} — ${seconds.toFixed(1)} s, ${Math.round(orderCount / seconds)} orders/s`,
  );

  step('The shop restocks and re-prices (product.restock, product.change_price).');
  await shop.reads.settle();
  const before = await shop.reads.catalogue();
  const scarce = [...before].sort((a, b) => a.available - b.available)[0];
  const pricey = [...before].sort((a, b) => b.priceCents - a.priceCents)[0];
  if (scarce && pricey) {
    const restock = commands.restock(scarce.id, 100);
    await send(restock);
    print(`    ${scarce.name}: ${scarce.available} left, restocked with 100`);
    const newPrice = Math.round((pricey.priceCents * 0.9) / 100) * 100 - 1;
    const reprice = commands.changePrice(pricey.id, newPrice);
    await send(reprice);
    print(`    ${pricey.name}: ${money(pricey.priceCents)} → ${money(newPrice)}`);
  }

  const toCancel = placed.filter(() => random() < 0.1);
  step(`${toCancel.length} orders are cancelled (order.cancel); their units go back into stock.`);
  const cancelled: string[] = [];
  await inParallel(toCancel.length, concurrency, async (i) => {
    const orderId = toCancel[i] as string;
    const command = commands.cancelOrder(orderId, 'changed my mind');
    await send(command);
    cancelled.push(orderId);
  });
  print(`    ${cancelled.length} cancelled`);

  step('Waiting for the projections to catch up (read your writes: whenProcessed(position)).');
  const settled = await shop.reads.settle();
  print(
    `    the read models include every event up to position ${count(settled.position)} (${count(settled.jobs)} projection jobs so far)`,
  );

  step('The read models.');
  const catalogue = await shop.reads.catalogue();
  print('    Catalogue (one document, kept by job.apply):');
  indent(
    table(
      ['product', '>price', '>available', '>reserved'],
      catalogue.map((entry) => [
        entry.name,
        money(entry.priceCents),
        count(entry.available),
        count(entry.reserved),
      ]),
    ),
  );
  const summaries = await shop.reads.orders(placed);
  const open = summaries.filter((summary) => summary.status === 'placed');
  const names = new Map(CUSTOMERS.map((c, i) => [customerIds[i], c.name]));
  print();
  print('    Order summaries (one document per order, kept by job.applyToModels):');
  print(
    `    ${count(summaries.length)} orders: ${count(open.length)} open (${money(open.reduce((s, o) => s + o.totalCents, 0))}, ${count(open.reduce((s, o) => s + o.items, 0))} items), ${count(summaries.length - open.length)} cancelled`,
  );
  indent(
    table(
      ['order', 'customer', 'status', '>items', '>total', 'placed at'],
      summaries
        .slice(-5)
        .map((summary) => [
          shortId(summary.id),
          names.get(summary.customerId) ?? shortId(summary.customerId),
          summary.status,
          String(summary.items),
          money(summary.totalCents),
          summary.placedAt,
        ]),
    ),
  );
  const perCustomer = CUSTOMERS.map((c, i) => {
    const mine = open.filter((o) => o.customerId === customerIds[i]);
    return [c.name, count(mine.length), money(mine.reduce((s, o) => s + o.totalCents, 0))];
  });
  print();
  indent(table(['customer', '>open orders', '>spent'], perCustomer));

  step('Counts.');
  const events: Record<string, number> = {};
  for (const event of await drain(shop.store.query({}))) {
    events[event.name] = (events[event.name] ?? 0) + 1;
  }
  const totalEvents = Object.values(events).reduce((s, n) => s + n, 0);
  print(`    events stored: ${count(totalEvents)}`);
  indent(
    table(
      ['event', '>count'],
      Object.entries(events).map(([name, n]) => [name, count(n)]),
    ),
  );
  const totalDispatched = Object.values(dispatched).reduce((s, n) => s + n, 0);
  print(`    commands dispatched by this process: ${count(totalDispatched)}`);
  indent(
    table(
      ['command', '>count'],
      Object.entries(dispatched).map(([name, n]) => [name, count(n)]),
    ),
  );

  return {
    products: productIds,
    customers: customerIds,
    placed,
    cancelled,
    refused,
    dispatched,
    events,
  };
}

/**
 * Runs `task(i)` for i in 0..n-1 with at most `limit` running at once. Each worker lets the event
 * loop turn between tasks: in memory, commands and events travel as promise callbacks, which
 * would otherwise keep timers (the projections' debounce, the progress display) from running
 * until the load is over — a client on a network never hogs the loop like that.
 */
async function inParallel(
  n: number,
  limit: number,
  task: (i: number) => Promise<void>,
): Promise<void> {
  let nextIndex = 0;
  const worker = async () => {
    while (nextIndex < n) {
      await task(nextIndex++);
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, worker));
}

/** Polls `condition` every 5 ms (for at most `limit` ms) and resolves to the milliseconds it took. */
async function waitUntil(condition: () => Promise<boolean>, limit = 10_000): Promise<number> {
  const started = performance.now();
  while (!(await condition())) {
    if (performance.now() - started > limit) throw new Error(`gave up waiting after ${limit} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return Math.round(performance.now() - started);
}

/** 1 to 3 lines of 1 to 3 units each. */
function pickLines(random: () => number, productIds: readonly string[]) {
  const lines: { productId: string; quantity: number }[] = [];
  const lineCount = 1 + Math.floor(random() * 3);
  for (let i = 0; i < lineCount; i++) {
    const productId = productIds[Math.floor(random() * productIds.length)] as string;
    lines.push({ productId, quantity: 1 + Math.floor(random() * 3) });
  }
  return lines;
}

function describeCounts(counts: Readonly<Record<string, number>>): string {
  return Object.entries(counts)
    .map(([code, n]) => `${n} refused (${code})`)
    .join(', ');
}

/** mulberry32: a small seeded generator, so a seed gives the same order mix every run. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
