import { type Codec, createRegistry, type StandardSchemaV1 } from '@goes/codec';
import {
  type Command,
  type CommandBus,
  CommandError,
  type CommandHandlerRegistration,
  type CommandReport,
  type CommandSubscription,
  createCommand,
  isCommandError,
} from '@goes/command';
import { type GoesError, isGoesError, uuidv7 } from '@goes/event';
import { afterEach, describe, expect, it } from '@jest/globals';
import { delay } from './bus-expect.js';
import { type Namespace, namespace } from './fixtures.js';

/**
 * What the suite hands to the factory for each test: the payload codec (strict; it knows this
 * test's command names, and one of them has a schema), the timeouts to configure the buses with,
 * and an `onError` to give them.
 *
 * @example
 * ```ts
 * const factory: CommandBusFactory = ({ codec, assignTimeout, onError }) => ({
 *   connect: () => createDistributedCommandBus(events, { codec, assignTimeout, onError }),
 * });
 * ```
 */
export interface CommandBusTestContext {
  readonly codec: Codec;
  readonly assignTimeout: number;
  readonly receiveTimeout: number;
  readonly executionTimeout: number;
  readonly onError: (error: unknown) => void;
}

/**
 * The buses of one test. `connect()` returns a bus instance; for a distributed bus, every call
 * returns a new instance sharing one transport (one event bus, one NATS server...), as separate
 * services would. An in-process bus returns the same instance every time.
 *
 * @example
 * ```ts
 * const events = createMemoryEventBus();
 * const cluster: CommandBusCluster = {
 *   connect: () => createDistributedCommandBus(events, { codec }),
 *   close: () => events.close(),
 * };
 * ```
 */
export interface CommandBusCluster {
  connect(): CommandBus | Promise<CommandBus>;
  /** Called after the suite closed every bus of the test. */
  close?(): void | Promise<void>;
}

/**
 * Makes the buses of one test. Called once per test.
 *
 * @example
 * ```ts
 * const factory: CommandBusFactory = (context) => {
 *   const bus = createLocalCommandBus(context);
 *   return { connect: () => bus };
 * };
 * ```
 */
export type CommandBusFactory = (
  context: CommandBusTestContext,
) => CommandBusCluster | Promise<CommandBusCluster>;

/**
 * Options of {@link commandBusConformance}.
 *
 * @example
 * ```ts
 * commandBusConformance('nats', factory, { distributed: true, timeouts: { assignTimeout: 2_000 } });
 * ```
 */
export interface CommandBusConformanceOptions {
  /**
   * `connect()` makes independent instances sharing a transport: enables the tests with several
   * instances handling the same command. Default false.
   */
  readonly distributed?: boolean | undefined;
  /**
   * Timeouts given to the buses (ms). Defaults: assign 500, receive 500, execution 2,000. Raise
   * them for slow transports; tests that expect a timeout wait this long.
   */
  readonly timeouts?:
    | {
        readonly assignTimeout?: number | undefined;
        readonly receiveTimeout?: number | undefined;
        readonly executionTimeout?: number | undefined;
      }
    | undefined;
  /** Commands dispatched by the exactly-once tests. Default 200. */
  readonly commands?: number | undefined;
  /** Instances handling the same name in the distributed exactly-once test. Default 3. */
  readonly instances?: number | undefined;
}

/** The command names (suffixes) every test may use; `unknown` is deliberately missing. */
const SUFFIXES = ['echo', 'fail', 'void', 'work', 'hang', 'pull', 'validated', 'other'];

const integerPayload: StandardSchemaV1<unknown, { n: number }> = {
  '~standard': {
    version: 1,
    vendor: 'goes-testing',
    validate: (value) => {
      const n = (value as { n?: unknown } | null)?.n;
      return typeof n === 'number' && Number.isInteger(n)
        ? { value: { n } }
        : { issues: [{ message: 'n must be an integer', path: ['n'] }] };
    },
  },
};

interface Latch {
  readonly promise: Promise<void>;
  open(): void;
}

function latch(): Latch {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** Waits until `check()` holds, polling; fails with `what` after `ms`. */
async function eventually(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await delay(5);
  }
}

