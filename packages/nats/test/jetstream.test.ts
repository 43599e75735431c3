import { createEvent, type Event, isGoesError, type Subscription } from '@goes/event';
import { record } from '@goes/testing';
import { afterEach, describe, expect, it } from '@jest/globals';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import {
  createNatsEventBus,
  type DeadLetterError,
  type JetStreamOptions,
  type NatsEventBus,
  type NatsEventBusOptions,
} from '../src/index.js';
import { adminConnection, deleteStream, eventually, NATS_URL, unique } from './helpers.js';

const buses: NatsEventBus[] = [];
const streams = new Set<string>();

afterEach(async () => {
  for (const bus of buses.splice(0)) await bus.close();
  for (const stream of streams) await deleteStream(stream);
  streams.clear();
});

/** A test's own stream and prefix; `bus()` opens buses on them. */
function setup(jetstreamOptions: JetStreamOptions = {}, options: NatsEventBusOptions = {}) {
  const id = unique();
  const stream = `GOESTEST_${id}`;
  const prefix = `goestest.${id}`;
  streams.add(stream);
  streams.add(`${stream}_DEAD_LETTERS`);
  const bus = (more: JetStreamOptions = {}) => {
    const created = createNatsEventBus({
      driver: 'jetstream',
      url: NATS_URL,
      subjectPrefix: prefix,
      ...options,
      jetstream: { stream, storage: 'memory', ...jetstreamOptions, ...more },
    });
    buses.push(created);
    return created;
  };
  return { id, stream, prefix, bus };
}

/** Reads one event from a subscription, then leaves the loop (break). */
async function takeOne(subscription: Subscription): Promise<Event> {
  for await (const event of subscription) return event;
  throw new Error('the subscription ended without an event');
}

