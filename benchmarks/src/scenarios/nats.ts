/**
 * NATS event bus scenarios (issue 7): the bus against the raw NATS client doing the same work in
 * the same run. The raw twins encode and decode the same JSON envelope by hand, so the ratio shows
 * what the bus adds (validation, subject mapping, codec, bounded queue, async iteration), not the
 * cost of JSON.
 *
 * - B1 core: publish → 1 subscriber, flood, 200-byte data (goal ≥ 0.7× raw).
 * - B2 core: one-way latency unloaded, publish one and wait for it (goal: p50 ≤ raw p50 + 50 µs).
 * - B1js JetStream: publish (acked, windowed) → 1 subscriber (pull consumer, acked), flood.
 * - B2js JetStream: latency of one acked publish until the subscriber has it, unloaded.
 */
import { createEvent, type Event, uuidv7 } from '@goes/event';
import { createNatsEventBus, type NatsEventBus } from '@goes/nats';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { type Measurement, measure, measureEach, type Scenario } from '../harness.js';

const URL = process.env.GOES_NATS_URL ?? 'nats://127.0.0.1:4222';
const FLOOD = 50_000;
const JS_FLOOD = 20_000;
const LATENCY = 2_000;
const JS_LATENCY = 1_000;
const BATCH = 500;
const NAME = 'order.placed';

/** Order events with about 200 bytes of JSON data. */
function makeEvents(count: number): Event[] {
  const events: Event[] = [];
  for (let i = 0; i < count; i++) {
    const orderId = uuidv7();
    events.push(
      createEvent(
        NAME,
        {
          orderId,
          customer: `customer-${String(i % 10_000).padStart(6, '0')}`,
          items: [
            { sku: 'SKU-000042', qty: 2, cents: 1999 },
            { sku: 'SKU-000777', qty: 1, cents: 4599 },
          ],
          currency: 'EUR',
          seq: i,
        },
        { aggregate: { name: 'order', id: orderId, version: 1 } },
      ),
    );
  }
  return events;
}

const events = makeEvents(FLOOD);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The raw twin's encoding: the documented envelope, built by hand. */
function rawEncode(event: Event): Uint8Array {
  const aggregate = event.aggregate;
  return encoder.encode(
    JSON.stringify({
      v: 1,
      id: event.id,
      name: event.name,
      time: event.time.toString(),
      data: JSON.stringify(event.data),
      ...(aggregate
        ? { aggregate: { name: aggregate.name, id: aggregate.id, version: aggregate.version } }
        : {}),
    }),
  );
}

/** The raw twin's decoding: envelope, then data, then the nanosecond time. */
function rawDecode(bytes: Uint8Array): { id: string; time: bigint; data: unknown } {
  const envelope = JSON.parse(decoder.decode(bytes)) as { id: string; time: string; data: string };
  return { id: envelope.id, time: BigInt(envelope.time), data: JSON.parse(envelope.data) };
}

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));
const unique = () => uuidv7().replaceAll('-', '').slice(-10);

let pubConnection: NatsConnection | undefined;
let subConnection: NatsConnection | undefined;
const connections = async () => {
  pubConnection ??= await connect({ servers: URL, name: 'bench-raw-pub' });
  subConnection ??= await connect({ servers: URL, name: 'bench-raw-sub' });
  return { pub: pubConnection, sub: subConnection };
};
let publisher: NatsEventBus | undefined;
let subscriber: NatsEventBus | undefined;
const buses = () => {
  const prefix = `goesbench.${unique()}`;
  publisher ??= createNatsEventBus({ url: URL, subjectPrefix: prefix });
  subscriber ??= createNatsEventBus({ url: URL, subjectPrefix: prefix });
  return { publisher, subscriber };
};

async function closeAll(): Promise<void> {
  await publisher?.close();
  await subscriber?.close();
  await pubConnection?.drain();
  await subConnection?.drain();
  publisher = subscriber = pubConnection = subConnection = undefined;
}