/** The rejection of a promise that must reject. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}

function expectCode(error: unknown, code: string): asserts error is GoesError {
  if (!isGoesError(error, code)) {
    throw new Error(
      `expected an error with code ${code}, got ${error instanceof Error ? `${error.name} ${JSON.stringify((error as { code?: unknown }).code)}: ${error.message}` : String(error)}`,
    );
  }
}

/**
 * The command bus conformance suite: the cases of goes' `cmdbus` tests (dispatch, synchronous
 * dispatch, reports, assign and receive timeouts, a single bus receiving each command, enriched
 * errors) plus what goes lacked: results, execution timeouts, fast "no handler" errors, exactly
 * once under concurrent handlers (and, with `distributed`, several instances handling the same
 * name), concurrency limits, cancellation through `AbortSignal`, bad input with typed errors,
 * pull subscriptions, and orderly close.
 *
 * @example
 * ```ts
 * import { createLocalCommandBus } from '@goes/command';
 * import { commandBusConformance } from '@goes/testing';
 *
 * commandBusConformance('local', (context) => {
 *   const bus = createLocalCommandBus(context);
 *   return { connect: () => bus };
 * });
 * ```
 */
export function commandBusConformance(
  name: string,
  factory: CommandBusFactory,
  options: CommandBusConformanceOptions = {},
): void {
  const distributed = options.distributed ?? false;
  const timeouts = {
    assignTimeout: options.timeouts?.assignTimeout ?? 500,
    receiveTimeout: options.timeouts?.receiveTimeout ?? 500,
    executionTimeout: options.timeouts?.executionTimeout ?? 2_000,
  };
  const commandCount = options.commands ?? 200;
  // How long to wait for something that must happen (never asserted as a duration).
  const patience = Math.max(2_000, timeouts.assignTimeout + timeouts.executionTimeout);
  const instanceCount = options.instances ?? 3;

  let cluster: CommandBusCluster | undefined;
  let buses: CommandBus[] = [];
  let latches: Latch[] = [];
  let errors: unknown[] = [];
  let ns: Namespace;

  /** Sets up the test's cluster and returns its helpers. */
  const setup = async () => {
    ns = namespace();
    const codec = createRegistry({ strict: true });
    for (const suffix of SUFFIXES) {
      codec.register(ns.name(suffix), suffix === 'validated' ? { schema: integerPayload } : {});
    }
    errors = [];
    cluster = await factory({ codec, ...timeouts, onError: (error) => errors.push(error) });
    return ns;
  };
  const connect = async (): Promise<CommandBus> => {
    if (!cluster) throw new Error('setup() first');
    const bus = await cluster.connect();
    if (!buses.includes(bus)) buses.push(bus);
    return bus;
  };
  /** A dispatching and a handling instance (the same one for an in-process bus). */
  const pair = async () => {
    const handler = await connect();
    const dispatcher = distributed ? await connect() : handler;
    return { dispatcher, handler };
  };
  const gate = () => {
    const made = latch();
    latches.push(made);
    return made;
  };
  const command = (suffix: string, payload: unknown = {}, extra: Partial<Command> = {}) =>
    ({ ...createCommand(ns.name(suffix), payload), ...extra }) as Command;

  describe(`command bus conformance: ${name}`, () => {
    afterEach(async () => {
      for (const made of latches) made.open();
      latches = [];
      const closing = buses;
      buses = [];
      await Promise.all(closing.map((bus) => bus.close()));
      await cluster?.close?.();
      cluster = undefined;
    });

    describe('dispatch', () => {
      it('returns the result of a synchronous dispatch; the handler sees id, name, payload and aggregate', async () => {
        await setup();
        const { dispatcher, handler } = await pair();
        const seen: unknown[] = [];
        await handler.handle(ns.name('echo'), (context) => {
          seen.push({
            id: context.id,
            name: context.name,
            payload: context.payload,
            aggregate: context.aggregate,
            same: context.command.id === context.id,
            signal: context.signal instanceof AbortSignal && !context.signal.aborted,
          });
          return { echoed: context.payload, by: 'handler' };
        });
        const payload = {
          text: 'grüße, 世界 🚀',
          nested: { list: [1, 'two', null, true], empty: {} },
          n: -12.5,
        };
        const aggregate = { name: ns.name('order'), id: uuidv7() };
        const sent = command('echo', payload, { aggregate });
        const result = await dispatcher.dispatch(sent, { sync: true });
        expect(result).toEqual({ echoed: payload, by: 'handler' });
        expect(seen).toEqual([
          { id: sent.id, name: sent.name, payload, aggregate, same: true, signal: true },
        ]);
      });

      it('resolves an asynchronous dispatch without waiting for the handler, which then runs once', async () => {
        await setup();
        const { dispatcher, handler } = await pair();
        const release = gate();
        const ran: string[] = [];
        await handler.handle(ns.name('work'), async ({ id }) => {
          await release.promise;
          ran.push(id);
        });
        const sent = command('work');
        await expect(dispatcher.dispatch(sent)).resolves.toBeUndefined();
        expect(ran).toEqual([]);
        release.open();
        await eventually(() => ran.length === 1, patience, 'the handler to run');
        await delay(20);
        expect(ran).toEqual([sent.id]);
      });

      it('resolves a synchronous dispatch of a handler without result to undefined', async () => {
        await setup();
        const { dispatcher, handler } = await pair();
        await handler.handle(ns.name('void'), () => {});
        await expect(dispatcher.dispatch(command('void'), { sync: true })).resolves.toBeUndefined();
      });
    });

    describe('errors and reports', () => {
      it("returns the handler's CommandError with code, message and details to the dispatcher", async () => {
        await setup();
        const { dispatcher, handler } = await pair();
        await handler.handle(ns.name('fail'), () => {
          throw new CommandError('OUT_OF_STOCK', 'only 3 left of A-1', {
            details: { sku: 'A-1', available: 3, alternatives: ['A-2', 'A-3'] },
          });
        });
        const sent = command('fail', { sku: 'A-1' });
        const error = await rejection(dispatcher.dispatch(sent, { sync: true }));
        expect(isCommandError(error, 'OUT_OF_STOCK')).toBe(true);
        const failure = error as CommandError;
        expect(failure.message).toBe('only 3 left of A-1');
        expect(failure.details).toEqual({
          sku: 'A-1',
          available: 3,
          alternatives: ['A-2', 'A-3'],
        });
        expect(failure.command).toEqual({ id: sent.id, name: sent.name });
        expect(failure.toJSON()).toEqual({
          code: 'OUT_OF_STOCK',
          message: 'only 3 left of A-1',
          details: { sku: 'A-1', available: 3, alternatives: ['A-2', 'A-3'] },
        });
      });

      it('keeps the code of other coded errors, uses COMMAND_HANDLER_FAILED for the rest, and keeps handling', async () => {
        await setup();
        const { dispatcher, handler } = await pair();
        await handler.handle(ns.name('fail'), ({ payload }) => {
          const { kind } = payload as { kind: string };
          if (kind === 'plain') throw new Error('plain failure');
          if (kind === 'coded')
            throw Object.assign(new Error('no paper'), { code: 'OUT_OF_PAPER' });
          if (kind === 'async') return Promise.reject(new Error('async failure'));
          if (kind === 'string') throw 'a thrown string';
          return 'fine';
        });
        const plain = await rejection(
          dispatcher.dispatch(command('fail', { kind: 'plain' }), { sync: true }),
        );
        expect(isCommandError(plain, 'COMMAND_HANDLER_FAILED')).toBe(true);
        expect((plain as Error).message).toBe('plain failure');
        const coded = await rejection(
          dispatcher.dispatch(command('fail', { kind: 'coded' }), { sync: true }),
        );
        expect(isCommandError(coded, 'OUT_OF_PAPER')).toBe(true);
        expect((coded as Error).message).toBe('no paper');
        const rejected = await rejection(
          dispatcher.dispatch(command('fail', { kind: 'async' }), { sync: true }),
        );
        expect(isCommandError(rejected, 'COMMAND_HANDLER_FAILED')).toBe(true);
        expect((rejected as Error).message).toBe('async failure');
        const thrown = await rejection(
          dispatcher.dispatch(command('fail', { kind: 'string' }), { sync: true }),
        );
        expect(isCommandError(thrown, 'COMMAND_HANDLER_FAILED')).toBe(true);
        expect((thrown as Error).message).toBe('a thrown string');
        await expect(
          dispatcher.dispatch(command('fail', { kind: 'none' }), { sync: true }),
        ).resolves.toBe('fine');
      });

      it('reports runtime and outcome: a success has the result and no error, a failure has the error', async () => {
        await setup();
        const { dispatcher, handler } = await pair();
        await handler.handle(ns.name('echo'), ({ payload }) => {
          if ((payload as { fail?: boolean }).fail) {
            throw new CommandError('REFUSED', 'refused', { details: { why: 'test' } });
          }
          return { ok: true };
        });
        const reports: CommandReport[] = [];
        const ok = command('echo', { fail: false });
        await dispatcher.dispatch(ok, { sync: true, onReport: (r) => reports.push(r) });
        const bad = command('echo', { fail: true });
        await rejection(dispatcher.dispatch(bad, { sync: true, onReport: (r) => reports.push(r) }));
        expect(reports).toHaveLength(2);
        const [success, failure] = reports as [CommandReport, CommandReport];
        expect(success.outcome).toBe('succeeded');
        expect(success.command).toEqual({ id: ok.id, name: ok.name });
        expect(success.handler).toBe(handler.id);
        expect(success.runtime).toBeGreaterThanOrEqual(0);
        expect('error' in success).toBe(false);
        expect(success.outcome === 'succeeded' && success.result).toEqual({ ok: true });
        expect(failure.outcome).toBe('failed');
        expect(failure.command).toEqual({ id: bad.id, name: bad.name });
        if (failure.outcome !== 'failed') throw new Error('unreachable');
        expect(isCommandError(failure.error, 'REFUSED')).toBe(true);
        expect((failure.error as CommandError).details).toEqual({ why: 'test' });
      });

      it("reports failures of asynchronously dispatched commands to the handler's onError", async () => {
        await setup();
        const { dispatcher, handler } = await pair();
        const failures: unknown[] = [];
        await handler.handle(
          ns.name('fail'),
          () => {
            throw new CommandError('NOPE', 'nope');
          },
          { onError: (error) => failures.push(error) },
        );
        const sent = command('fail');
        await dispatcher.dispatch(sent);
        await eventually(() => failures.length === 1, patience, 'the failure to be reported');
        expect(isCommandError(failures[0], 'NOPE')).toBe(true);
        expect((failures[0] as CommandError).command?.id).toBe(sent.id);
      });
    });

    describe('exactly once and concurrency', () => {
      it(`executes each of ${commandCount} concurrent commands exactly once`, async () => {
        await setup();
        const { dispatcher, handler } = await pair();
        const runs = new Map<string, number>();
        await handler.handle(
          ns.name('work'),
          async ({ id, payload }) => {
            runs.set(id, (runs.get(id) ?? 0) + 1);
            await delay(0);
            return { doubled: (payload as { n: number }).n * 2 };
          },
          { concurrency: 4 },
        );
        const sent = Array.from({ length: commandCount }, (_, n) => command('work', { n }));
        const results = await Promise.all(sent.map((c) => dispatcher.dispatch(c, { sync: true })));
        expect(results).toEqual(sent.map((_, n) => ({ doubled: n * 2 })));
        expect(runs.size).toBe(commandCount);
        expect([...runs.values()].every((count) => count === 1)).toBe(true);
      });

      if (distributed) {
        it(`executes each command exactly once with ${instanceCount} instances handling the same name`, async () => {
          await setup();
          const handlers = await Promise.all(
            Array.from({ length: instanceCount }, () => connect()),
          );
          const onlyDispatches = await connect();
          const runs = new Map<string, string[]>();
          for (const instance of handlers) {
            await instance.handle(
              ns.name('work'),
              async ({ id }) => {
                runs.set(id, [...(runs.get(id) ?? []), instance.id]);
                await delay(0);
                return instance.id;
              },
              { concurrency: 2 },
            );
          }
          const dispatchers = [...handlers, onlyDispatches];
          const sent = Array.from({ length: commandCount }, () => command('work'));
          const outcomes = await Promise.all(
            sent.map((c, i) => {
              const from = dispatchers[i % dispatchers.length] as CommandBus;
              return i % 4 === 3 ? from.dispatch(c) : from.dispatch(c, { sync: true });
            }),
          );
          await eventually(() => runs.size === commandCount, 2 * patience, 'every command to run');
          await delay(50);
          for (const c of sent) expect(runs.get(c.id)).toHaveLength(1);
          sent.forEach((c, i) => {
            if (i % 4 !== 3) expect(outcomes[i]).toBe(runs.get(c.id)?.[0]);
          });
        });
      }

      it('runs up to `concurrency` commands at once, never more', async () => {
        await setup();
        const { dispatcher, handler } = await pair();
        const allStarted = gate();
        let started = 0;
        let active = 0;
        let peak = 0;
        await handler.handle(
          ns.name('work'),
          async () => {
            active++;
            peak = Math.max(peak, active);
            started++;
            if (started === 3) allStarted.open();
            if (started <= 3) await allStarted.promise;
            await delay(1);
            active--;
          },
          { concurrency: 3 },
        );
        await Promise.all(
          Array.from({ length: 9 }, () => dispatcher.dispatch(command('work'), { sync: true })),
        );
        expect(peak).toBe(3);
      });

      it('runs one command at a time by default', async () => {
        await setup();
        const { dispatcher, handler } = await pair();
        let active = 0;
        let peak = 0;
        await handler.handle(ns.name('work'), async () => {
          active++;
          peak = Math.max(peak, active);
          await delay(2);
          active--;
        });
        await Promise.all(
          Array.from({ length: 5 }, () => dispatcher.dispatch(command('work'), { sync: true })),
        );
        expect(peak).toBe(1);
      });
    });

    describe('no handler and timeouts', () => {
      it('fails a command nobody handles with NoHandlerError, synchronous or not', async () => {
        await setup();
        const { dispatcher, handler } = await pair();
        await handler.handle(ns.name('other'), () => 'other');
        const sent = command('echo');
        const sync = await rejection(dispatcher.dispatch(sent, { sync: true }));
        expectCode(sync, 'COMMAND_NO_HANDLER');
        expect((sync as GoesError & { command: unknown }).command).toEqual({
          id: sent.id,
          name: sent.name,
        });
        expect(sync.message).toContain(sent.name);
        expectCode(await rejection(dispatcher.dispatch(command('echo'))), 'COMMAND_NO_HANDLER');
      });

      it('fails with AssignTimeoutError while every handler is busy, and never runs that command', async () => {
        await setup();
        const { dispatcher, handler } = await pair();
        const release = gate();
        const ran: string[] = [];
        await handler.handle(ns.name('work'), async ({ id }) => {
          ran.push(id);
          await release.promise;
        });
        const first = command('work');
        const running = dispatcher.dispatch(first, { sync: true });
        await eventually(() => ran.length === 1, patience, 'the first command to start');
        const second = command('work');
        const error = await rejection(dispatcher.dispatch(second, { sync: true }));
        expectCode(error, 'COMMAND_ASSIGN_TIMEOUT');
        expect((error as GoesError & { timeout: number }).timeout).toBe(timeouts.assignTimeout);
        release.open();
        await running;
        const third = command('work');
        await dispatcher.dispatch(third, { sync: true });
        expect(ran).toEqual([first.id, third.id]);
      });

      it('drops a command its handler does not take in time with ReceiveTimeoutError', async () => {
        await setup();
        const { dispatcher, handler } = await pair();
        const subscription = await handler.subscribe([ns.name('pull')], { maxInFlight: 1 });
        const error = await rejection(dispatcher.dispatch(command('pull'), { sync: true }));
        expectCode(error, 'COMMAND_RECEIVE_TIMEOUT');
        await subscription.close();
      });

      it('times out a handler that never returns, aborts its signal, and keeps handling', async () => {
        await setup();
        const { dispatcher, handler } = await pair();
        const reasons: unknown[] = [];
        await handler.handle(ns.name('hang'), ({ payload, signal }) => {
          if ((payload as { hang: boolean }).hang) {
            signal.addEventListener('abort', () => reasons.push(signal.reason));
            return new Promise<never>(() => {});
          }
          return 'done';
        });
        const reports: CommandReport[] = [];
        const hung = command('hang', { hang: true });
        const error = await rejection(
          dispatcher.dispatch(hung, { sync: true, timeout: 100, onReport: (r) => reports.push(r) }),
        );
        expectCode(error, 'COMMAND_EXECUTION_TIMEOUT');
        expect((error as GoesError & { timeout: number }).timeout).toBe(100);
        await eventually(() => reasons.length === 1, patience, "the handler's signal to abort");
        expectCode(reasons[0], 'COMMAND_EXECUTION_TIMEOUT');
        expect(reports).toHaveLength(1);
        expect(reports[0]?.outcome).toBe('failed');
        // concurrency 1: the hung handler's slot was freed
        await expect(
          dispatcher.dispatch(command('hang', { hang: false }), { sync: true }),
        ).resolves.toBe('done');
      });
    });

    describe('cancellation', () => {
      it("rejects with the signal's reason and never runs a command cancelled before it was assigned", async () => {
        await setup();
        const { dispatcher, handler } = await pair();
        const release = gate();
        const ran: string[] = [];
        await handler.handle(ns.name('work'), async ({ id }) => {
          ran.push(id);
          await release.promise;
        });
        const first = command('work');
        const running = dispatcher.dispatch(first, { sync: true });
        await eventually(() => ran.length === 1, patience, 'the first command to start');
        const controller = new AbortController();
        const second = command('work');
        const waiting = dispatcher.dispatch(second, { sync: true, signal: controller.signal });
        await delay(20);
        const reason = new Error('the user gave up');
        controller.abort(reason);
        await expect(waiting).rejects.toBe(reason);
        release.open();
        await running;
        const third = command('work');
        await dispatcher.dispatch(third, { sync: true });
        expect(ran).toEqual([first.id, third.id]);
      });

      it("aborts the handler's signal with CommandCancelledError when a running command is cancelled", async () => {
        await setup();
        const { dispatcher, handler } = await pair();
        const started = gate();
        const reasons: unknown[] = [];
        await handler.handle(ns.name('hang'), ({ signal }) => {
          started.open();
          return new Promise<never>((_, reject) => {
            signal.addEventListener('abort', () => {
              reasons.push(signal.reason);
              reject(signal.reason);
            });
          });
        });
        const controller = new AbortController();
        const waiting = dispatcher.dispatch(command('hang'), {
          sync: true,
          signal: controller.signal,
        });
        await started.promise;
        controller.abort();
        const error = await rejection(waiting);
        expect(error).toBe(controller.signal.reason);
        await eventually(() => reasons.length === 1, patience, "the handler's signal to abort");
        expectCode(reasons[0], 'COMMAND_CANCELLED');
      });

      it('rejects at once with an already aborted signal and runs nothing', async () => {
        await setup();
        const { dispatcher, handler } = await pair();
        const ran: string[] = [];
        await handler.handle(ns.name('work'), ({ id }) => {
          ran.push(id);
        });
        const reason = new Error('aborted before');
        await expect(
          dispatcher.dispatch(command('work'), { sync: true, signal: AbortSignal.abort(reason) }),
        ).rejects.toBe(reason);
        await expect(
          dispatcher.dispatch(command('work'), { signal: AbortSignal.abort(reason) }),
        ).rejects.toBe(reason);
        await delay(20);
        expect(ran).toEqual([]);
      });
    });

    describe('bad input', () => {
      it('refuses malformed commands with InvalidCommandError naming the value, and runs nothing', async () => {
        await setup();
        const { dispatcher, handler } = await pair();
        const ran: string[] = [];
        await handler.handle(ns.name('echo'), ({ id }) => {
          ran.push(id);
        });
        const good = command('echo');
        const cases: [unknown, string][] = [
          [{ ...good, id: 'nope' }, '"nope"'],
          [{ ...good, id: good.id.toUpperCase() }, good.id.toUpperCase()],
          [{ ...good, name: '' }, '""'],
          [{ ...good, name: 42 }, '42'],
          [{ ...good, aggregate: { name: ns.name('order'), id: 'x-1' } }, '"x-1"'],
          [{ ...good, aggregate: { name: '', id: uuidv7() } }, '""'],
          [null, 'null'],
        ];
        for (const [bad, named] of cases) {
          const error = await rejection(dispatcher.dispatch(bad as Command, { sync: true }));
          expectCode(error, 'INVALID_COMMAND');
          expect(error.message).toContain(named);
        }
        await delay(20);
        expect(ran).toEqual([]);
      });

      it('refuses command names the codec does not know with UnknownCommandError', async () => {
        await setup();
        const { dispatcher } = await pair();
        const error = await rejection(dispatcher.dispatch(command('unknown'), { sync: true }));
        expectCode(error, 'COMMAND_UNKNOWN');
        expect(error.message).toContain(ns.name('unknown'));
      });

      it('refuses payloads that fail codec validation, and runs nothing', async () => {
        await setup();
        const { dispatcher, handler } = await pair();
        const seen: unknown[] = [];
        await handler.handle(ns.name('validated'), ({ payload }) => {
          seen.push(payload);
          return (payload as { n: number }).n + 1;
        });
        const error = await rejection(
          dispatcher.dispatch(command('validated', { n: 'seven' }), { sync: true }),
        );
        expectCode(error, 'INVALID_COMMAND');
        expect(error.message).toContain(ns.name('validated'));
        expect(error.message).toContain('n must be an integer');
        await expect(
          dispatcher.dispatch(command('validated', { n: 7 }), { sync: true }),
        ).resolves.toBe(8);
        expect(seen).toEqual([{ n: 7 }]);
      });

      it('refuses a second handler for a name on one instance, and accepts one after close', async () => {
        await setup();
        const { dispatcher, handler } = await pair();
        const registration = await handler.handle(ns.name('echo'), () => 'first');
        expectCode(
          await rejection(handler.handle(ns.name('echo'), () => 'second')),
          'COMMAND_ALREADY_SUBSCRIBED',
        );
        expect(() => handler.mustHandle(ns.name('echo'), () => 'second')).toThrow(
          expect.objectContaining({ code: 'COMMAND_ALREADY_SUBSCRIBED' }) as unknown as Error,
        );
        expectCode(
          await rejection(handler.subscribe([ns.name('other'), ns.name('echo')])),
          'COMMAND_ALREADY_SUBSCRIBED',
        );
        await registration.close();
        await handler.handle(ns.name('echo'), () => 'second');
        await expect(dispatcher.dispatch(command('echo'), { sync: true })).resolves.toBe('second');
      });

      it('refuses bad handler arguments and options with typed errors', async () => {
        await setup();
        const { handler } = await pair();
        for (const concurrency of [0, -1, 1.5, Number.NaN]) {
          expectCode(
            await rejection(handler.handle(ns.name('echo'), () => 1, { concurrency })),
            'INVALID_ARGUMENT',
          );
        }
        expectCode(
          await rejection(handler.handle(ns.name('echo'), 'not a function' as never)),
          'INVALID_ARGUMENT',
        );
        expectCode(await rejection(handler.handle('', () => 1)), 'INVALID_ARGUMENT');
        expectCode(await rejection(handler.subscribe([])), 'INVALID_ARGUMENT');
        expectCode(
          await rejection(handler.subscribe([ns.name('pull')], { maxInFlight: 0 })),
          'INVALID_ARGUMENT',
        );
        expectCode(
          await rejection(handler.dispatch(command('echo'), { sync: true, timeout: -5 })),
          'INVALID_ARGUMENT',
        );
      });
    });

    describe('registrations and subscriptions', () => {
      it('finishes the running command when a registration closes, then handles no more', async () => {
        await setup();
        const { dispatcher, handler } = await pair();
        const release = gate();
        const started = gate();
        const registration: CommandHandlerRegistration = await handler.handle(
          ns.name('work'),
          async () => {
            started.open();
            await release.promise;
            return 'finished';
          },
        );
        const running = dispatcher.dispatch(command('work'), { sync: true });
        await started.promise;
        const closing = registration.close();
        release.open();
        await expect(running).resolves.toBe('finished');
        await closing;
        expectCode(
          await rejection(dispatcher.dispatch(command('work'), { sync: true })),
          'COMMAND_NO_HANDLER',
        );
      });

      it('registers synchronously with mustHandle', async () => {
        await setup();
        const { dispatcher, handler } = await pair();
        const registration = handler.mustHandle(ns.name('echo'), ({ payload }) => payload);
        expect(registration.name).toBe(ns.name('echo'));
        await registration.ready;
        await expect(
          dispatcher.dispatch(command('echo', { a: 1 }), { sync: true }),
        ).resolves.toEqual({ a: 1 });
      });

      it('closes a registration when its signal aborts', async () => {
        await setup();
        const { dispatcher, handler } = await pair();
        const controller = new AbortController();
        await handler.handle(ns.name('echo'), () => 'yes', { signal: controller.signal });
        await expect(dispatcher.dispatch(command('echo'), { sync: true })).resolves.toBe('yes');
        controller.abort();
        await eventually(
          () => {
            try {
              handler.mustHandle(ns.name('echo'), () => 'again').close();
              return true;
            } catch {
              return false;
            }
          },
          patience,
          'the name to be free again',
        );
      });

      it('delivers commands to a pull subscription; finish and fail reach the dispatcher', async () => {
        await setup();
        const { dispatcher, handler } = await pair();
        const subscription: CommandSubscription = await handler.subscribe([
          ns.name('pull'),
          ns.name('other'),
        ]);
        expect([...subscription.names].sort()).toEqual([ns.name('other'), ns.name('pull')].sort());
        const consumer = (async () => {
          for await (const received of subscription) {
            expect(received.signal.aborted).toBe(false);
            if (received.name === ns.name('pull')) {
              expect(received.finish({ got: received.payload })).toBe(true);
              expect(received.fail(new Error('too late'))).toBe(false);
            } else {
              received.fail(new CommandError('PULL_FAILED', 'failed by the consumer'));
            }
          }
        })();
        await expect(
          dispatcher.dispatch(command('pull', { x: 1 }), { sync: true }),
        ).resolves.toEqual({ got: { x: 1 } });
        const error = await rejection(dispatcher.dispatch(command('other'), { sync: true }));
        expect(isCommandError(error, 'PULL_FAILED')).toBe(true);
        await subscription.close();
        await consumer;
      });

      it('ignores an outcome reported after the execution timeout', async () => {
        await setup();
        const { dispatcher, handler } = await pair();
        const subscription = await handler.subscribe([ns.name('pull')]);
        const late: boolean[] = [];
        const consumer = (async () => {
          for await (const received of subscription) {
            await new Promise((resolve) => received.signal.addEventListener('abort', resolve));
            late.push(received.finish('too late'));
          }
        })();
        const error = await rejection(
          dispatcher.dispatch(command('pull'), { sync: true, timeout: 50 }),
        );
        expectCode(error, 'COMMAND_EXECUTION_TIMEOUT');
        await eventually(() => late.length === 1, patience, 'the late outcome');
        expect(late).toEqual([false]);
        await subscription.close();
        await consumer;
      });
    });

    describe('close', () => {
      it('rejects dispatches waiting for a handler and later calls with ClosedError', async () => {
        await setup();
        const bus = await connect();
        const release = gate();
        const started = gate();
        await bus.handle(ns.name('work'), async () => {
          started.open();
          await release.promise;
          return 'finished';
        });
        // The running command finishes while the bus drains; whether its outcome reaches the
        // dispatcher before the bus is gone depends on the transport: either is correct.
        const running = bus.dispatch(command('work'), { sync: true }).then(
          (value) => ({ value }),
          (error: unknown) => ({ error }),
        );
        await started.promise;
        const waiting = bus.dispatch(command('work'), { sync: true });
        await delay(20);
        const closing = bus.close();
        expectCode(await rejection(waiting), 'CLOSED');
        release.open();
        await closing;
        const outcome = await running;
        if ('error' in outcome) expectCode(outcome.error, 'CLOSED');
        else expect(outcome.value).toBe('finished');
        expectCode(await rejection(bus.dispatch(command('work'), { sync: true })), 'CLOSED');
        expectCode(await rejection(bus.handle(ns.name('echo'), () => 1)), 'CLOSED');
        expectCode(await rejection(bus.subscribe([ns.name('pull')])), 'CLOSED');
      });
    });
  });
}
