import { uuidv7 } from '@goes/event';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type ChildMessage, ChildService } from './child-process.js';
import { eventually, NATS_URL, unique } from './helpers.js';

// The distributed command bus over core NATS across processes: handler services and a
// dispatching service, each a Node process with its own NATS connection (fixtures/command-service.ts).
// Every handler process prints each command it starts, so the test counts executions per command
// id across processes; the dispatcher process prints each outcome.

const children: ChildService[] = [];
afterAll(async () => {
  for (const child of children.splice(0)) await child.stop('SIGKILL');
});

/**
 * Bus timeouts of the services (ms): short, so that a crashed handler is noticed quickly, with
 * room for a busy machine. The no-handler wait is long because no test here expects "no
 * handler": a first dispatch must never fail before the handlers' announcements arrived.
 */
const TIMEOUTS = {
  ASSIGN_TIMEOUT: '1500',
  RECEIVE_TIMEOUT: '500',
  EXECUTION_TIMEOUT: '5000',
  NO_HANDLER_TIMEOUT: '2000',
};

interface Handler {
  readonly service: string;
  readonly process: ChildService;
  /** The handler's command bus id (what an `ExecutionTimeoutError` names as `handler`). */
  readonly bus: string;
}

/** Starts `count` handler services (concurrency 8 each) and one dispatcher, and waits for them. */
async function startServices(count: number) {
  const shared = {
    ...TIMEOUTS,
    GOES_NATS_URL: NATS_URL,
    PREFIX: `goestest.${unique()}`,
    NAME: 'inventory.reserve',
  };
  const spawn = (name: string, env: Record<string, string>) => {
    const child = new ChildService('command-service', name, { ...shared, ...env });
    children.push(child);
    return child;
  };
  const services = Array.from({ length: count }, (_, i) => String.fromCharCode(65 + i));
  const handlerProcesses = services.map((service) =>
    spawn(`handler service ${service}`, { ROLE: 'handler', SERVICE: service, CONCURRENCY: '8' }),
  );
  const dispatcher = spawn('the dispatcher', { ROLE: 'dispatcher', MAX_IN_FLIGHT: '64' });
  const ready = await Promise.all([...handlerProcesses, dispatcher].map((c) => c.waitReady()));
  const handlers: Handler[] = handlerProcesses.map((process, i) => ({
    service: services[i] as string,
    process,
    bus: String(ready[i]?.bus),
  }));
  return { handlers, dispatcher };
}

/** The dispatcher's outcome per command id. */
function outcomes(dispatcher: ChildService): Map<string, ChildMessage> {
  return new Map(dispatcher.with('id').map((message) => [String(message.id), message]));
}

/** Which handler services started each command, by command id. */
function executions(handlers: readonly Handler[]): Map<string, string[]> {
  const started = new Map<string, string[]>();
  for (const { service, process } of handlers) {
    for (const message of process.with('executed')) {
      const id = String(message.executed);
      started.set(id, [...(started.get(id) ?? []), service]);
    }
  }
  return started;
}

/**
 * What went wrong with commands that should have succeeded: each must have exactly one
 * execution, by the service its result names, and the right result.
 */
function problems(
  sent: readonly { id: string; n: number }[],
  results: Map<string, ChildMessage>,
  started: Map<string, string[]>,
): string[] {
  const found: string[] = [];
  for (const { id, n } of sent) {
    const outcome = results.get(id);
    const result = outcome?.result as { doubled?: unknown; by?: unknown } | undefined;
    const ran = started.get(id) ?? [];
    if (!result) found.push(`${id}: no result (${JSON.stringify(outcome)})`);
    else if (result.doubled !== n * 2) found.push(`${id}: wrong result ${JSON.stringify(result)}`);
    if (ran.length !== 1) found.push(`${id}: executed ${ran.length} times (${ran.join(', ')})`);
    else if (result && ran[0] !== result.by)
      found.push(`${id}: executed by ${ran[0]}, result from ${String(result.by)}`);
  }
  return found;
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 200));

// One system for both tests (starting a service process costs seconds on a busy machine): the
// second test crashes one of its handler services, so it runs last.
describe('distributed command bus over NATS core across processes', () => {
  let handlers: Handler[];
  let dispatcher: ChildService;
  beforeAll(async () => {
    ({ handlers, dispatcher } = await startServices(3));
  }, 60_000);

  it('executes each of 1,000 synchronous commands exactly once across 3 handler services and returns every result', async () => {
    const sent = Array.from({ length: 1_000 }, (_, n) => ({ id: uuidv7(), n }));
    for (const request of sent) dispatcher.send(request);
    await eventually(
      () => outcomes(dispatcher).size === sent.length,
      50_000,
      'the dispatcher to have every outcome',
    );
    // A duplicate execution would show up around the same time as the results: give it a moment.
    await settle();
    const started = executions(handlers);
    expect(problems(sent, outcomes(dispatcher), started)).toEqual([]);
    expect(started.size).toBe(sent.length);
    // Every service took part: the commands were contended by all three.
    for (const { process } of handlers) expect(process.with('executed').length).toBeGreaterThan(0);
  }, 60_000);

  it('a handler service killed mid-command gives the dispatcher ExecutionTimeoutError, never a success, and the others carry on', async () => {
    // The command never finishes on its own (it would end with its 2 s execution timeout, reported
    // by a live handler); its handler process is killed while it runs.
    const hung = { id: uuidv7(), n: 0, hang: true, timeout: 2_000 };
    dispatcher.send(hung);
    let victim: Handler | undefined;
    await eventually(
      () => {
        victim = handlers.find((h) =>
          h.process.with('executed').some((m) => m.executed === hung.id),
        );
        return victim !== undefined;
      },
      10_000,
      'a handler service to start the command',
    );
    const killed = victim as Handler;
    await killed.process.stop('SIGKILL');

    // No outcome will come: the dispatcher's backstop (assign + receive + execution timeout after
    // the assignment) ends the wait with a typed error naming the handler it had assigned.
    await eventually(() => outcomes(dispatcher).has(hung.id), 20_000, 'the dispatcher to give up');
    const outcome = outcomes(dispatcher).get(hung.id) as ChildMessage;
    expect(outcome.result).toBeUndefined();
    expect(outcome.error).toEqual({
      code: 'COMMAND_EXECUTION_TIMEOUT',
      handler: killed.bus,
      message: expect.stringContaining('it may have stopped'),
    });
    expect(executions(handlers).get(hung.id)).toEqual([killed.service]);

    // The surviving services handle what comes next, each command once.
    const survivors = handlers.filter((h) => h !== killed);
    const later = Array.from({ length: 50 }, (_, n) => ({ id: uuidv7(), n: n + 1 }));
    for (const request of later) dispatcher.send(request);
    await eventually(
      () => later.every(({ id }) => outcomes(dispatcher).has(id)),
      20_000,
      'the later commands',
    );
    await settle();
    expect(problems(later, outcomes(dispatcher), executions(handlers))).toEqual([]);
    const ranBy = new Set(later.map(({ id }) => executions(handlers).get(id)?.[0]));
    expect([...ranBy].every((service) => survivors.some((h) => h.service === service))).toBe(true);
  }, 45_000);
});
