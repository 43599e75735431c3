import { createRegistry } from '@goes/codec';
import {
  ConnectionError,
  createEvent,
  createMemoryEventBus,
  type Event,
  type EventBus,
  isGoesError,
  type SubscribeOptions,
  type Subscription,
  uuidv7,
} from '@goes/event';
import { describe, expect, it } from '@jest/globals';
import {
  COMMAND_BUS_EVENTS,
  type CommandBus,
  type CommandDispatchedData,
  CommandError,
  type CommandExecutedData,
  createCommand,
  type DistributedCommandBusOptions,
  isCommandError,
} from '../src/index.js';
import {
  distributedBus,
  memoryBus,
  opened,
  SHORT_TIMEOUTS,
  type Sizes,
  sizes,
} from './fixtures.js';

const PROTOCOL = Object.values(COMMAND_BUS_EVENTS);
const eventBus = memoryBus;

function commandBus(events: EventBus, options: DistributedCommandBusOptions = {}): CommandBus {
  return distributedBus(events, SHORT_TIMEOUTS, options);
}

/** Records every protocol event on the bus. */
async function spy(events: EventBus): Promise<Event[]> {
  const seen: Event[] = [];
  const subscription = await events.subscribe(PROTOCOL);
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

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

const empty: Sizes = { pending: 0, reservations: 0, parked: 0, running: 0 };

const ofCommand = (seen: Event[], id: string) =>
  seen.filter((event) => (event.data as { id?: string }).id === id).map((event) => event.name);

describe('distributed command bus protocol', () => {
  it('uses dispatched → requested → assigned → executed for a synchronous dispatch', async () => {
    const events = eventBus();
    const seen = await spy(events);
    const handler = commandBus(events);
    const dispatcher = commandBus(events);
    await handler.handle('greet', ({ payload }) => `hello ${(payload as { to: string }).to}`);
    const command = createCommand('greet', { to: 'Ada' });
    await expect(dispatcher.dispatch(command, { sync: true })).resolves.toBe('hello Ada');
    await until(() => ofCommand(seen, command.id).length === 4, 'four protocol events');
    expect(ofCommand(seen, command.id)).toEqual([
      COMMAND_BUS_EVENTS.dispatched,
      COMMAND_BUS_EVENTS.requested,
      COMMAND_BUS_EVENTS.assigned,
      COMMAND_BUS_EVENTS.executed,
    ]);
    const dispatched = seen.find((e) => e.name === COMMAND_BUS_EVENTS.dispatched)
      ?.data as CommandDispatchedData;
    expect(dispatched).toMatchObject({
      id: command.id,
      name: 'greet',
      payload: '{"to":"Ada"}',
      dispatcher: dispatcher.id,
      reply: true,
      assignTimeout: 300,
      receiveTimeout: 300,
      executionTimeout: 1_000,
    });
    const executed = seen.find((e) => e.name === COMMAND_BUS_EVENTS.executed)
      ?.data as CommandExecutedData;
    expect(executed).toMatchObject({
      id: command.id,
      dispatcher: dispatcher.id,
      handler: handler.id,
      outcome: 'succeeded',
      result: '"hello Ada"',
    });
    // every protocol event carries plain JSON data
    for (const event of seen) expect(JSON.parse(JSON.stringify(event.data))).toEqual(event.data);
  });

  it('sends no executed event for an asynchronous dispatch', async () => {
    const events = eventBus();
    const seen = await spy(events);
    const handler = commandBus(events);
    const dispatcher = commandBus(events);
    let ran = 0;
    await handler.handle('count', () => {
      ran++;
    });
    const command = createCommand('count', {});
    await dispatcher.dispatch(command);
    await until(() => ran === 1, 'the handler to run');
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(ofCommand(seen, command.id)).toEqual([
      COMMAND_BUS_EVENTS.dispatched,
      COMMAND_BUS_EVENTS.requested,
      COMMAND_BUS_EVENTS.assigned,
    ]);
  });

  it('announces handled names, and says goodbye on close', async () => {
    const events = eventBus();
    const seen = await spy(events);
    const handler = commandBus(events);
    await handler.handle('greet', () => 'hi');
    await until(
      () =>
        seen.some(
          (e) =>
            e.name === COMMAND_BUS_EVENTS.handlers &&
            (e.data as { names: string[] }).names.includes('greet'),
        ),
      'the announcement',
    );
    await handler.close();
    const last = seen.filter((e) => e.name === COMMAND_BUS_EVENTS.handlers).at(-1);
    expect(last?.data).toEqual({ bus: handler.id, names: [], ttl: 0, discover: false });
  });

  it('fails with AssignTimeoutError when an instance announced the name but never claims it, and with NoHandlerError once the announcement expired', async () => {
    const events = eventBus();
    // A participant that announces a handler when asked, and never claims anything.
    const fake = uuidv7();
    const membership = await events.subscribe([COMMAND_BUS_EVENTS.handlers]);
    opened.push(membership);
    void (async () => {
      for await (const event of membership) {
        if (!(event.data as { discover: boolean }).discover) continue;
        await events.publish([
          createEvent(COMMAND_BUS_EVENTS.handlers, {
            bus: fake,
            names: ['silent'],
            ttl: 400,
            discover: false,
          }),
        ]);
      }
    })();
    const dispatcher = commandBus(events, { assignTimeout: 200 });
    const timedOut = await rejection(dispatcher.dispatch(createCommand('silent', {})));
    expect(isGoesError(timedOut, 'COMMAND_ASSIGN_TIMEOUT')).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 450));
    const nobody = await rejection(dispatcher.dispatch(createCommand('silent', {})));
    expect(isGoesError(nobody, 'COMMAND_NO_HANDLER')).toBe(true);
  });

  it('fails with ExecutionTimeoutError when the assignee never answers (crashed), and cancels it', async () => {
    const events = eventBus();
    const seen = await spy(events);
    const dispatcher = commandBus(events, {
      assignTimeout: 100,
      receiveTimeout: 100,
      executionTimeout: 100,
    });
    // A participant that claims every command and then dies silently.
    const fake = uuidv7();
    const offers = await events.subscribe([COMMAND_BUS_EVENTS.dispatched]);
    opened.push(offers);
    void (async () => {
      for await (const offer of offers) {
        const data = offer.data as CommandDispatchedData;
        await events.publish([
          createEvent(COMMAND_BUS_EVENTS.requested, {
            id: data.id,
            dispatcher: data.dispatcher,
            handler: fake,
            claim: uuidv7(),
          }),
        ]);
      }
    })();
    const command = createCommand('crash', {});
    const error = await rejection(dispatcher.dispatch(command, { sync: true }));
    expect(isGoesError(error, 'COMMAND_EXECUTION_TIMEOUT')).toBe(true);
    expect((error as Error).message).toContain('may have stopped');
    expect((error as { handler?: string }).handler).toBe(fake);
    await until(
      () => ofCommand(seen, command.id).includes(COMMAND_BUS_EVENTS.cancelled),
      'the cancellation',
    );
    expect(sizes(dispatcher)).toEqual(empty);
  });

  it('releases a claim that arrives after the dispatch ended', async () => {
    const events = eventBus();
    const seen = await spy(events);
    const dispatcher = commandBus(events, { assignTimeout: 100, noHandlerTimeout: 100 });
    const command = createCommand('late', {});
    const error = await rejection(dispatcher.dispatch(command));
    expect(isGoesError(error, 'COMMAND_NO_HANDLER')).toBe(true);
    const claimant = uuidv7();
    const claim = uuidv7();
    await events.publish([
      createEvent(COMMAND_BUS_EVENTS.requested, {
        id: command.id,
        dispatcher: dispatcher.id,
        handler: claimant,
        claim,
      }),
    ]);
    await until(
      () =>
        seen.some(
          (e) =>
            e.name === COMMAND_BUS_EVENTS.assigned && (e.data as { id: string }).id === command.id,
        ),
      'the release',
    );
    const release = seen.find((e) => e.name === COMMAND_BUS_EVENTS.assigned)?.data;
    expect(release).toEqual({
      id: command.id,
      dispatcher: dispatcher.id,
      handler: '',
      reply: false,
      claim,
    });
  });

  it('reports malformed protocol events to onError and keeps working', async () => {
    const events = eventBus();
    const errors: unknown[] = [];
    const handler = commandBus(events, { onError: (error) => errors.push(error) });
    const dispatcher = commandBus(events);
    await handler.handle('ok', () => 'ok');
    await events.publish([
      createEvent(COMMAND_BUS_EVENTS.dispatched, { id: 42 }),
      createEvent(COMMAND_BUS_EVENTS.assigned, 'nonsense'),
      createEvent(COMMAND_BUS_EVENTS.handlers, { bus: 'x', names: [1], ttl: 1, discover: false }),
    ]);
    await until(() => errors.length >= 2, 'the errors');
    expect(errors.every((error) => isGoesError(error, 'INVALID_EVENT'))).toBe(true);
    await expect(dispatcher.dispatch(createCommand('ok', {}), { sync: true })).resolves.toBe('ok');
  });

  it("refuses a payload the handler's codec cannot decode, naming the handler instance", async () => {
    const events = eventBus();
    const strict = createRegistry().register('order.place', {
      schema: {
        '~standard': {
          version: 1,
          vendor: 'test',
          validate: (value) =>
            typeof (value as { sku?: unknown }).sku === 'string'
              ? { value }
              : { issues: [{ message: 'sku must be a string' }] },
        },
      },
    });
    const handler = commandBus(events, { codec: strict });
    const dispatcher = commandBus(events);
    let ran = 0;
    await handler.handle('order.place', () => {
      ran++;
    });
    const error = await rejection(
      dispatcher.dispatch(createCommand('order.place', { sku: 7 }), { sync: true }),
    );
    expect(isGoesError(error, 'INVALID_COMMAND')).toBe(true);
    expect((error as Error).message).toContain('sku must be a string');
    expect((error as Error).message).toContain(handler.id);
    expect(ran).toBe(0);

    const unknown = createRegistry({ strict: true });
    const other = commandBus(events, { codec: unknown });
    await other.handle('order.cancel', () => {});
    const notKnown = await rejection(
      dispatcher.dispatch(createCommand('order.cancel', {}), { sync: true }),
    );
    expect(isGoesError(notKnown, 'COMMAND_UNKNOWN')).toBe(true);
  });

  it('turns an unencodable result into a failure and drops details that are not JSON', async () => {
    const events = eventBus();
    const handler = commandBus(events);
    const dispatcher = commandBus(events);
    await handler.handle('big', () => ({ n: 1n }));
    await handler.handle('odd', () => {
      throw new CommandError('ODD', 'odd details', { details: { n: 1n } });
    });
    const encode = await rejection(dispatcher.dispatch(createCommand('big', {}), { sync: true }));
    expect(isCommandError(encode, 'CODEC_ENCODE_FAILED')).toBe(true);
    const odd = await rejection(dispatcher.dispatch(createCommand('odd', {}), { sync: true }));
    expect(isCommandError(odd, 'ODD')).toBe(true);
    expect((odd as CommandError).details).toBeUndefined();
    expect((odd as Error).message).toBe('odd details');
  });

  it('uses the result codec on both sides', async () => {
    const events = eventBus();
    const results = createRegistry().register('when', {
      encode: (date: Date) => String(date.getTime()),
      decode: (text: string) => new Date(Number(text)),
    });
    const handler = commandBus(events, { resultCodec: results });
    const dispatcher = commandBus(events, { resultCodec: results });
    await handler.handle('when', () => new Date(1_700_000_000_000));
    const result = await dispatcher.dispatch(createCommand('when', {}), { sync: true });
    expect(result).toEqual(new Date(1_700_000_000_000));
  });

  it('refuses a second dispatch of a command id still in flight', async () => {
    const events = eventBus();
    const bus = commandBus(events);
    let release!: () => void;
    await bus.handle('slow', () => new Promise<void>((resolve) => (release = resolve)));
    const command = createCommand('slow', {});
    const first = bus.dispatch(command, { sync: true });
    await until(() => release !== undefined, 'the handler to start');
    const again = await rejection(bus.dispatch(command, { sync: true }));
    expect(isGoesError(again, 'INVALID_COMMAND')).toBe(true);
    expect((again as Error).message).toContain(command.id);
    release();
    await first;
  });

  it('rejects a dispatch when the event bus refuses the publish', async () => {
    const events = createMemoryEventBus();
    const bus = commandBus(events);
    await bus.handle('x', () => 1);
    await events.close();
    const error = await rejection(bus.dispatch(createCommand('x', {}), { sync: true }));
    expect(isGoesError(error, 'CLOSED')).toBe(true);
  });

  it('forgets every command once it ended: results, failures, timeouts, cancellations', async () => {
    const events = eventBus();
    const handlers = [commandBus(events), commandBus(events)];
    const dispatcher = commandBus(events, { executionTimeout: 100 });
    for (const handler of handlers) {
      await handler.handle(
        'mixed',
        ({ payload, signal }) => {
          const { kind } = payload as { kind: string };
          if (kind === 'fail') throw new Error('failed');
          if (kind === 'hang')
            return new Promise((resolve) => signal.addEventListener('abort', resolve));
          return kind;
        },
        { concurrency: 3 },
      );
    }
    const kinds = ['ok', 'fail', 'hang', 'ok', 'cancel', 'async'];
    await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        const kind = kinds[i % kinds.length] as string;
        const command = createCommand('mixed', { kind });
        if (kind === 'async') return dispatcher.dispatch(command);
        if (kind === 'cancel') {
          return dispatcher
            .dispatch(command, { sync: true, signal: AbortSignal.timeout(5) })
            .catch(() => {});
        }
        return dispatcher.dispatch(command, { sync: true }).catch(() => {});
      }),
    );
    // also a dispatch nobody handles and one that times out waiting for a claim
    await dispatcher.dispatch(createCommand('nobody', {})).catch(() => {});
    await until(
      () =>
        [...handlers, dispatcher].every(
          (bus) => JSON.stringify(sizes(bus)) === JSON.stringify(empty),
        ),
      'all state to be forgotten',
      3_000,
    );
  });
});

