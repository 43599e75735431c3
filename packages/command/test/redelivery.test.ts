import { createMemoryEventBus, type Event, type EventBus } from '@goes/event';
import { afterEach, describe, expect, it } from '@jest/globals';
import {
  COMMAND_BUS_EVENTS,
  type CommandBus,
  createCommand,
  createDistributedCommandBus,
} from '../src/index.js';

// An at-least-once event bus (JetStream) may deliver a protocol event again, long after the
// first delivery (a redelivery after the ack wait). "At most one execution, ever" must survive
// that: these tests deliver recorded protocol events a second time, late.

const opened: { close(): Promise<void> }[] = [];

afterEach(async () => {
  for (const resource of opened.splice(0).reverse()) await resource.close();
});

function eventBus(): EventBus {
  const bus = createMemoryEventBus();
  opened.push(bus);
  return bus;
}

function commandBus(events: EventBus): CommandBus {
  const bus = createDistributedCommandBus(events, {
    assignTimeout: 300,
    receiveTimeout: 300,
    executionTimeout: 1_000,
    noHandlerTimeout: 50,
    onError: () => {},
  });
  opened.push(bus);
  return bus;
}

async function record(events: EventBus): Promise<Event[]> {
  const seen: Event[] = [];
  const subscription = await events.subscribe(Object.values(COMMAND_BUS_EVENTS));
  opened.push(subscription);
  void (async () => {
    for await (const event of subscription) seen.push(event);
  })();
  return seen;
}

async function until(check: () => boolean, what: string, ms = 2_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The recorded event of `name` for command `id`, delivered again as a redelivery would be. */
function again(seen: readonly Event[], name: string, id: string): Event {
  const original = seen.find(
    (event) => event.name === name && (event.data as { id?: string }).id === id,
  );
  if (!original) throw new Error(`no ${name} event recorded for ${id}`);
  // A redelivery carries the same event (same id, same data).
  return original;
}

describe('distributed command bus under redelivered protocol events', () => {
  it('does not run a finished command again when its offer and its assignment are redelivered', async () => {
    const events = eventBus();
    const seen = await record(events);
    const handler = commandBus(events);
    const dispatcher = commandBus(events);
    let runs = 0;
    await handler.handle('pay', () => ++runs);
    const command = createCommand('pay', {});
    await expect(dispatcher.dispatch(command, { sync: true })).resolves.toBe(1);
    await until(() => seen.some((e) => e.name === COMMAND_BUS_EVENTS.executed), 'the outcome');

    // The handler's subscription gets the offer and the assignment once more, in order.
    await events.publish([
      again(seen, COMMAND_BUS_EVENTS.dispatched, command.id),
      again(seen, COMMAND_BUS_EVENTS.assigned, command.id),
    ]);
    // The next command's offer travels behind them on the handler's subscription: once it ran,
    // the redelivered events were handled.
    await expect(dispatcher.dispatch(createCommand('pay', {}), { sync: true })).resolves.toBe(2);
    expect(runs).toBe(2);
  });

  it('does not run an asynchronously dispatched command again when its offer and assignment come back', async () => {
    const events = eventBus();
    const seen = await record(events);
    const handler = commandBus(events);
    const dispatcher = commandBus(events);
    let runs = 0;
    let ran!: () => void;
    const first = new Promise<void>((resolve) => (ran = resolve));
    await handler.handle('ship', ({ payload }) => {
      runs++;
      ran();
      return payload;
    });
    const command = createCommand('ship', {});
    await dispatcher.dispatch(command);
    await first;
    await until(() => seen.some((e) => e.name === COMMAND_BUS_EVENTS.assigned), 'the assignment');
    await events.publish([
      again(seen, COMMAND_BUS_EVENTS.dispatched, command.id),
      again(seen, COMMAND_BUS_EVENTS.assigned, command.id),
    ]);
    await expect(dispatcher.dispatch(createCommand('ship', 'next'), { sync: true })).resolves.toBe(
      'next',
    );
    expect(runs).toBe(2);
  });
});
