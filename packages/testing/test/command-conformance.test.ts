import { createRegistry } from '@goes/codec';
import {
  createDistributedCommandBus,
  createLocalCommandBus,
  registerCommandBusEvents,
} from '@goes/command';
import { createMemoryEventBus } from '@goes/event';
import { commandBusConformance } from '../src/index.js';

commandBusConformance('local', (context) => {
  const bus = createLocalCommandBus(context);
  return { connect: () => bus };
});

commandBusConformance(
  'distributed over the in-memory event bus',
  (context) => {
    const events = createMemoryEventBus();
    return {
      connect: () => createDistributedCommandBus(events, { ...context, noHandlerTimeout: 100 }),
      close: () => events.close(),
    };
  },
  { distributed: true },
);

commandBusConformance(
  'distributed over the in-memory event bus with a strict event codec',
  (context) => {
    const events = createMemoryEventBus({
      codec: registerCommandBusEvents(createRegistry({ strict: true })),
    });
    return {
      connect: () => createDistributedCommandBus(events, { ...context, noHandlerTimeout: 100 }),
      close: () => events.close(),
    };
  },
  { distributed: true },
);
