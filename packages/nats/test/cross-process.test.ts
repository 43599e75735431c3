import { createEvent } from '@goes/event';
import { afterEach, describe, expect, it } from '@jest/globals';
import { createNatsEventBus, type NatsEventBus } from '../src/index.js';
import { ChildService } from './child-process.js';
import { deleteStream, eventually, NATS_URL, unique } from './helpers.js';

/** The ids of the events a durable-subscriber child printed. */
const eventsOf = (child: ChildService): unknown[] => child.with('event').map((m) => m.event);

const children: ChildService[] = [];
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
    const started = new ChildService('durable-subscriber', 'the durable subscriber', {
      ...env,
      ...extra,
    });
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
    await eventually(() => eventsOf(first).length === 1, 5_000, 'the first child to get the event');
    await first.stop('SIGTERM');

    const meanwhile = Array.from({ length: 5 }, (_, n) =>
      createEvent('order.placed', { n: n + 1 }),
    );
    await publisher.publish(meanwhile);
    const second = child();
    await second.waitReady();
    await eventually(() => eventsOf(second).length >= 5, 10_000, 'the restarted child to catch up');
    expect(eventsOf(first)).toEqual([before.id]);
    expect(eventsOf(second)).toEqual(meanwhile.map((e) => e.id));
  });

  it('an event in hand when the subscriber process dies is redelivered to its successor', async () => {
    const { publisher, child } = scenario();
    const crashing = child({ HOLD: '1' });
    await crashing.waitReady();
    const inHand = createEvent('order.placed', { n: 1 });
    await publisher.publish([inHand]);
    await eventually(() => eventsOf(crashing).length === 1, 5_000, 'the child to take the event');
    await crashing.stop('SIGKILL');

    const later = createEvent('order.placed', { n: 2 });
    await publisher.publish([later]);
    const successor = child();
    await successor.waitReady();
    await eventually(() => eventsOf(successor).length >= 2, 10_000, 'the redelivery');
    expect(eventsOf(successor).sort()).toEqual([inHand.id, later.id].sort());
  });
});
