import { getEventListeners } from 'node:events';
import { createEvent } from '@goes/event';
import { record } from '@goes/testing';
import { afterEach, describe, expect, it } from '@jest/globals';
import { createNatsEventBus, type NatsEventBus, type NatsEventBusOptions } from '../src/index.js';
import { deleteStream, NATS_URL, unique } from './helpers.js';

const buses: NatsEventBus[] = [];
const streams: string[] = [];

afterEach(async () => {
  for (const bus of buses.splice(0)) await bus.close();
  for (const stream of streams.splice(0)) await deleteStream(stream);
});

function open(options: NatsEventBusOptions = {}): NatsEventBus {
  const bus = createNatsEventBus({
    url: NATS_URL,
    subjectPrefix: `goestest.${unique()}`,
    ...options,
  });
  buses.push(bus);
  return bus;
}

function jetStreamBus(): NatsEventBus {
  const stream = `GOESTEST_${unique()}`;
  streams.push(stream);
  return open({ driver: 'jetstream', jetstream: { stream, storage: 'memory' } });
}

describe('subscriptions and long-lived signals', () => {
  // An application passes one shutdown signal to every subscription it opens over its lifetime;
  // a subscription that ended must not stay referenced from that signal.
  it.each([
    ['core', () => open()],
    ['jetstream', () => jetStreamBus()],
  ])('leaves no abort listener on the signal once a %s subscription ended', async (_, make) => {
    const bus = make();
    const shutdown = new AbortController();
    const before = getEventListeners(shutdown.signal, 'abort').length;
    for (let i = 0; i < 5; i++) {
      const subscription = await bus.subscribe(['x'], { signal: shutdown.signal });
      await subscription.close();
    }
    // One that ends by being left (break) rather than by close().
    const left = await bus.subscribe(['x'], { signal: shutdown.signal });
    await bus.publish([createEvent('x', 1)]);
    for await (const _event of left) break;
    expect(getEventListeners(shutdown.signal, 'abort').length).toBe(before);
  });

  it('still ends a live subscription when the signal aborts', async () => {
    const bus = open();
    const shutdown = new AbortController();
    const recorder = record(await bus.subscribe(['x'], { signal: shutdown.signal }));
    shutdown.abort();
    await recorder.waitForEnd(1_000);
    expect(recorder.error).toBeUndefined();
  });
});

describe('publish order while the bus connects', () => {
  // The first publishes of a bus wait for its connection (and, with JetStream, its stream). A
  // publish with a signal must not fall behind a later one without: events of one publisher
  // arrive in publish order (the EventBus contract).
  it.each([
    ['core', (prefix: string) => open({ subjectPrefix: prefix })],
    [
      'jetstream',
      (prefix: string) => {
        const stream = `GOESTEST_${prefix.split('.')[1]}`;
        if (!streams.includes(stream)) streams.push(stream);
        return open({
          subjectPrefix: prefix,
          driver: 'jetstream',
          jetstream: { stream, storage: 'memory', deliver: 'all' },
        });
      },
    ],
  ])('keeps call order on a %s bus that is still connecting', async (driver, make) => {
    const prefix = `goestest.${unique()}`;
    const listener = make(prefix);
    const recorder = record(await listener.subscribe(['x']));
    const publisher = make(prefix); // not connected yet
    const events = Array.from({ length: 6 }, (_, i) => createEvent('x', i));
    const signal = new AbortController().signal;
    await Promise.all(
      events.map((event, i) => publisher.publish([event], i % 2 === 0 ? { signal } : {})),
    );
    await recorder.waitFor((all) => all.length === events.length, 3_000);
    expect({ driver, order: recorder.events.map((event) => event.data) }).toEqual({
      driver,
      order: [0, 1, 2, 3, 4, 5],
    });
  });
});

describe('JetStream publish order across calls', () => {
  it('sends a later publish after every window of an earlier, larger one', async () => {
    const prefix = `goestest.${unique()}`;
    const stream = `GOESTEST_${unique()}`;
    streams.push(stream);
    const make = () =>
      open({
        subjectPrefix: prefix,
        driver: 'jetstream',
        jetstream: { stream, storage: 'memory', publishWindow: 2 },
      });
    const listener = make();
    const recorder = record(await listener.subscribe(['x']));
    const publisher = make();
    await publisher.publish([createEvent('x', -1)]); // connected, stream set up
    const batch = Array.from({ length: 5 }, (_, i) => createEvent('x', i));
    // Not awaited in between: the second call is made while the first waits for its first window.
    await Promise.all([publisher.publish(batch), publisher.publish([createEvent('x', 5)])]);
    await recorder.waitFor((all) => all.length === 7, 3_000);
    expect(recorder.events.map((event) => event.data)).toEqual([-1, 0, 1, 2, 3, 4, 5]);
  });

  it('keeps call order when concurrent publishes find the stream deleted and send again', async () => {
    const prefix = `goestest.${unique()}`;
    const stream = `GOESTEST_${unique()}`;
    streams.push(stream);
    const make = () =>
      open({
        subjectPrefix: prefix,
        driver: 'jetstream',
        jetstream: { stream, storage: 'memory' },
      });
    const publisher = make();
    await publisher.publish([createEvent('x', -1)]); // connected, stream set up
    await deleteStream(stream);
    // Every call sends into the missing stream, then sends again once it is set up. Half of them
    // with a signal: waiting for the set-up with one took longer, and those went last.
    const signal = new AbortController().signal;
    const calls = Array.from({ length: 20 }, (_, c) =>
      publisher.publish(
        [0, 1, 2].map((i) => createEvent('x', c * 3 + i)),
        c % 2 === 1 ? { signal } : {},
      ),
    );
    await Promise.all(calls);
    await publisher.publish([createEvent('x', 60)]);
    const recorder = record(await make().subscribe(['x'], { deliver: 'all' }));
    await recorder.waitFor((all) => all.length === 61, 3_000);
    expect(recorder.events.map((event) => event.data)).toEqual(
      Array.from({ length: 61 }, (_, i) => i),
    );
  });
});