describe('distributed command bus transport', () => {
  /** An event bus whose subscriptions can be cut, as a broken connection would. */
  function flakyBus(): { bus: EventBus; cut(): void } {
    const inner = createMemoryEventBus();
    opened.push(inner);
    const live = new Set<Subscription>();
    return {
      bus: {
        publish: (events, options) => inner.publish(events, options),
        subscribe: async (names: readonly string[], options?: SubscribeOptions) => {
          const subscription = await inner.subscribe(names, options);
          live.add(subscription);
          return subscription;
        },
        close: () => inner.close(),
        [Symbol.asyncDispose]: () => inner.close(),
      },
      cut() {
        for (const subscription of live) void subscription.close();
        live.clear();
      },
    };
  }

  it('reports a lost subscription, fails waiting dispatches, and resubscribes', async () => {
    const { bus: events, cut } = flakyBus();
    const errors: unknown[] = [];
    const handler = commandBus(events);
    const dispatcher = commandBus(events, { onError: (error) => errors.push(error) });
    let release!: () => void;
    await handler.handle('work', ({ payload }) => {
      if ((payload as { wait: boolean }).wait) {
        return new Promise<string>((resolve) => (release = () => resolve('late')));
      }
      return 'done';
    });
    const waiting = dispatcher.dispatch(createCommand('work', { wait: true }), { sync: true });
    await until(() => release !== undefined, 'the handler to start');
    cut();
    const error = await rejection(waiting);
    expect(isGoesError(error, 'CONNECTION_FAILED')).toBe(true);
    expect(errors.some((e) => isGoesError(e, 'CONNECTION_FAILED'))).toBe(true);
    release();
    // both instances resubscribe in the background; then commands flow again
    let result: unknown;
    for (let attempt = 0; attempt < 50 && result !== 'done'; attempt++) {
      result = await dispatcher
        .dispatch(createCommand('work', { wait: false }), { sync: true })
        .catch(() => undefined);
      if (result !== 'done') await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(result).toBe('done');
  });

  /** An event bus whose first `failures` subscribe calls fail, as an unreachable server would. */
  function unreachableAtFirst(failures: number): EventBus {
    const inner = createMemoryEventBus();
    opened.push(inner);
    let left = failures;
    return {
      publish: (events, options) => inner.publish(events, options),
      subscribe: async (names: readonly string[], options?: SubscribeOptions) => {
        if (left > 0) {
          left--;
          throw new ConnectionError('server unreachable');
        }
        return inner.subscribe(names, options);
      },
      close: () => inner.close(),
      [Symbol.asyncDispose]: () => inner.close(),
    };
  }

  it('frees the name when handle() cannot start the bus', async () => {
    const events = unreachableAtFirst(1);
    const bus = commandBus(events);
    const error = await rejection(bus.handle('x', () => 1));
    expect(isGoesError(error, 'CONNECTION_FAILED')).toBe(true);
    await bus.handle('x', () => 1);
    await expect(bus.dispatch(createCommand('x', {}), { sync: true })).resolves.toBe(1);
  });

  it('keeps a mustHandle registration and starts the bus in the background', async () => {
    const events = unreachableAtFirst(2);
    const errors: unknown[] = [];
    const handler = commandBus(events, { onError: (error) => errors.push(error) });
    const registration = handler.mustHandle('x', () => 'handled');
    await expect(registration.ready).rejects.toThrow('server unreachable');
    const dispatcher = commandBus(events);
    let result: unknown;
    for (let attempt = 0; attempt < 60 && result !== 'handled'; attempt++) {
      result = await dispatcher
        .dispatch(createCommand('x', {}), { sync: true })
        .catch(() => undefined);
      if (result !== 'handled') await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(result).toBe('handled');
    expect(errors.some((e) => isGoesError(e, 'CONNECTION_FAILED'))).toBe(true);
  });
});
