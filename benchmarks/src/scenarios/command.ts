/**
 * Command bus scenarios (issue 4). C1/C2: synchronous dispatch round trips through the
 * distributed command bus over the in-memory event bus (a dispatching instance and a handling
 * instance), 1 and 64 in flight. Raw twin: a minimal hand-written request/reply over the same
 * in-memory EventBus (publish a request event, a responder publishes a reply event, the requester
 * matches it by id), so the ratio shows what the protocol costs (4 events per command instead of
 * 2, claims, timers, codecs). C3: the local bus against calling the handler directly. C5/C6:
 * what a handler that reads its `signal` costs per command (an AbortSignal is made only for a
 * handler that reads it): the same bus and dispatches, the handler reading its signal against
 * one that does not. The distributed bus over NATS is measured in nats-command.ts (NC1–NC4).
 */
import {
  type CommandBus,
  type CommandSpec,
  createCommand,
  createDistributedCommandBus,
  createLocalCommandBus,
} from '@goes/command';
import { createEvent, createMemoryEventBus, type EventBus, type Subscription } from '@goes/event';
import { type Measurement, measureEach, type Scenario } from '../harness.js';

type Payload = { readonly sku: string; readonly quantity: number; readonly customer: string };
type Result = { readonly accepted: boolean; readonly total: number };
type BenchCommands = { 'bench.order.place': CommandSpec<Payload, Result> };

const payload: Payload = { sku: 'A-1', quantity: 2, customer: 'c-42' };
const handle = (p: Payload): Result => ({ accepted: true, total: p.quantity * 250 });

