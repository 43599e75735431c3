import { createEvent, type Event, type Subscription } from '@goes/event';
import { afterEach, describe, expect, it } from '@jest/globals';
import { type ConsumerInfo, jetstreamManager } from '@nats-io/jetstream';
import { createNatsEventBus, type JetStreamOptions, type NatsEventBus } from '../src/index.js';
import { adminConnection, deleteStream, NATS_URL, unique } from './helpers.js';

// What an ending subscription or bus leaves on the server: consumers, unacknowledged events.

const buses: NatsEventBus[] = [];
const streams: string[] = [];

afterEach(async () => {
  for (const bus of buses.splice(0)) await bus.close();
  for (const stream of streams.splice(0)) await deleteStream(stream);
});

function setup(jetstream: JetStreamOptions = {}) {
  const id = unique();
  const stream = `GOESTEST_${id}`;
  streams.push(stream);
  const bus = () => {
    const created = createNatsEventBus({
      driver: 'jetstream',
      url: NATS_URL,
      subjectPrefix: `goestest.${id}`,
      jetstream: { stream, storage: 'memory', ...jetstream },
    });
    buses.push(created);
    return created;
  };
  return { stream, bus };
}

async function consumers(stream: string): Promise<ConsumerInfo[]> {
  const jsm = await jetstreamManager(await adminConnection());
  const list: ConsumerInfo[] = [];
  for await (const info of jsm.consumers.list(stream)) list.push(info);
  return list;
}

/** Iterates `subscription`, calling `handle` per event; resolves `started` at the first. */
function consume(subscription: Subscription, handle: (event: Event) => Promise<void>) {
  let started!: () => void;
  const first = new Promise<void>((resolve) => {
    started = resolve;
  });
  const loop = (async () => {
    for await (const event of subscription) {
      started();
      await handle(event);
    }
  })();
  return { started: first, loop };
}

describe('JetStream subscribe aborted while its consumer is created', () => {
  it('deletes the ephemeral consumer the request in flight created', async () => {
    const { stream, bus } = setup();
    const subscriber = bus();
    await subscriber.publish([createEvent('x', 0)]); // connected, stream set up
    const nc = await adminConnection();
    const controller = new AbortController();
    // Aborts when the server receives the create request, before its answer reaches the bus.
    const spy = nc.subscribe(`$JS.API.CONSUMER.CREATE.${stream}.>`, {
      max: 1,
      callback: () => controller.abort(new Error('stop')),
    });
    await nc.flush();
    const error = await subscriber
      .subscribe(['x'], { signal: controller.signal })
      .catch((e: unknown) => e);
    spy.unsubscribe();
    expect((error as Error).message).toBe('stop');
    expect(await consumers(stream)).toEqual([]);
  });
});

describe('bus.close() while a JetStream handler works on an event', () => {
  it('waits for the handler, so its acknowledgement reaches the server before the drain', async () => {
    const { stream, bus } = setup();
    const subscriber = bus();
    const work = consume(await subscriber.subscribe(['x'], { durable: 'slow' }), async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
    });
    await bus().publish([createEvent('x', 1)]);
    await work.started;
    await subscriber.close();
    await work.loop;
    const [consumer] = await consumers(stream);
    expect(consumer?.num_ack_pending).toBe(0);
    expect(consumer?.ack_floor.stream_seq).toBe(1);
  });

  it("nak's the event of a handler that does not finish in time, for a prompt redelivery", async () => {
    // The wait is half the ack wait (here 1 s); the event still in hand is then nak'ed.
    const { stream, bus } = setup({ ackWait: 2_000, redeliveryDelay: 0 });
    const subscriber = bus();
    const nc = await adminConnection();
    const replies: string[] = [];
    const acks = nc.subscribe(`$JS.ACK.${stream}.>`, {
      callback: (_, msg) => {
        replies.push(msg.string());
      },
    });
    await nc.flush();
    let release!: () => void;
    const stuck = new Promise<void>((resolve) => {
      release = resolve;
    });
    const work = consume(await subscriber.subscribe(['x'], { durable: 'stuck' }), () => stuck);
    await bus().publish([createEvent('x', 1)]);
    await work.started;
    await subscriber.close();
    await nc.flush();
    acks.unsubscribe();
    // Sent before the drain; without it nothing was, and the event waited out the ack wait.
    expect(replies.filter((reply) => !reply.startsWith('+WPI'))).toEqual([
      expect.stringMatching(/^-NAK/),
    ]);
    release();
    await work.loop;
  });
});
