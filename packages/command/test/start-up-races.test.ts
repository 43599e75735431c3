import { createEvent, type Event, type EventBus, isGoesError, uuidv7 } from '@goes/event';
import { describe, expect, it } from '@jest/globals';
import {
  COMMAND_BUS_EVENTS,
  type CommandBus,
  type CommandHandlersData,
  createCommand,
  type DistributedCommandBusOptions,
} from '../src/index.js';
import { type ControlledEventBus, controlledEventBus } from './controlled-bus.js';
import { distributedBus, memoryBus, opened, type Sizes, sizes } from './fixtures.js';

// The start-up races of the distributed bus, replayed deterministically: a wrapped event bus
// holds chosen protocol events (or subscribe calls) until the test releases them, so each test
// fixes the order in which the instances see the messages. Deadlines are long enough never to be
// reached in a passing test; nothing here asserts a duration.

const PROTOCOL = Object.values(COMMAND_BUS_EVENTS);
/** Deadlines that never fire during a test: the races, not the timeouts, decide. */
const LONG_TIMEOUTS: DistributedCommandBusOptions = {
  assignTimeout: 10_000,
  receiveTimeout: 10_000,
  executionTimeout: 10_000,
  noHandlerTimeout: 10_000,
};

function commandBus(events: EventBus, options: DistributedCommandBusOptions = {}): CommandBus {
  return distributedBus(events, LONG_TIMEOUTS, options);
}

