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
// `noHandlerTimeout` is how long a dispatcher that has not yet heard the handlers' announcements
// waits before it says "no handler"; 400 ms covers a first dispatch on a starved CPU while keeping
// the tests of unhandled names short (the default is 250).
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
