import { createDistributedCommandBus } from '@goes/command';
import { commandBusConformance } from '@goes/testing';
import { createNatsEventBus, type NatsEventBus } from '../src/index.js';
import { adminConnection, NATS_URL, unique } from './helpers.js';

// The distributed command bus over the core NATS event bus, as separate services would run it:
// every bus instance has its own NATS event bus and connection; the instances of one test share a
// subject prefix (and nothing else), so tests and runs never see each other's commands.
//
// Timeouts: the suite's defaults (assign 500, receive 500, execution 2,000 ms) are sized for an
// in-process transport. Here every command crosses the network four times and the machine may be
// shared and busy: with 200 commands queued on a few handler slots, each slot pays a claim round
// trip per command, so under load the last commands wait seconds for a slot (assign 4,000 ms).
// `noHandlerTimeout` is how long a dispatcher waits for a claim when nobody announced the name;
// a little above the default (250 ms) absorbs network latency on a busy shared machine while the
// tests of unhandled names stay short.
commandBusConformance(
  'distributed over NATS core (a connection per instance)',
  async (context) => {
    await adminConnection();
    const subjectPrefix = `goestest.${unique()}`;
    const transports: NatsEventBus[] = [];
    return {
      connect: () => {
        const events = createNatsEventBus({ url: NATS_URL, subjectPrefix });
        transports.push(events);
        return createDistributedCommandBus(events, { ...context, noHandlerTimeout: 400 });
      },
      close: async () => {
        await Promise.all(transports.map((events) => events.close()));
      },
    };
  },
  {
    distributed: true,
    timeouts: { assignTimeout: 4_000, receiveTimeout: 1_000, executionTimeout: 8_000 },
  },
);