/** Records every protocol event published on the bus, in publish order. */
async function spy(events: EventBus): Promise<Event[]> {
  const seen: Event[] = [];
  const subscription = await events.subscribe(PROTOCOL);
  opened.push(subscription);
  void (async () => {
    for await (const event of subscription) seen.push(event);
  })();
  return seen;
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Lets every timer that is due within `ms` fire first (timers run in order of their due time). */
const timersDueWithin = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Tracks a promise's settlement without making it an unhandled rejection. */
function track<T>(promise: Promise<T>) {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  const done = promise.then(
    (value) => {
      state.settled = true;
      state.value = value;
    },
    (error: unknown) => {
      state.settled = true;
      state.error = error;
    },
  );
  return { state, done };
}

const idOf = (event: Event) => (event.data as { id?: string }).id;
const count = (seen: Event[], name: string, id: string) =>
  seen.filter((event) => event.name === name && idOf(event) === id).length;
const announcements = (seen: Event[], bus: string) =>
  seen
    .filter((event) => event.name === COMMAND_BUS_EVENTS.handlers)
    .map((event) => event.data as CommandHandlersData)
    .filter((data) => data.bus === bus);

const empty: Sizes = { pending: 0, reservations: 0, parked: 0, running: 0 };
const forgotten = (...buses: CommandBus[]) =>
  buses.every((bus) => JSON.stringify(sizes(bus)) === JSON.stringify(empty));

function controlled(inner: EventBus): ControlledEventBus {
  return controlledEventBus(inner);
}

describe('a dispatch published before a handler instance subscribed', () => {
  it('is offered again when the instance announces the name, and runs once', async () => {
    const events = memoryBus();
    const seen = await spy(events);
    const dispatcher = commandBus(events);
    const late = controlled(events);
    const gate = late.gateSubscribe(COMMAND_BUS_EVENTS.dispatched);
    const handler = commandBus(late);
    const ran: string[] = [];
    const registration = handler.mustHandle('greet', ({ id, payload }) => {
      ran.push(id);
      return `hello ${(payload as { to: string }).to}`;
    });
    await until(() => gate.waiting === 1, 'the handler instance to wait for its offers');

    const command = createCommand('greet', { to: 'Ada' });
    const dispatch = track(dispatcher.dispatch(command, { sync: true }));
    await until(() => count(seen, COMMAND_BUS_EVENTS.dispatched, command.id) === 1, 'the offer');
    // The handler instance missed the offer, and has not announced the name: it cannot receive offers yet.
    expect(announcements(seen, handler.id).every((data) => data.names.length === 0)).toBe(true);

    gate.open();
    await registration.ready;
    await dispatch.done;
    expect(dispatch.state.error).toBeUndefined();
    expect(dispatch.state.value).toBe('hello Ada');
    expect(ran).toEqual([command.id]);
    expect(count(seen, COMMAND_BUS_EVENTS.dispatched, command.id)).toBe(2);
    expect(count(seen, COMMAND_BUS_EVENTS.requested, command.id)).toBe(1);
    expect(announcements(seen, handler.id).at(-1)?.names).toEqual(['greet']);
    await until(() => forgotten(dispatcher, handler), 'all state to be forgotten');
  });

  it('claims once when both the offer and the repeated offer reach the new instance', async () => {
    const events = memoryBus();
    const seen = await spy(events);
    const dispatcher = commandBus(events);
    const fresh = controlled(events);
    // The new instance is subscribed, but its announcement is on its way (held) ...
    const announcing = fresh.holdPublishing(
      (event) =>
        event.name === COMMAND_BUS_EVENTS.handlers &&
        (event.data as CommandHandlersData).names.length > 0,
    );
    // ... and so is every offer on its way to it.
    const offers = fresh.hold((event) => event.name === COMMAND_BUS_EVENTS.dispatched);
    const handler = commandBus(fresh);
    let runs = 0;
    const registration = handler.mustHandle('count', () => ++runs);
    await until(() => announcing.held.length >= 1, 'the announcement');

    const command = createCommand('count', {});
    const dispatch = track(dispatcher.dispatch(command, { sync: true }));
    await until(() => offers.held.length === 1, 'the offer to reach the new instance');

    announcing.release();
    await until(() => offers.held.length === 2, 'the repeated offer to reach the new instance');
    expect(offers.held.map(idOf)).toEqual([command.id, command.id]);
    offers.release();

    await registration.ready;
    await dispatch.done;
    expect(dispatch.state.value).toBe(1);
    expect(runs).toBe(1);
    expect(count(seen, COMMAND_BUS_EVENTS.requested, command.id)).toBe(1);
    expect(count(seen, COMMAND_BUS_EVENTS.assigned, command.id)).toBe(1);
    await until(() => forgotten(dispatcher, handler), 'all state to be forgotten');
  });

  it('does not claim, nor run again, an offer that reaches the instance after it ran the command', async () => {
    const events = memoryBus();
    const seen = await spy(events);
    const dispatcher = commandBus(events);
    const fresh = controlled(events);
    const announcing = fresh.holdPublishing(
      (event) =>
        event.name === COMMAND_BUS_EVENTS.handlers &&
        (event.data as CommandHandlersData).names.length > 0,
    );
    let first = true;
    // Only the first offer is held: the repeated one overtakes it.
    const original = fresh.hold((event) => {
      if (event.name !== COMMAND_BUS_EVENTS.dispatched || !first) return false;
      first = false;
      return true;
    });
    const handler = commandBus(fresh);
    let runs = 0;
    const registration = handler.mustHandle('count', () => ++runs);
    await until(() => announcing.held.length >= 1, 'the announcement');

    const command = createCommand('count', {});
    const dispatch = track(dispatcher.dispatch(command, { sync: true }));
    await until(() => original.held.length === 1, 'the offer to be held');
    announcing.release();
    await registration.ready;
    await dispatch.done;
    expect(dispatch.state.value).toBe(1);

    original.release(); // the stale offer arrives after the command ran
    // An instance remembers the commands it ran: the stale offer is not even claimed (so no
    // late claim needs releasing). The next command's offer travels behind it on the same
    // subscription, so once that one ran, the stale offer has been seen.
    await expect(dispatcher.dispatch(createCommand('count', {}), { sync: true })).resolves.toBe(2);
    expect(runs).toBe(2);
    expect(count(seen, COMMAND_BUS_EVENTS.requested, command.id)).toBe(1);
    expect(count(seen, COMMAND_BUS_EVENTS.assigned, command.id)).toBe(1);
    await until(() => forgotten(dispatcher, handler), 'all state to be forgotten');
  });

  it('does not let a busy instance that parked the offer run it after the new instance took it', async () => {
    const events = memoryBus();
    const seen = await spy(events);
    const dispatcher = commandBus(events);
    const busy = commandBus(events);
    const ran: string[] = [];
    let release!: () => void;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    await busy.handle('work', async ({ id }) => {
      ran.push(`busy:${id}`);
      await blocked;
    });
    const blocker = createCommand('work', {});
    const running = dispatcher.dispatch(blocker, { sync: true });
    await until(() => ran.length === 1, 'the busy instance to be busy');

    const late = controlled(events);
    const gate = late.gateSubscribe(COMMAND_BUS_EVENTS.dispatched);
    const fresh = commandBus(late);
    const registration = fresh.mustHandle('work', ({ id }) => {
      ran.push(`fresh:${id}`);
    });
    await until(() => gate.waiting === 1, 'the new instance to wait for its offers');
    const command = createCommand('work', {});
    const dispatch = dispatcher.dispatch(command, { sync: true });
    await until(() => sizes(busy).parked === 1, 'the busy instance to park the offer');
    gate.open();
    await registration.ready;
    await dispatch;
    release();
    await running;
    expect(ran).toEqual([`busy:${blocker.id}`, `fresh:${command.id}`]);
    expect(count(seen, COMMAND_BUS_EVENTS.requested, command.id)).toBe(1);
    await until(() => forgotten(dispatcher, busy, fresh), 'all state to be forgotten');
  });

  it('offers a waiting dispatch again once per announcement that is news, never after it was assigned', async () => {
    const events = memoryBus();
    const seen = await spy(events);
    const dispatcher = commandBus(events);
    const alpha = createCommand('alpha', {});
    const beta = createCommand('beta', {});
    const alphaDispatch = track(dispatcher.dispatch(alpha));
    const betaDispatch = track(dispatcher.dispatch(beta));
    await until(
      () =>
        count(seen, COMMAND_BUS_EVENTS.dispatched, alpha.id) === 1 &&
        count(seen, COMMAND_BUS_EVENTS.dispatched, beta.id) === 1,
      'both offers',
    );
    const announce = (bus: string, names: string[]) =>
      events.publish([
        createEvent(COMMAND_BUS_EVENTS.handlers, { bus, names, ttl: 60_000, discover: false }),
      ]);
    const [first, second, third] = [uuidv7(), uuidv7(), uuidv7()];

    await announce(first, ['alpha']); // news: alpha is offered again
    await announce(first, ['alpha']); // a heartbeat: no news
    await announce(second, ['beta']); // news: beta is offered again
    // The dispatcher handles announcements in order and publishes its offers as it goes, so once
    // beta's second offer is out, a second repeat of alpha's would have been published before it.
    await until(() => count(seen, COMMAND_BUS_EVENTS.dispatched, beta.id) === 2, 'beta again');
    expect(count(seen, COMMAND_BUS_EVENTS.dispatched, alpha.id)).toBe(2);

    // alpha is claimed and assigned; then an instance announces both names.
    await events.publish([
      createEvent(COMMAND_BUS_EVENTS.requested, {
        id: alpha.id,
        dispatcher: dispatcher.id,
        handler: first,
        claim: uuidv7(),
      }),
    ]);
    await alphaDispatch.done;
    expect(alphaDispatch.state.error).toBeUndefined();
    await announce(third, ['alpha', 'beta']);
    await until(() => count(seen, COMMAND_BUS_EVENTS.dispatched, beta.id) === 3, 'beta again');
    expect(count(seen, COMMAND_BUS_EVENTS.dispatched, alpha.id)).toBe(2);
    expect(betaDispatch.state.settled).toBe(false);
  });

  it('withdraws its names when its offers subscription is lost, so that it is offered again what it missed', async () => {
    const events = memoryBus();
    const seen = await spy(events);
    const dispatcher = commandBus(events);
    const flaky = controlled(events);
    const handler = commandBus(flaky);
    const ran: string[] = [];
    await handler.handle('greet', ({ id }) => {
      ran.push(id);
      return 'hi';
    });
    await expect(dispatcher.dispatch(createCommand('greet', {}), { sync: true })).resolves.toBe(
      'hi',
    );

    const before = announcements(seen, handler.id).length;
    const gate = flaky.gateSubscribe(COMMAND_BUS_EVENTS.dispatched);
    flaky.cut(COMMAND_BUS_EVENTS.dispatched);
    await until(
      () =>
        announcements(seen, handler.id)
          .slice(before)
          .some((data) => data.names.length === 0),
      'the handler instance to withdraw its names',
    );
    await until(() => gate.waiting === 1, 'the handler instance to resubscribe');
    const command = createCommand('greet', {});
    const dispatch = track(dispatcher.dispatch(command, { sync: true }));
    await until(() => count(seen, COMMAND_BUS_EVENTS.dispatched, command.id) === 1, 'the offer');
    gate.open();
    await dispatch.done;
    expect(dispatch.state.value).toBe('hi');
    expect(ran.at(-1)).toBe(command.id);
    expect(count(seen, COMMAND_BUS_EVENTS.dispatched, command.id)).toBe(2);
  });
});

describe('a dispatcher that has just started', () => {
  const isAnnouncement = (event: Event) => event.name === COMMAND_BUS_EVENTS.handlers;

  it('gives no no-handler verdict before its discovery request came back', async () => {
    const events = memoryBus();
    const seen = await spy(events);
    const handler = commandBus(events);
    await handler.handle('greet', () => 'hello');

    const starved = controlled(events);
    // Its own discovery request and the answers stay on their way, and so does the claim.
    const membership = starved.hold(isAnnouncement);
    const claims = starved.hold((event) => event.name === COMMAND_BUS_EVENTS.requested);
    const dispatcher = commandBus(starved, { noHandlerTimeout: 1 });
    const command = createCommand('greet', {});
    const dispatch = track(dispatcher.dispatch(command, { sync: true }));
    await until(() => claims.held.length === 1, 'the claim to be on its way');
    // The dispatch's no-handler deadline (1 ms) was armed before the offer went out, so it is due
    // before this timer: it has fired when this resolves.
    await timersDueWithin(5);
    expect(dispatch.state.settled).toBe(false);

    const held = membership.held.map((event) => event.data as CommandHandlersData);
    expect(held.some((data) => data.bus === dispatcher.id && data.discover)).toBe(true);
    expect(held.some((data) => data.bus === handler.id && data.names.includes('greet'))).toBe(true);
    membership.release(); // the request comes back, with the handler instance's answer behind it
    claims.release();
    await dispatch.done;
    expect(dispatch.state.error).toBeUndefined();
    expect(dispatch.state.value).toBe('hello');
    expect(announcements(seen, dispatcher.id)[0]?.discover).toBe(true);
  });

  it('says no handler once its discovery request came back and the window passed', async () => {
    const events = memoryBus();
    const starved = controlled(events);
    const membership = starved.hold(isAnnouncement);
    const dispatcher = commandBus(starved, { noHandlerTimeout: 1 });
    const command = createCommand('nobody', {});
    const dispatch = track(dispatcher.dispatch(command, { sync: true }));
    await until(() => sizes(dispatcher).pending === 1, 'the dispatch');
    await timersDueWithin(5);
    expect(dispatch.state.settled).toBe(false);

    membership.release();
    await dispatch.done;
    expect(isGoesError(dispatch.state.error, 'COMMAND_NO_HANDLER')).toBe(true);
    expect(sizes(dispatcher)).toEqual(empty);
  });

  it('stops waiting for a discovery request that never comes back at the assign deadline', async () => {
    const events = memoryBus();
    const starved = controlled(events);
    starved.hold(isAnnouncement); // never released
    const dispatcher = commandBus(starved, { noHandlerTimeout: 1, assignTimeout: 50 });
    const first = await dispatcher.dispatch(createCommand('nobody', {})).catch((e: unknown) => e);
    expect(isGoesError(first, 'COMMAND_NO_HANDLER')).toBe(true);
    // From then on the lost request holds nothing back.
    const second = await dispatcher.dispatch(createCommand('nobody', {})).catch((e: unknown) => e);
    expect(isGoesError(second, 'COMMAND_NO_HANDLER')).toBe(true);
    expect(sizes(dispatcher)).toEqual(empty);
  });
});
