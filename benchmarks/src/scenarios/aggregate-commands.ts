/**
 * Aggregate-owned command handlers (issue 4, the seed's write path): a synchronous dispatch of a
 * command that loads an aggregate through the repository, changes it and saves it
 * (dispatch → command bus → aggregate handler → repository.use → store.insert), against the raw
 * twin that calls `repository.use` with the same change directly — so the ratio is what the
 * command bus and the wiring add to the repository work. Both sides spread their commands over
 * 100 aggregates (one new set per repetition), so every aggregate stays short and both sides
 * load the same histories.
 * - A1: the local command bus, 1 in flight.
 * - A2: the distributed command bus over the in-memory event bus, 1 in flight.
 * - A3: the distributed command bus, 64 in flight (handler concurrency 64).
 */
import { AggregateRoot, next } from '@goes/aggregate';
import {
  type CommandBus,
  type CommandHandlerMap,
  type CommandSpec,
  createCommand,
  createDistributedCommandBus,
  createLocalCommandBus,
} from '@goes/command';
import { createMemoryEventBus, createMemoryEventStore, type EventBus, uuidv7 } from '@goes/event';
import { createRepository, handleAggregateCommands, type TypedRepository } from '@goes/repository';
import { type Measurement, measureEach, type Scenario } from '../harness.js';

type StockEvents = { 'stock.received': { sku: string; units: number } };
type StockCommands = { 'stock.receive': CommandSpec<{ sku: string; units: number }, number> };

class Stock extends AggregateRoot<StockEvents> {
  units = 0;

  constructor(id: string) {
    super('stock', id);
    this.applyWith({
      'stock.received': (event) => {
        this.units += event.data.units;
      },
    });
  }

  receive(sku: string, units: number): number {
    next(this, 'stock.received', { sku, units });
    return this.units;
  }

  static readonly commands: CommandHandlerMap<StockCommands, Stock> = {
    'stock.receive': (stock, { payload }) => stock.receive(payload.sku, payload.units),
  };
}

const AGGREGATES = 100;
const ids = () => Array.from({ length: AGGREGATES }, () => uuidv7());

/** Runs `count` operations with `inFlight` at a time, recording each one's latency. */
async function measureConcurrent(
  count: number,
  inFlight: number,
  op: (i: number) => Promise<void>,
): Promise<Measurement> {
  const latenciesMicros: number[] = [];
  let nextIndex = 0;
  const worker = async () => {
    while (nextIndex < count) {
      const i = nextIndex++;
      const t0 = process.hrtime.bigint();
      await op(i);
      latenciesMicros.push(Number(process.hrtime.bigint() - t0) / 1e3);
    }
  };
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: inFlight }, worker));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { count, seconds, latenciesMicros };
}

function run(count: number, inFlight: number, op: (i: number) => Promise<void>) {
  return inFlight === 1 ? measureEach(count, op) : measureConcurrent(count, inFlight, op);
}

/** The framework side: a command bus pair with the Stock handlers, over its own store. */
class Framework {
  readonly events: EventBus = createMemoryEventBus();
  readonly stocks: TypedRepository<Stock>;
  readonly handler: CommandBus<StockCommands>;
  readonly dispatcher: CommandBus<StockCommands>;

  constructor(kind: 'local' | 'distributed') {
    const repository = createRepository({ store: createMemoryEventStore() });
    this.stocks = repository.typed((id) => new Stock(id));
    if (kind === 'local') {
      this.handler = this.dispatcher = createLocalCommandBus<StockCommands>();
    } else {
      this.handler = createDistributedCommandBus<StockCommands>(this.events);
      this.dispatcher = createDistributedCommandBus<StockCommands>(this.events);
    }
  }

  async start(concurrency: number): Promise<void> {
    await handleAggregateCommands(this.handler, this.stocks, {
      commands: Stock.commands,
      concurrency,
    });
  }

  async receive(id: string): Promise<void> {
    const units = await this.dispatcher.dispatch(
      createCommand(
        'stock.receive',
        { sku: 'A-1', units: 1 },
        { aggregate: { name: 'stock', id } },
      ),
      { sync: true },
    );
    if (units < 1) throw new Error('the handler did not apply the event');
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
    await this.handler.close();
    await this.events.close();
  }
}

/** The raw side: the same repository work, called directly. */
class Raw {
  readonly stocks = createRepository({ store: createMemoryEventStore() }).typed(
    (id) => new Stock(id),
  );

  async receive(id: string): Promise<void> {
    let units = 0;
    await this.stocks.use(id, (stock) => {
      units = stock.receive('A-1', 1);
    });
    if (units < 1) throw new Error('the event was not applied');
  }
}

function scenario(
  id: string,
  kind: 'local' | 'distributed',
  inFlight: number,
  count: number,
): Scenario {
  let framework: Framework;
  let raw: Raw;
  return {
    id,
    backend: 'memory',
    title: `aggregate command through the ${kind} bus (dispatch → handler → use → insert), ${inFlight} in flight, vs repository.use`,
    unit: 'commands',
    async setup() {
      framework = new Framework(kind);
      await framework.start(inFlight);
      raw = new Raw();
    },
    framework: () => {
      const targets = ids();
      return run(count, inFlight, (i) => framework.receive(targets[i % AGGREGATES] as string));
    },
    raw: () => {
      const targets = ids();
      return run(count, inFlight, (i) => raw.receive(targets[i % AGGREGATES] as string));
    },
    async teardown() {
      await framework.close();
    },
  };
}

export const scenarios: Scenario[] = [
  scenario('A1', 'local', 1, 2_000),
  scenario('A2', 'distributed', 1, 2_000),
  scenario('A3', 'distributed', 64, 4_000),
];
