import type { EventBus } from '@goes/event';
import { eventBusConformance } from '@goes/testing';
import { createNatsEventBus } from '../src/index.js';
import { adminConnection, deleteStream, NATS_URL, unique } from './helpers.js';

// Every bus gets its own subject prefix (and stream), so "*" sees only its test's events and
// runs never collide with other users of the shared server.
eventBusConformance(
  'nats core',
  async ({ codec }) => {
    await adminConnection();
    return createNatsEventBus({ url: NATS_URL, codec, subjectPrefix: `goestest.${unique()}` });
  },
  { groups: true, latency: 100 },
);

const streams = new WeakMap<EventBus, string>();
eventBusConformance(
  'nats jetstream',
  async ({ codec }) => {
    await adminConnection();
    const id = unique();
    const stream = `GOESTEST_${id}`;
    const bus = createNatsEventBus({
      driver: 'jetstream',
      url: NATS_URL,
      codec,
      subjectPrefix: `goestest.${id}`,
      jetstream: { stream, storage: 'memory' },
    });
    streams.set(bus, stream);
    return bus;
  },
  {
    groups: true,
    latency: 200,
    teardown: async (bus) => {
      const stream = streams.get(bus);
      if (stream) await deleteStream(stream);
    },
  },
);
