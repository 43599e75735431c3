import { type Event, type EventBus, isGoesError, isUuid } from '@goes/event';
import { describe, expect, it } from '@jest/globals';
import {
  COMMAND_BUS_EVENTS,
  type CommandAssignedData,
  type CommandBus,
  type CommandRequestedData,
  createCommand,
  type DistributedCommandBusOptions,
} from '../src/index.js';
import { controlledEventBus } from './controlled-bus.js';
import { distributedBus, memoryBus, opened, SHORT_TIMEOUTS, sizes } from './fixtures.js';

// An at-least-once event bus (JetStream) may deliver a protocol event again, long after the
// first delivery (a redelivery after the ack wait). "At most one execution, ever" must survive
// that: these tests deliver recorded protocol events a second time, late.

const eventBus = memoryBus;

function commandBus(events: EventBus, options: DistributedCommandBusOptions = {}): CommandBus {
  return distributedBus(events, SHORT_TIMEOUTS, options);
}

/** How many finished commands an instance still remembers as ran there. */
const remembered = (bus: CommandBus): number =>
  (bus as unknown as { rememberedRuns(): number }).rememberedRuns();

/** The recorded events of `name` for command `id`, in order. */
function all<T>(seen: readonly Event[], name: string, id: string): T[] {
  return seen
    .filter((event) => event.name === name && (event.data as { id?: string }).id === id)
    .map((event) => event.data as T);
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
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

  it('does not run a command again when its offer and assignment are redelivered after the instance forgot it ran', async () => {
    const events = eventBus();
    const seen = await record(events);
    // The memory lasts 2 × assign + receive + execution timeout of the dispatcher (500 ms here);
    // the handler's heartbeat is what prunes it.
    const handler = commandBus(events, { heartbeatInterval: 25 });
    const dispatcher = commandBus(events, {
      assignTimeout: 100,
      receiveTimeout: 100,
      executionTimeout: 200,
    });
    let runs = 0;
    await handler.handle('pay', () => ++runs);
    const command = createCommand('pay', {});
    await expect(dispatcher.dispatch(command, { sync: true })).resolves.toBe(1);
    await until(() => remembered(handler) === 0, 'the handler to forget the command', 5_000);

    await events.publish([
      again(seen, COMMAND_BUS_EVENTS.dispatched, command.id),
      again(seen, COMMAND_BUS_EVENTS.assigned, command.id),
    ]);
    await expect(dispatcher.dispatch(createCommand('pay', {}), { sync: true })).resolves.toBe(2);
    expect(runs).toBe(2);

    // The redelivered offer was claimed again, under a new claim id that the old assignment does
    // not carry; the dispatcher released that claim by its id and the handler let it go.
    const claims = all<CommandRequestedData>(seen, COMMAND_BUS_EVENTS.requested, command.id);
    expect(claims).toHaveLength(2);
    const [first, second] = claims as [CommandRequestedData, CommandRequestedData];
    expect(second.claim).not.toBe(first.claim);
    await until(
      () =>
        all<CommandAssignedData>(seen, COMMAND_BUS_EVENTS.assigned, command.id).some(
          (assigned) => assigned.handler === '' && assigned.claim === second.claim,
        ),
      'the release of the new claim',
    );
    await until(() => sizes(handler).reservations === 0, 'the new claim to be let go');
    expect(runs).toBe(2);
  });

  it('answers an assignment for a claim it gave up with dropped, even while it holds a newer claim, and never runs it', async () => {
    const events = eventBus();
    const seen = await record(events);
    const view = controlledEventBus(events);
    const handler = commandBus(view);
    // A backstop far beyond the test's time: the dispatch can only end early through the answer.
    const dispatcher = commandBus(events, {
      assignTimeout: 100,
      receiveTimeout: 30_000,
      executionTimeout: 30_000,
    });
    let runs = 0;
    await handler.handle('pay', () => ++runs);
    const assignments = view.hold((event) => event.name === COMMAND_BUS_EVENTS.assigned);
    const command = createCommand('pay', {});
    const dispatched = rejection(dispatcher.dispatch(command, { sync: true }));

    // The assignment is held until the handler's claim expired (assign timeout + grace)...
    await until(() => assignments.held.length === 1, 'the assignment');
    await until(() => sizes(handler).reservations === 0, 'the claim to expire');
    // ...and the offer comes back meanwhile: the handler claims it again, and the dispatcher
    // (already assigned) releases that late claim.
    await events.publish([again(seen, COMMAND_BUS_EVENTS.dispatched, command.id)]);
    await until(() => assignments.held.length === 2, 'the release of the late claim');
    expect(sizes(handler).reservations).toBe(1);
    assignments.release();

    const error = await dispatched;
    expect(isGoesError(error, 'COMMAND_DROPPED')).toBe(true);
    await until(() => sizes(handler).reservations === 0, 'the late claim to be let go');
    expect(runs).toBe(0);
    const [claimed, reclaimed] = all<CommandRequestedData>(
      seen,
      COMMAND_BUS_EVENTS.requested,
      command.id,
    );
    const [assigned, released] = all<CommandAssignedData>(
      seen,
      COMMAND_BUS_EVENTS.assigned,
      command.id,
    );
    expect(assigned?.claim).toBe(claimed?.claim);
    expect(released).toMatchObject({ handler: '', claim: reclaimed?.claim });
  });

  it('carries one claim id from the claim to its assignment in a normal dispatch', async () => {
    const events = eventBus();
    const seen = await record(events);
    const handler = commandBus(events);
    const dispatcher = commandBus(events);
    await handler.handle('greet', ({ payload }) => `hello ${String(payload)}`);
    const command = createCommand('greet', 'ada');
    await expect(dispatcher.dispatch(command, { sync: true })).resolves.toBe('hello ada');
    await expect(dispatcher.dispatch(createCommand('greet', 'bo'))).resolves.toBeUndefined();

    const claims = all<CommandRequestedData>(seen, COMMAND_BUS_EVENTS.requested, command.id);
    const assignments = all<CommandAssignedData>(seen, COMMAND_BUS_EVENTS.assigned, command.id);
    expect(claims).toHaveLength(1);
    expect(assignments).toHaveLength(1);
    expect(isUuid(claims[0]?.claim ?? '')).toBe(true);
    expect(assignments[0]).toEqual({
      id: command.id,
      dispatcher: dispatcher.id,
      handler: handler.id,
      reply: true,
      claim: claims[0]?.claim,
    });
    await until(
      () => [handler, dispatcher].every((bus) => Object.values(sizes(bus)).every((n) => n === 0)),
      'every claim and dispatch to be forgotten',
    );
  });
});
