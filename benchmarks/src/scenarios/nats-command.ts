/**
 * The distributed command bus over NATS (issue 7): synchronous dispatch round trips through
 * `createDistributedCommandBus` over the NATS event bus, a dispatching and a handling instance,
 * each with its own NATS connection (as two services would run). Raw twin: the NATS client's own
 * request/reply (`nc.request` to a responder on another connection), JSON payload and result —
 * the least a command round trip over NATS can cost. The command protocol sends 4 messages per
 * synchronous command (dispatched, requested, assigned, executed) where request/reply sends 2.
 *
 * - NC1 core, 1 in flight: round-trip latency (goal: p50 ≤ 3× raw p50).
 * - NC2 core, 64 in flight (handler concurrency 64): throughput (goal ≥ 0.5× raw).
 * - NC3, NC4 JetStream (memory stream), 1 and 64 in flight, against the same raw core
 *   request/reply: what storing and acknowledging every protocol message costs (why the README
 *   recommends core NATS for commands).
 */
import {
  type CommandBus,
  type CommandSpec,
  createCommand,
  createDistributedCommandBus,
} from '@goes/command';
import { type EventBus, uuidv7 } from '@goes/event';
import { createNatsEventBus, type NatsEventBusOptions } from '@goes/nats';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { type Measurement, measureEach, type Scenario } from '../harness.js';

const URL = process.env.GOES_NATS_URL ?? 'nats://127.0.0.1:4222';
const NAME = 'bench.order.place';

type Payload = { readonly sku: string; readonly quantity: number; readonly customer: string };
type Result = { readonly accepted: boolean; readonly total: number };
type BenchCommands = { [NAME]: CommandSpec<Payload, Result> };

const payload: Payload = { sku: 'A-1', quantity: 2, customer: 'c-42' };
const handle = (p: Payload): Result => ({ accepted: true, total: p.quantity * 250 });
const unique = () => uuidv7().replaceAll('-', '').slice(-10);

/** Runs `count` operations, `inFlight` at a time, and records each one's latency. */
async function measureConcurrent(
  count: number,
  inFlight: number,
  op: () => Promise<void>,
): Promise<Measurement> {
  const latenciesMicros: number[] = [];
  let started = 0;
  const worker = async () => {
    while (started < count) {
      started++;
      const t0 = process.hrtime.bigint();
      await op();
      latenciesMicros.push(Number(process.hrtime.bigint() - t0) / 1e3);
    }
  };
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: inFlight }, worker));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { count, seconds, latenciesMicros };
}

/** The framework side: two command bus instances, each on its own NATS event bus (connection). */
class OverNats {
  readonly #transports: EventBus[] = [];
  readonly #handler: CommandBus<BenchCommands>;
  readonly #dispatcher: CommandBus<BenchCommands>;

  constructor(options: NatsEventBusOptions) {
    const instance = () => {
      const events = createNatsEventBus({ url: URL, ...options });
      this.#transports.push(events);
      return createDistributedCommandBus<BenchCommands>(events);
    };
    this.#handler = instance();
    this.#dispatcher = instance();
  }

  async start(concurrency: number): Promise<void> {
    await this.#handler.handle(NAME, ({ payload: p }) => handle(p), { concurrency });
    await this.dispatch();
  }

  async dispatch(): Promise<void> {
    const result = await this.#dispatcher.dispatch(createCommand(NAME, payload), { sync: true });
    if (!result.accepted) throw new Error('the handler refused');
  }

  async close(): Promise<void> {
    await this.#dispatcher.close();
    await this.#handler.close();
    for (const events of this.#transports) await events.close();
  }
}

/** The raw side: request/reply with the NATS client, a requester and a responder connection. */
class RawRequestReply {
  #requester: NatsConnection | undefined;
  #responder: NatsConnection | undefined;
  readonly #subject = `bench.command.${unique()}`;

  async start(): Promise<void> {
    this.#responder = await connect({ servers: URL });
    this.#requester = await connect({ servers: URL });
    this.#responder.subscribe(this.#subject, {
      callback: (error, msg) => {
        if (error) return;
        const request = msg.json<{ id: string; payload: Payload }>();
        msg.respond(JSON.stringify(handle(request.payload)));
      },
    });
    await this.#responder.flush();
    await this.request();
  }

  async request(): Promise<void> {
    const reply = await (this.#requester as NatsConnection).request(
      this.#subject,
      JSON.stringify({ id: uuidv7(), payload }),
      { timeout: 10_000 },
    );
    if (!reply.json<Result>().accepted) throw new Error('the responder refused');
  }

  async close(): Promise<void> {
    await this.#requester?.drain();
    await this.#responder?.drain();
  }
}

function roundTrip(options: {
  id: string;
  title: string;
  goal: string;
  inFlight: number;
  count: number;
  pairs?: number;
  jetstream?: boolean;
}): Scenario {
  const { inFlight, count } = options;
  let framework: OverNats;
  let raw: RawRequestReply;
  let stream: string | undefined;
  const run = (op: () => Promise<void>) =>
    inFlight === 1 ? measureEach(count, op) : measureConcurrent(count, inFlight, op);
  return {
    id: options.id,
    backend: 'nats',
    title: options.title,
    unit: 'commands',
    requires: ['nats'],
    goal: options.goal,
    ...(options.pairs ? { pairs: options.pairs } : {}),
    async setup() {
      const id = unique();
      stream = options.jetstream ? `BENCH_COMMANDS_${id}` : undefined;
      framework = new OverNats({
        subjectPrefix: `bench.${id}`,
        ...(stream ? { driver: 'jetstream', jetstream: { stream, storage: 'memory' } } : {}),
      });
      await framework.start(inFlight);
      raw = new RawRequestReply();
      await raw.start();
    },
    framework: () => run(() => framework.dispatch()),
    raw: () => run(() => raw.request()),
    async teardown() {
      await framework.close();
      await raw.close();
      if (stream) {
        const nc = await connect({ servers: URL });
        await (await jetstreamManager(nc)).streams.delete(stream).catch(() => false);
        await nc.drain();
      }
    },
  };
}

export const scenarios: Scenario[] = [
  roundTrip({
    id: 'NC1',
    title: 'command bus over NATS core: sync dispatch round trip, 1 in flight, vs raw nc.request',
    goal: 'p50 ≤ 3× raw p50',
    inFlight: 1,
    count: 1_000,
  }),
  roundTrip({
    id: 'NC2',
    title:
      'command bus over NATS core: sync dispatch, 64 in flight (handler concurrency 64), vs raw nc.request 64 in flight',
    goal: '≥ 0.5× raw',
    inFlight: 64,
    count: 10_000,
  }),
  roundTrip({
    id: 'NC3',
    title:
      'command bus over NATS JetStream (memory stream): sync dispatch, 1 in flight, vs raw core nc.request',
    goal: 'informative (core is recommended)',
    inFlight: 1,
    count: 500,
    pairs: 3,
    jetstream: true,
  }),
  roundTrip({
    id: 'NC4',
    title:
      'command bus over NATS JetStream (memory stream): sync dispatch, 64 in flight, vs raw core nc.request 64 in flight',
    goal: 'informative (core is recommended)',
    inFlight: 64,
    count: 3_000,
    pairs: 3,
    jetstream: true,
  }),
];