/** Publishes in batches, yielding to the event loop between them (see perf.md §3.4). */
async function floodBus(bus: NatsEventBus, list: readonly Event[]): Promise<void> {
  for (let i = 0; i < list.length; i += BATCH) {
    await bus.publish(list.slice(i, i + BATCH));
    await yieldToLoop();
  }
}

export const scenarios: Scenario[] = [
  {
    id: 'B1',
    backend: 'nats',
    title: 'core bus publish → 1 subscriber, 50k events, 200 B data (flood)',
    unit: 'events',
    requires: ['nats'],
    goal: '≥ 0.7× raw',
    async framework(): Promise<Measurement> {
      const { publisher, subscriber } = buses();
      const sub = await subscriber.subscribe([NAME], { bufferSize: FLOOD });
      let received = 0;
      return measure(FLOOD, async () => {
        const reading = (async () => {
          for await (const _ of sub) if (++received === FLOOD) break;
        })();
        await floodBus(publisher, events);
        await reading;
      });
    },
    async raw(): Promise<Measurement> {
      const { pub, sub } = await connections();
      const subject = `goesbench.${unique()}.${NAME}`;
      let received = 0;
      let done: () => void = () => {};
      const finished = new Promise<void>((resolve) => {
        done = resolve;
      });
      const subscription = sub.subscribe(subject, {
        callback: (_error: Error | null, msg: Msg) => {
          rawDecode(msg.data);
          if (++received === FLOOD) done();
        },
      });
      await sub.flush();
      const m = await measure(FLOOD, async () => {
        for (let i = 0; i < events.length; i += BATCH) {
          const end = Math.min(events.length, i + BATCH);
          for (let j = i; j < end; j++) pub.publish(subject, rawEncode(events[j] as Event));
          await yieldToLoop();
        }
        await finished;
      });
      subscription.unsubscribe();
      return m;
    },
  },
  {
    id: 'B2',
    backend: 'nats',
    title: 'core bus one-way latency, unloaded (publish one, await it), 2k events',
    unit: 'events',
    requires: ['nats'],
    goal: 'p50 ≤ raw p50 + 50 µs',
    async framework(): Promise<Measurement> {
      const { publisher, subscriber } = buses();
      const sub = await subscriber.subscribe([NAME]);
      const iterator = sub[Symbol.asyncIterator]();
      const m = await measureEach(LATENCY, async (i) => {
        await publisher.publish([events[i] as Event]);
        await iterator.next();
      });
      await iterator.return?.();
      return m;
    },
    async raw(): Promise<Measurement> {
      const { pub, sub } = await connections();
      const subject = `goesbench.${unique()}.${NAME}`;
      let arrived: () => void = () => {};
      const subscription = sub.subscribe(subject, {
        callback: (_error: Error | null, msg: Msg) => {
          rawDecode(msg.data);
          arrived();
        },
      });
      await sub.flush();
      const m = await measureEach(LATENCY, async (i) => {
        const received = new Promise<void>((resolve) => {
          arrived = resolve;
        });
        pub.publish(subject, rawEncode(events[i] as Event));
        await received;
      });
      subscription.unsubscribe();
      return m;
    },
    teardown: closeAll,
  },
  {
    id: 'B1js',
    backend: 'nats',
    title: 'JetStream bus publish (acked) → 1 subscriber (acked), 20k events, 200 B data',
    unit: 'events',
    requires: ['nats'],
    async framework(): Promise<Measurement> {
      const id = unique();
      const stream = `GOESBENCH_${id}`;
      const bus = createNatsEventBus({
        driver: 'jetstream',
        url: URL,
        subjectPrefix: `goesbench.${id}`,
        jetstream: { stream, storage: 'memory' },
      });
      try {
        const sub = await bus.subscribe([NAME], { bufferSize: 4_096 });
        let received = 0;
        return await measure(JS_FLOOD, async () => {
          const reading = (async () => {
            for await (const _ of sub) if (++received === JS_FLOOD) break;
          })();
          await floodBus(bus, events.slice(0, JS_FLOOD));
          await reading;
        });
      } finally {
        await bus.close();
        const jsm = await jetstreamManager((await connections()).pub);
        await jsm.streams.delete(stream).catch(() => false);
      }
    },
    async raw(): Promise<Measurement> {
      const { pub, sub } = await connections();
      const id = unique();
      const stream = `GOESBENCH_${id}`;
      const subject = `goesbench.${id}.${NAME}`;
      const jsm = await jetstreamManager(pub);
      await jsm.streams.add({
        name: stream,
        subjects: [`goesbench.${id}.>`],
        storage: 'memory' as never,
      });
      const info = await jsm.consumers.add(stream, {
        name: `raw_${id}`,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.New,
        filter_subject: subject,
      });
      const js = jetstream(pub);
      const messages = await jetstream(sub)
        .consumers.getConsumerFromInfo(info)
        .consume({ max_messages: 256 });
      try {
        let received = 0;
        return await measure(JS_FLOOD, async () => {
          const reading = (async () => {
            for await (const msg of messages) {
              rawDecode(msg.data);
              msg.ack();
              if (++received === JS_FLOOD) break;
            }
          })();
          for (let i = 0; i < JS_FLOOD; i += 256) {
            const acks: Promise<unknown>[] = [];
            const end = Math.min(JS_FLOOD, i + 256);
            for (let j = i; j < end; j++) {
              const event = events[j] as Event;
              acks.push(js.publish(subject, rawEncode(event), { msgID: event.id }));
            }
            await Promise.all(acks);
          }
          await reading;
        });
      } finally {
        await jsm.streams.delete(stream).catch(() => false);
      }
    },
    teardown: closeAll,
  },
  {
    id: 'B2js',
    backend: 'nats',
    title: 'JetStream bus latency, unloaded (acked publish of one, await it), 1k events',
    unit: 'events',
    requires: ['nats'],
    async framework(): Promise<Measurement> {
      const id = unique();
      const stream = `GOESBENCH_${id}`;
      const bus = createNatsEventBus({
        driver: 'jetstream',
        url: URL,
        subjectPrefix: `goesbench.${id}`,
        jetstream: { stream, storage: 'memory' },
      });
      try {
        const iterator = (await bus.subscribe([NAME]))[Symbol.asyncIterator]();
        return await measureEach(JS_LATENCY, async (i) => {
          await bus.publish([events[i] as Event]);
          await iterator.next();
        });
      } finally {
        await bus.close();
        const jsm = await jetstreamManager((await connections()).pub);
        await jsm.streams.delete(stream).catch(() => false);
      }
    },
    async raw(): Promise<Measurement> {
      const { pub, sub } = await connections();
      const id = unique();
      const stream = `GOESBENCH_${id}`;
      const subject = `goesbench.${id}.${NAME}`;
      const jsm = await jetstreamManager(pub);
      await jsm.streams.add({
        name: stream,
        subjects: [`goesbench.${id}.>`],
        storage: 'memory' as never,
      });
      const info = await jsm.consumers.add(stream, {
        name: `raw_${id}`,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.New,
        filter_subject: subject,
      });
      const js = jetstream(pub);
      let arrived: () => void = () => {};
      const messages = await jetstream(sub)
        .consumers.getConsumerFromInfo(info)
        .consume({
          max_messages: 256,
          callback: (msg) => {
            rawDecode(msg.data);
            msg.ack();
            arrived();
          },
        });
      try {
        return await measureEach(JS_LATENCY, async (i) => {
          const received = new Promise<void>((resolve) => {
            arrived = resolve;
          });
          const event = events[i] as Event;
          await js.publish(subject, rawEncode(event), { msgID: event.id });
          await received;
        });
      } finally {
        messages.stop();
        await jsm.streams.delete(stream).catch(() => false);
      }
    },
    teardown: closeAll,
  },
];
