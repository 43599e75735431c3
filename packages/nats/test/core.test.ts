import { createServer, type Server, connect as tcpConnect } from 'node:net';
import { createEvent, type Event, isGoesError } from '@goes/event';
import { record } from '@goes/testing';
import { afterEach, describe, expect, it } from '@jest/globals';
import { connect } from '@nats-io/transport-node';
import { createNatsEventBus, type NatsEventBus } from '../src/index.js';
import { adminConnection, eventually, NATS_URL, unique } from './helpers.js';

const buses: NatsEventBus[] = [];
const open = (options: Parameters<typeof createNatsEventBus>[0] = {}) => {
  const bus = createNatsEventBus({
    url: NATS_URL,
    subjectPrefix: `goestest.${unique()}`,
    ...options,
  });
  buses.push(bus);
  return bus;
};
afterEach(async () => {
  for (const bus of buses.splice(0)) await bus.close();
});

describe('core NATS driver', () => {
  it('balances a queue group across connections: each event reaches exactly one member', async () => {
    const prefix = `goestest.${unique()}`;
    const [a, b, publisher] = [
      open({ subjectPrefix: prefix }),
      open({ subjectPrefix: prefix }),
      open({ subjectPrefix: prefix }),
    ];
    const members = [
      record(await a.subscribe(['job.queued'], { group: 'workers' })),
      record(await b.subscribe(['job.queued'], { group: 'workers' })),
    ];
    const everyone = record(await b.subscribe(['job.queued']));
    const events = Array.from({ length: 40 }, (_, i) => createEvent('job.queued', { i }));
    await publisher.publish(events);
    await everyone.waitFor((all) => all.length === 40, 2_000);
    const total = () => members.reduce((n, m) => n + m.events.length, 0);
    await eventually(() => total() === 40, 2_000, '40 events across the group');
    const ids = members.flatMap((m) => m.events.map((e) => e.id)).sort();
    expect(ids).toEqual(events.map((e) => e.id).sort());
    expect(members.every((m) => m.events.length > 0)).toBe(true);
  });

  it('refuses overflow "block" and durable names with a typed error', async () => {
    const bus = open();
    const block = await bus.subscribe(['x'], { overflow: 'block' }).catch((e: unknown) => e);
    expect(isGoesError(block, 'INVALID_ARGUMENT')).toBe(true);
    expect((block as Error).message).toContain('JetStream');
    const durable = await bus.subscribe(['x'], { durable: 'd' }).catch((e: unknown) => e);
    expect(isGoesError(durable, 'INVALID_ARGUMENT')).toBe(true);
  });

  it('ends a subscription that overflows with SUBSCRIBER_OVERFLOW (fail), or reports drops (drop)', async () => {
    const bus = open();
    const failing = await bus.subscribe(['tick'], { bufferSize: 2 });
    const drops: unknown[] = [];
    const dropping = await bus.subscribe(['tick'], {
      bufferSize: 2,
      overflow: 'drop',
      onError: (e) => drops.push(e),
    });
    await bus.publish(Array.from({ length: 5 }, () => createEvent('tick', 1)));
    const iterator = failing[Symbol.asyncIterator]();
    await eventually(async () => drops.length === 3, 2_000, 'three drops');
    expect((await iterator.next()).done).toBe(false);
    expect((await iterator.next()).done).toBe(false);
    const error = await iterator.next().catch((e: unknown) => e);
    expect(isGoesError(error, 'SUBSCRIBER_OVERFLOW')).toBe(true);
    expect(drops.every((e) => isGoesError(e, 'SUBSCRIBER_OVERFLOW'))).toBe(true);
    const kept = record(dropping);
    await kept.waitFor((all) => all.length === 2, 1_000);
  });

  it('reports a message that is not a goes envelope to onError and keeps delivering', async () => {
    const bus = open();
    const errors: unknown[] = [];
    const recorder = record(
      await bus.subscribe(['order.placed'], { onError: (e) => errors.push(e) }),
    );
    const nc = await adminConnection();
    nc.publish(bus.subjectOf('order.placed'), 'garbage');
    const good = createEvent('order.placed', { total: 1 });
    await bus.publish([good]);
    await recorder.waitFor((all) => all.length === 1, 1_000);
    expect(recorder.events[0]?.id).toBe(good.id);
    expect(errors).toHaveLength(1);
    expect(isGoesError(errors[0], 'INVALID_ENVELOPE')).toBe(true);
    expect((errors[0] as Error).message).toContain(bus.subjectOf('order.placed'));
  });

  it('speaks the documented envelope with clients that are not goes', async () => {
    const bus = open();
    const nc = await adminConnection();
    const raw = nc.subscribe(bus.subjectOf('order.placed'), { max: 1 });
    await nc.flush();
    const recorder = record(await bus.subscribe(['order.placed']));
    const event = createEvent('order.placed', { total: 10 }, { time: 1_700_000_000_000_000_001n });
    await bus.publish([event]);
    for await (const msg of raw) {
      expect(msg.json()).toEqual({
        v: 1,
        id: event.id,
        name: 'order.placed',
        time: '1700000000000000001',
        data: '{"total":10}',
      });
    }
    const foreign = {
      v: 1,
      id: '0190a6f1-7c2b-7b3a-8d4e-1234567890ab',
      name: 'order.placed',
      time: '5',
      data: '{"total":3}',
    };
    nc.publish(bus.subjectOf('order.placed'), JSON.stringify(foreign));
    await recorder.waitFor((all) => all.length === 2, 1_000);
    expect(recorder.events[1]).toEqual({
      id: foreign.id,
      name: 'order.placed',
      time: 5n,
      data: { total: 3 },
    });
  });

  it('leaves a connection it was given open, unless asked to close it', async () => {
    const nc = await connect({ servers: NATS_URL });
    const bus = createNatsEventBus({ connection: nc, subjectPrefix: `goestest.${unique()}` });
    await bus.publish([createEvent('x', 1)]);
    await bus.close();
    expect(nc.isClosed()).toBe(false);
    const closing = createNatsEventBus({ connection: nc, closeConnection: true });
    await closing.publish([createEvent('x', 1)]);
    await closing.close();
    expect(nc.isClosed()).toBe(true);
    const error = await createNatsEventBus({ connection: nc })
      .publish([createEvent('x', 1)])
      .catch((e: unknown) => e);
    expect(isGoesError(error, 'CONNECTION_FAILED')).toBe(true);
  });

  it('ends subscriptions with CONNECTION_FAILED when the connection closes under them', async () => {
    const nc = await connect({ servers: NATS_URL });
    const bus = createNatsEventBus({ connection: nc, subjectPrefix: `goestest.${unique()}` });
    const recorder = record(await bus.subscribe(['x']));
    await nc.close();
    await recorder.waitForEnd(1_000);
    expect(isGoesError(recorder.error, 'CONNECTION_FAILED')).toBe(true);
    await bus.close();
  });

  it('ends a subscription whose connection closed as it was being registered', async () => {
    const nc = await connect({ servers: NATS_URL });
    // The real connection, closed right after the server confirmed the subscription (the flush
    // subscribe waits for) and before subscribe() returns: the window the lost-connection
    // listener could not see, where the consumer's iterator waited forever.
    const flush = nc.flush.bind(nc);
    nc.flush = async () => {
      await flush();
      await nc.close();
    };
    const bus = createNatsEventBus({ connection: nc, subjectPrefix: `goestest.${unique()}` });
    const recorder = record(await bus.subscribe(['x']));
    await recorder.waitForEnd(1_000);
    expect(isGoesError(recorder.error, 'CONNECTION_FAILED')).toBe(true);
    await bus.close();
  });

  it('rejects subscribe with CONNECTION_FAILED when the connection is closing as it subscribes', async () => {
    const nc = await connect({ servers: NATS_URL });
    const bus = createNatsEventBus({ connection: nc, subjectPrefix: `goestest.${unique()}` });
    const subscribing = bus.subscribe(['x']);
    const closing = nc.close();
    const error = await subscribing.catch((e: unknown) => e);
    await closing;
    expect(isGoesError(error, 'CONNECTION_FAILED')).toBe(true);
    await bus.close();
  });

  it('drains on close: events published just before close() still arrive', async () => {
    const prefix = `goestest.${unique()}`;
    const listener = open({ subjectPrefix: prefix });
    const recorder = record(await listener.subscribe(['burst']));
    const bus = createNatsEventBus({ url: NATS_URL, subjectPrefix: prefix });
    const events = Array.from({ length: 500 }, (_, i) => createEvent('burst', { i }));
    await bus.publish(events);
    await bus.close();
    await recorder.waitFor((all) => all.length === 500, 3_000);
    const error = await bus.publish([createEvent('burst', 1)]).catch((e: unknown) => e);
    expect(isGoesError(error, 'CLOSED')).toBe(true);
    expect(isGoesError(await bus.subscribe(['burst']).catch((e: unknown) => e), 'CLOSED')).toBe(
      true,
    );
  });

  it('sends the publishes of one turn in call order, resolving each, and close() waits for them', async () => {
    const prefix = `goestest.${unique()}`;
    const listener = open({ subjectPrefix: prefix });
    const recorder = record(await listener.subscribe(['burst']));
    const bus = createNatsEventBus({ url: NATS_URL, subjectPrefix: prefix });
    await bus.publish([createEvent('burst', { i: -1 })]); // connected
    const events = Array.from({ length: 300 }, (_, i) => createEvent('burst', { i }));
    // Separate calls in one turn, none awaited before close(): they leave together, in order.
    const publishing = events.map((event) => bus.publish([event]));
    const closing = bus.close();
    await expect(Promise.all(publishing)).resolves.toHaveLength(300);
    await closing;
    await recorder.waitFor((all) => all.length === 301, 3_000);
    expect(recorder.events.slice(1).map((event) => event.id)).toEqual(events.map((e) => e.id));
  });

  it('hands a long burst to the client as it grows, without waiting for the end of the turn', async () => {
    const nc = await connect({ servers: NATS_URL });
    const bus = createNatsEventBus({ connection: nc, subjectPrefix: `goestest.${unique()}` });
    await bus.publish([createEvent('x', 0)]);
    const before = nc.stats().outMsgs;
    const publishing = Array.from({ length: 3_000 }, (_, i) => bus.publish([createEvent('x', i)]));
    // Still in the same turn: at most one batch's worth (1,024 messages) is waiting in the bus.
    expect(nc.stats().outMsgs - before).toBeGreaterThanOrEqual(3_000 - 1_024);
    await Promise.all(publishing);
    expect(nc.stats().outMsgs - before).toBe(3_000);
    await bus.close();
    await nc.close();
  });

  it('rejects a publish with PUBLISH_FAILED when its connection closed before it was sent', async () => {
    const nc = await connect({ servers: NATS_URL });
    const bus = createNatsEventBus({ connection: nc, subjectPrefix: `goestest.${unique()}` });
    const event = createEvent('x', 1);
    const publishing = bus.publish([event]).catch((e: unknown) => e);
    await nc.close();
    const error = await publishing;
    expect(isGoesError(error, 'PUBLISH_FAILED')).toBe(true);
    expect((error as Error).message).toContain(event.id);
    await bus.close();
  });

  it('honours an aborted signal on publish and subscribe', async () => {
    const bus = open();
    const reason = new Error('stop');
    await expect(
      bus.publish([createEvent('x', 1)], { signal: AbortSignal.abort(reason) }),
    ).rejects.toBe(reason);
    await expect(bus.subscribe(['x'], { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
  });

  it('refuses malformed events with INVALID_EVENT and publishes nothing of the batch', async () => {
    const bus = open();
    const recorder = record(await bus.subscribe(['x']));
    const error = await bus
      .publish([createEvent('x', 1), { ...createEvent('x', 2), id: 'not-a-uuid' }])
      .catch((e: unknown) => e);
    expect(isGoesError(error, 'INVALID_EVENT')).toBe(true);
    expect((error as Error).message).toContain('not-a-uuid');
    const bigint = await bus.publish([createEvent('x', { n: 1n })]).catch((e: unknown) => e);
    expect((bigint as { code?: string }).code).toBe('CODEC_ENCODE_FAILED');
    await bus.publish([createEvent('x', 3)]);
    await recorder.waitFor((all: readonly Event[]) => all.length === 1, 1_000);
    expect(recorder.events[0]?.data).toBe(3);
  });
});

describe('lazy connection', () => {
  let proxy: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => (proxy ? proxy.close(resolve) : resolve(undefined)));
    proxy = undefined;
  });

  it('reports a failed first connect as retryable CONNECTION_FAILED and connects on a later call', async () => {
    // A free port with nothing listening yet; later a TCP proxy to the real server listens there.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const address = probe.address();
        probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const target = new URL(NATS_URL);
    const bus = open({ url: `nats://127.0.0.1:${port}`, connectOptions: { reconnect: false } });
    const first = await bus.publish([createEvent('x', 1)]).catch((e: unknown) => e);
    expect(isGoesError(first, 'CONNECTION_FAILED')).toBe(true);
    expect((first as { retryable?: boolean }).retryable).toBe(true);
    proxy = createServer((client) => {
      const upstream = tcpConnect(Number(target.port || 4222), target.hostname);
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
    await new Promise<void>((resolve) => proxy?.listen(port, '127.0.0.1', resolve));
    const recorder = record(await bus.subscribe(['x']));
    await bus.publish([createEvent('x', 2)]);
    await recorder.waitFor((all) => all.length === 1, 1_000);
    await bus.close();
  });
});
