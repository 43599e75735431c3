import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createEvent } from '@goes/event';
import { afterEach, describe, expect, it } from '@jest/globals';
import { createNatsEventBus, type NatsEventBus } from '../src/index.js';
import { deleteStream, eventually, NATS_URL, unique } from './helpers.js';

const runner = fileURLToPath(new URL('./fixtures/durable-subscriber.ts', import.meta.url));
const packageDir = fileURLToPath(new URL('..', import.meta.url));

/** A durable subscriber in a child process (tsx runs the TypeScript sources). */
class Child {
  readonly events: string[] = [];
  ready = false;
  exited = false;
  readonly #process: ChildProcess;
  #stderr = '';

  constructor(env: Record<string, string>) {
    const { NODE_OPTIONS: _, ...inherited } = process.env;
    this.#process = spawn(
      process.execPath,
      ['--conditions=@goes/source', '--import', 'tsx', runner],
      { cwd: packageDir, env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    createInterface({ input: this.#process.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const message = JSON.parse(line) as { ready?: boolean; event?: string };
      if (message.ready) this.ready = true;
      if (message.event) this.events.push(message.event);
    });
    this.#process.stderr?.on('data', (chunk: Buffer) => {
      this.#stderr += chunk.toString();
    });
    this.#process.on('exit', () => {
      this.exited = true;
    });
  }

  async waitReady(): Promise<void> {
    await eventually(() => this.ready || this.exited, 20_000, 'the child to subscribe');
    if (!this.ready) throw new Error(`the child process failed:\n${this.#stderr}`);
  }

  async stop(signal: NodeJS.Signals): Promise<void> {
    if (this.exited) return;
    this.#process.kill(signal);
    await eventually(() => this.exited, 10_000, `the child to exit on ${signal}`);
  }
}

const children: Child[] = [];
const buses: NatsEventBus[] = [];
const streams: string[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) await child.stop('SIGKILL');
  for (const bus of buses.splice(0)) await bus.close();
  for (const stream of streams.splice(0)) await deleteStream(stream);
});

function scenario() {
  const id = unique();
  const env = {
    GOES_NATS_URL: NATS_URL,
    PREFIX: `goestest.${id}`,
    STREAM: `GOESTEST_${id}`,
    ACK_WAIT: '1000',
    EVENT: 'order.placed',
    DURABLE: 'shipping',
  };
  streams.push(env.STREAM);
  const publisher = createNatsEventBus({
    driver: 'jetstream',
    url: NATS_URL,
    subjectPrefix: env.PREFIX,
    jetstream: { stream: env.STREAM, storage: 'memory', ackWait: 1_000 },
  });
  buses.push(publisher);
  const child = (extra: Record<string, string> = {}) => {
    const started = new Child({ ...env, ...extra });
    children.push(started);
    return started;
  };
  return { publisher, child };
}

describe('JetStream across processes', () => {
  it('a durable subscriber stopped and restarted receives what was published meanwhile, once', async () => {
    const { publisher, child } = scenario();
    const first = child();
    await first.waitReady();
    const before = createEvent('order.placed', { n: 0 });
    await publisher.publish([before]);
    await eventually(() => first.events.length === 1, 5_000, 'the first child to get the event');
    await first.stop('SIGTERM');

    const meanwhile = Array.from({ length: 5 }, (_, n) =>
      createEvent('order.placed', { n: n + 1 }),
    );
    await publisher.publish(meanwhile);
    const second = child();
    await second.waitReady();
    await eventually(() => second.events.length >= 5, 10_000, 'the restarted child to catch up');
    expect(first.events).toEqual([before.id]);
    expect(second.events).toEqual(meanwhile.map((e) => e.id));
  });

  it('an event in hand when the subscriber process dies is redelivered to its successor', async () => {
    const { publisher, child } = scenario();
    const crashing = child({ HOLD: '1' });
    await crashing.waitReady();
    const inHand = createEvent('order.placed', { n: 1 });
    await publisher.publish([inHand]);
    await eventually(() => crashing.events.length === 1, 5_000, 'the child to take the event');
    await crashing.stop('SIGKILL');

    const later = createEvent('order.placed', { n: 2 });
    await publisher.publish([later]);
    const successor = child();
    await successor.waitReady();
    await eventually(() => successor.events.length >= 2, 10_000, 'the redelivery');
    expect(successor.events.sort()).toEqual([inHand.id, later.id].sort());
  });
});