describe('JetStream driver', () => {
  it('creates one stream for the whole prefix with the configured limits, and updates it idempotently', async () => {
    const { stream, prefix, bus } = setup({
      maxAge: 3_600_000,
      maxMsgs: 1_000,
      duplicateWindow: 60_000,
    });
    const first = bus();
    await first.publish([createEvent('a.b', 1), createEvent('c', 2), createEvent('d.e.f', 3)]);
    const jsm = await jetstreamManager(await adminConnection());
    const info = await jsm.streams.info(stream);
    expect(info.config.subjects).toEqual([`${prefix}.>`]);
    expect(info.config.max_age).toBe(nanos(3_600_000));
    expect(info.config.max_msgs).toBe(1_000);
    expect(info.config.duplicate_window).toBe(nanos(60_000));
    expect(info.config.storage).toBe('memory');
    expect(info.state.messages).toBe(3);

    const second = bus({ maxAge: 60_000 });
    await second.publish([createEvent('a.b', 4)]);
    const updated = await jsm.streams.info(stream);
    expect(updated.config.max_age).toBe(nanos(60_000));
    expect(updated.config.subjects).toEqual([`${prefix}.>`]);
    expect(updated.state.messages).toBe(4);

    const wrongStorage = bus({ storage: 'file' });
    const error = await wrongStorage.publish([createEvent('a.b', 5)]).catch((e: unknown) => e);
    expect(isGoesError(error, 'JETSTREAM_SETUP_FAILED')).toBe(true);
    expect((error as Error).message).toContain('storage');
  });

  it('looks the stream up once per bus, not on every publish (goes bug 32)', async () => {
    const { stream, bus } = setup();
    const nc = await adminConnection();
    let lookups = 0;
    const spy = nc.subscribe(`$JS.API.STREAM.INFO.${stream}`, {
      callback: () => {
        lookups++;
      },
    });
    await nc.flush();
    const publisher = bus();
    for (let i = 0; i < 20; i++) await publisher.publish([createEvent(`name${i % 4}`, i)]);
    await nc.flush();
    spy.unsubscribe();
    expect(lookups).toBe(1);
  });

  it('sets the stream up again when it was deleted while the bus runs', async () => {
    const { stream, bus } = setup();
    const publisher = bus();
    await publisher.publish([createEvent('x', 1)]);
    await deleteStream(stream);
    await publisher.publish([createEvent('x', 2)]);
    const jsm = await jetstreamManager(await adminConnection());
    expect((await jsm.streams.info(stream)).state.messages).toBe(1);
  });

  it('splits a group between subscribers on different connections, each event to one of them', async () => {
    const { bus } = setup();
    const [a, b, publisher] = [bus(), bus(), bus()];
    const members = [
      record(await a.subscribe(['job'], { group: 'workers' })),
      record(await b.subscribe(['job'], { group: 'workers' })),
    ];
    const events = Array.from({ length: 40 }, (_, i) => createEvent('job', i));
    for (const event of events) await publisher.publish([event]);
    const total = () => members.reduce((n, m) => n + m.events.length, 0);
    await eventually(() => total() === 40, 3_000, '40 events across the group');
    const ids = members.flatMap((m) => m.events.map((e) => e.id)).sort();
    expect(ids).toEqual(events.map((e) => e.id).sort());
    expect(members.every((m) => m.events.length > 0)).toBe(true);
  });

  it('drops a second publish of the same event id (Nats-Msg-Id de-duplication)', async () => {
    const { stream, bus } = setup();
    const publisher = bus();
    const event = createEvent('order.placed', { total: 1 });
    await publisher.publish([event]);
    await publisher.publish([event]);
    const jsm = await jetstreamManager(await adminConnection());
    expect((await jsm.streams.info(stream)).state.messages).toBe(1);
    const replay = record(await publisher.subscribe(['order.placed'], { deliver: 'all' }));
    await replay.waitFor((all) => all.length === 1, 1_000);
  });

  it('resumes a durable consumer where it left off: events published while nobody listened arrive', async () => {
    const { bus } = setup();
    const first = bus();
    const before = createEvent('order.placed', { n: 0 });
    const sub = await first.subscribe(['order.placed'], { durable: 'billing' });
    await first.publish([before]);
    const iterator = sub[Symbol.asyncIterator]();
    expect((await iterator.next()).value?.id).toBe(before.id);
    // Asking for the next event acknowledges `before` (ack: next); closing the bus ends the wait.
    const pending = iterator.next();
    await first.close();
    expect((await pending).done).toBe(true);

    const meanwhile = Array.from({ length: 3 }, (_, n) =>
      createEvent('order.placed', { n: n + 1 }),
    );
    await bus().publish(meanwhile);
    const recorder = record(await bus().subscribe(['order.placed'], { durable: 'billing' }));
    await recorder.waitFor((all) => all.length === 3, 2_000);
    expect(recorder.events.map((e) => e.id)).toEqual(meanwhile.map((e) => e.id));
  });

  it('redelivers the event in hand when the loop is left (ack: next), not after ack: pull', async () => {
    const { bus } = setup({ redeliveryDelay: 100 });
    const publisher = bus();
    const next = await publisher.subscribe(['job'], { durable: 'next-mode' });
    const pull = await publisher.subscribe(['job'], { durable: 'pull-mode', ack: 'pull' });
    const job = createEvent('job', 1);
    await publisher.publish([job]);
    expect((await takeOne(next)).id).toBe(job.id);
    expect((await takeOne(pull)).id).toBe(job.id);

    const marker = createEvent('job', 2);
    await publisher.publish([marker]);
    const again = record(await publisher.subscribe(['job'], { durable: 'next-mode' }));
    await again.waitFor((all) => all.length === 2, 2_000);
    // The job comes back after the redelivery delay, so the marker may overtake it.
    expect(again.events.map((e) => e.id).sort()).toEqual([job.id, marker.id].sort());
    const notAgain = record(
      await publisher.subscribe(['job'], { durable: 'pull-mode', ack: 'pull' }),
    );
    await notAgain.waitFor((all) => all.length === 1, 2_000);
    expect(notAgain.events.map((e) => e.id)).toEqual([marker.id]);
  });

  it('gives an event up after maxDeliver deliveries: dead-letters it with headers and reports it', async () => {
    const dead = `goestestdead.${unique()}`;
    const { bus } = setup({ maxDeliver: 2, deadLetterSubject: dead, redeliveryDelay: 200 });
    const publisher = bus();
    const poison = createEvent('payment.requested', { amount: 1 });
    await publisher.publish([poison]);
    for (let attempt = 1; attempt <= 2; attempt++) {
      const sub = await publisher.subscribe(['payment.requested'], {
        durable: 'payments',
        deliver: 'all',
      });
      expect((await takeOne(sub)).id).toBe(poison.id);
    }
    const errors: unknown[] = [];
    const sub = record(
      await publisher.subscribe(['payment.requested'], {
        durable: 'payments',
        onError: (e) => errors.push(e),
      }),
    );
    await eventually(() => errors.length === 1, 2_000, 'the dead-letter report');
    const report = errors[0] as DeadLetterError;
    expect(isGoesError(report, 'EVENT_DEAD_LETTERED')).toBe(true);
    expect(report.deliveries).toBe(3);
    expect(report.deadLetterSubject).toBe(dead);
    const later = createEvent('payment.requested', { amount: 2 });
    await publisher.publish([later]);
    await sub.waitFor((all) => all.length === 1, 2_000);
    expect(sub.events[0]?.id).toBe(later.id);

    const jsm = await jetstreamManager(await adminConnection());
    const letter = await jsm.streams.getMessage(`${setupStreamOf(publisher)}_DEAD_LETTERS`, {
      last_by_subj: dead,
    });
    if (!letter) throw new Error('no dead letter was stored');
    expect(letter.json<{ id: string }>().id).toBe(poison.id);
    expect(letter.header.get('Goes-Deliveries')).toBe('3');
    expect(letter.header.get('Goes-Original-Subject')).toBe(
      publisher.subjectOf('payment.requested'),
    );
    expect(letter.header.get('Goes-Dead-Letter-Reason')).toContain(
      'not acknowledged after 2 deliveries',
    );
  });

  it('dead-letters a message that is not a goes envelope at once, and keeps delivering', async () => {
    const dead = `goestestdead.${unique()}`;
    const { bus } = setup({ deadLetterSubject: dead });
    const subscriber = bus();
    const errors: unknown[] = [];
    const recorder = record(await subscriber.subscribe(['x'], { onError: (e) => errors.push(e) }));
    const js = jetstream(await adminConnection());
    await js.publish(subscriber.subjectOf('x'), '{"v":9}');
    const good = createEvent('x', 1);
    await subscriber.publish([good]);
    await recorder.waitFor((all) => all.length === 1, 2_000);
    await eventually(() => errors.length === 1, 2_000, 'the dead-letter report');
    expect((errors[0] as Error).message).toContain('envelope version 9');
    expect((errors[0] as DeadLetterError).deliveries).toBe(1);
  });

  it('stops pulling while a slow subscriber is full (overflow: block) and loses nothing', async () => {
    const { bus } = setup({ pullBatch: 4 });
    const publisher = bus();
    const errors: unknown[] = [];
    const sub = await publisher.subscribe(['tick'], {
      bufferSize: 4,
      onError: (e) => errors.push(e),
    });
    const events = Array.from({ length: 60 }, (_, i) => createEvent('tick', i));
    await publisher.publish(events);
    const received: string[] = [];
    for await (const event of sub) {
      received.push(event.id);
      if (received.length % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      if (received.length === 60) break;
    }
    expect(received).toEqual(events.map((e) => e.id));
    expect(errors).toEqual([]);
  });

  it('ends an overflowing subscription (overflow: fail) without losing its events for the durable', async () => {
    // Messages still in flight to the ended subscription come back after the ack wait.
    const { bus } = setup({ ackWait: 1_000 });
    const publisher = bus();
    const sub = await publisher.subscribe(['tick'], {
      durable: 'slow',
      bufferSize: 2,
      overflow: 'fail',
    });
    const events = Array.from({ length: 10 }, (_, i) => createEvent('tick', i));
    await publisher.publish(events);
    // Nobody reads for a while, so the queue of 2 overflows.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const recorder = record(sub);
    await recorder.waitForEnd(2_000);
    expect(isGoesError(recorder.error, 'SUBSCRIBER_OVERFLOW')).toBe(true);
    const resumed = record(await publisher.subscribe(['tick'], { durable: 'slow' }));
    await resumed.waitFor((all) => new Set(all.map((e) => e.id)).size === 10, 5_000);
  });

  it('keeps a held event from being redelivered while the subscriber is alive (working beyond the ack wait)', async () => {
    const { bus } = setup({ ackWait: 1_000 });
    const a = bus();
    const b = bus();
    const holder = await a.subscribe(['job'], { group: 'workers', bufferSize: 1 });
    const job = createEvent('job', 1);
    await a.publish([job]);
    const iterator = holder[Symbol.asyncIterator]();
    expect((await iterator.next()).value?.id).toBe(job.id);
    const other = record(await b.subscribe(['job'], { group: 'workers' }));
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(other.events).toEqual([]);
    await iterator.return?.();
  });
});

function setupStreamOf(bus: NatsEventBus): string {
  const id = bus.subjectPrefix.split('.')[1];
  return `GOESTEST_${id}`;
}
