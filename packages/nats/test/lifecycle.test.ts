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