/** Runs `count` operations with `inFlight` of them at a time; records each one's latency. */
async function measureConcurrent(
  count: number,
  inFlight: number,
  op: (i: number) => Promise<void>,
): Promise<Measurement> {
  const latenciesMicros: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
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

/** The framework side: a handling and a dispatching instance of the distributed bus. */
class Framework {
  readonly events: EventBus;
  readonly handlerEvents: EventBus;
  readonly handler: CommandBus<BenchCommands>;
  readonly dispatcher: CommandBus<BenchCommands>;

  /** Both instances share one event bus, or each has its own (one NATS connection each). */
  constructor(events: EventBus = createMemoryEventBus(), handlerEvents: EventBus = events) {
    this.events = events;
    this.handlerEvents = handlerEvents;
    this.handler = createDistributedCommandBus(handlerEvents);
    this.dispatcher = createDistributedCommandBus(events);
  }

  async start(concurrency: number): Promise<void> {
    await this.handler.handle('bench.order.place', ({ payload: p }) => handle(p), { concurrency });
    await this.dispatch();
  }

  async dispatch(): Promise<void> {
    const result = await this.dispatcher.dispatch(createCommand('bench.order.place', payload), {
      sync: true,
    });
    if (!result.accepted) throw new Error('the handler refused');
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
    await this.handler.close();
    await this.events.close();
    if (this.handlerEvents !== this.events) await this.handlerEvents.close();
  }
}

/** The raw side: request/reply by hand over the same kind of in-memory event bus. */
class Raw {
  readonly events: EventBus = createMemoryEventBus();
  readonly #waiting = new Map<string, (result: Result) => void>();
  #subscriptions: Subscription[] = [];

  async start(): Promise<void> {
    const requests = await this.events.subscribe(['bench.request']);
    const replies = await this.events.subscribe(['bench.reply']);
    this.#subscriptions = [requests, replies];
    void (async () => {
      for await (const request of requests) {
        const { id, payload: p } = request.data as { id: string; payload: Payload };
        void this.events.publish([createEvent('bench.reply', { id, result: handle(p) })]);
      }
    })();
    void (async () => {
      for await (const reply of replies) {
        const { id, result } = reply.data as { id: string; result: Result };
        const resolve = this.#waiting.get(id);
        this.#waiting.delete(id);
        resolve?.(result);
      }
    })();
    await this.request();
  }

  async request(): Promise<void> {
    const request = createEvent('bench.request', { id: '', payload });
    const data = { id: request.id, payload };
    const result = await new Promise<Result>((resolve) => {
      this.#waiting.set(request.id, resolve);
      void this.events.publish([{ ...request, data }]);
    });
    if (!result.accepted) throw new Error('the responder refused');
  }

  async close(): Promise<void> {
    for (const subscription of this.#subscriptions) await subscription.close();
    await this.events.close();
  }
}

function roundTrip(id: string, inFlight: number, count: number): Scenario {
  let framework: Framework;
  let raw: Raw;
  return {
    id,
    backend: 'memory',
    title: `distributed bus: sync dispatch round trip, ${inFlight} in flight, vs raw request/reply events`,
    unit: 'commands',
    async setup() {
      framework = new Framework();
      await framework.start(inFlight);
      raw = new Raw();
      await raw.start();
    },
    framework: () =>
      inFlight === 1
        ? measureEach(count, () => framework.dispatch())
        : measureConcurrent(count, inFlight, () => framework.dispatch()),
    raw: () =>
      inFlight === 1
        ? measureEach(count, () => raw.request())
        : measureConcurrent(count, inFlight, () => raw.request()),
    async teardown() {
      await framework.close();
      await raw.close();
    },
  };
}

let local: CommandBus<BenchCommands>;

type SignalCommands = {
  'bench.signal.read': CommandSpec<Payload, Result>;
  'bench.signal.ignored': CommandSpec<Payload, Result>;
};

/**
 * The cost of the handler's signal: one bus (local, or a distributed pair over the in-memory
 * event bus) with two handlers doing the same work, one of which reads `signal` (as the
 * aggregate wiring does, to pass it to the repository) — framework — and one that does not — raw.
 */
function signalCost(id: string, kind: 'local' | 'distributed', count: number): Scenario {
  let events: EventBus;
  let handler: CommandBus<SignalCommands>;
  let dispatcher: CommandBus<SignalCommands>;
  const send = async (name: keyof SignalCommands) => {
    const result = await dispatcher.dispatch(createCommand(name, payload), { sync: true });
    if (!result.accepted) throw new Error('the handler refused');
  };
  return {
    id,
    backend: 'memory',
    title: `${kind} bus: sync dispatch, 1 in flight, handler reads its signal vs a handler that does not`,
    unit: 'commands',
    async setup() {
      events = createMemoryEventBus();
      handler =
        kind === 'local'
          ? createLocalCommandBus<SignalCommands>()
          : createDistributedCommandBus<SignalCommands>(events);
      dispatcher = kind === 'local' ? handler : createDistributedCommandBus<SignalCommands>(events);
      await handler.handle('bench.signal.read', ({ payload: p, signal }) => {
        signal.throwIfAborted();
        return handle(p);
      });
      await handler.handle('bench.signal.ignored', ({ payload: p }) => handle(p));
      await send('bench.signal.read');
    },
    framework: () => measureEach(count, () => send('bench.signal.read')),
    raw: () => measureEach(count, () => send('bench.signal.ignored')),
    async teardown() {
      await dispatcher.close();
      await handler.close();
      await events.close();
    },
  };
}

export const scenarios: Scenario[] = [
  roundTrip('C1', 1, 5_000),
  roundTrip('C2', 64, 20_000),
  {
    id: 'C3',
    backend: 'memory',
    title: 'local bus: sync dispatch, 1 in flight, vs calling the handler directly',
    unit: 'commands',
    async setup() {
      local = createLocalCommandBus<BenchCommands>();
      await local.handle('bench.order.place', ({ payload: p }) => handle(p));
    },
    framework: () =>
      measureEach(20_000, async () => {
        await local.dispatch(createCommand('bench.order.place', payload), { sync: true });
      }),
    raw: () =>
      measureEach(20_000, async () => {
        await Promise.resolve(handle(createCommand('bench.order.place', payload).payload));
      }),
    async teardown() {
      await local.close();
    },
  },
  signalCost('C5', 'local', 20_000),
  signalCost('C6', 'distributed', 5_000),
];
