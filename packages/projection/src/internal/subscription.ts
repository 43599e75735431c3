import {
  type EventQuery,
  type EventStore,
  InvalidArgumentError,
  type SignalOptions,
  validateQuery,
} from '@goes/event';
import { report } from '../apply.js';
import type { Job } from '../job.js';
import type {
  JobHandler,
  ScheduleSubscribeOptions,
  ScheduleSubscription,
  StartupOptions,
  TriggerOptions,
} from '../schedule.js';
import { JobRunner } from './runner.js';

/** The source of a subscription's live and periodic jobs (a bus subscription, a timer). */
export interface LiveSource {
  /** True while it will request a job soon (a debounce timer is pending). */
  busy(): boolean;
  stop(): Promise<void>;
}

/** What a schedule hands to {@link openSubscription}. */
export interface SubscriptionSetup {
  readonly store: EventStore;
  readonly query: EventQuery;
  readonly handler: JobHandler;
  readonly options: ScheduleSubscribeOptions;
  /** The window of the first live job when there is no startup job. */
  readonly initialCheckpoint: (signal: AbortSignal | undefined) => Promise<number>;
  /** Starts the live source; it calls `runner.requestLive` and reports errors. */
  readonly startLive: (runner: JobRunner, onError: (error: unknown) => void) => Promise<LiveSource>;
  readonly register: (runner: JobRunner) => void;
  readonly unregister: (runner: JobRunner) => void;
}

/**
 * Opens a schedule subscription: the startup job goes first in the queue, the live source is
 * started before the initial window is taken (so no event falls between them), and the runner
 * starts once both are in place.
 *
 * @internal
 */
export async function openSubscription(setup: SubscriptionSetup): Promise<ScheduleSubscription> {
  const { options } = setup;
  if (typeof setup.handler !== 'function') {
    throw new InvalidArgumentError('subscribe: the job handler must be a function');
  }
  options.signal?.throwIfAborted();
  const startup = startupOptions(options.startup);
  const userOnError = options.onError ?? defaultOnError;
  const onError = (error: unknown, job: Job | undefined) =>
    report((e: unknown) => userOnError(e, job), error);
  const runner = new JobRunner({
    store: setup.store,
    query: setup.query,
    handler: setup.handler,
    onError,
    errorPolicy: options.errorPolicy,
    beforeEvent: options.beforeEvent,
  });
  const started = startup ? runner.enqueue('startup', startup) : undefined;
  let live: LiveSource | undefined;
  try {
    live = await setup.startLive(runner, (error) => onError(error, undefined));
    const checkpoint = startup
      ? (startup.from ?? 0)
      : await setup.initialCheckpoint(options.signal);
    runner.start(checkpoint);
  } catch (error) {
    await live?.stop();
    await runner.close();
    throw error;
  }
  const source = live;
  runner.busy = () => source.busy();
  setup.register(runner);
  const subscription = new RunningSubscription(runner, async () => {
    setup.unregister(runner);
    // Abort the running job first (synchronously), then stop the live source.
    const closing = runner.close();
    await source.stop();
    await closing;
  });
  const { signal } = options;
  if (signal) {
    // Closing reports its own problems; an abort must not surface an unhandled rejection.
    const onAbort = () => void subscription.close().catch(() => {});
    signal.addEventListener('abort', onAbort, { once: true });
    subscription.onClose(() => signal.removeEventListener('abort', onAbort));
    // An abort during the awaits above fired before the listener existed: it would never close
    // the subscription, and its bus subscription and timers would keep running.
    if (signal.aborted) {
      await subscription.close();
      throw signal.reason;
    }
  }
  if (started && startup?.wait !== false) {
    const outcome = await started;
    if (!outcome.ok) {
      await subscription.close();
      throw outcome.error;
    }
  }
  return subscription;
}

/**
 * Validates trigger options (queries, filters, window), so a bad trigger fails at the caller.
 *
 * @internal
 */
export function checkTrigger(trigger: TriggerOptions): void {
  if (typeof trigger !== 'object' || trigger === null) {
    throw new InvalidArgumentError('trigger options must be an object');
  }
  if (trigger.query !== undefined) validateQuery(trigger.query);
  if (trigger.aggregateQuery !== undefined) validateQuery(trigger.aggregateQuery);
  const filters =
    trigger.filter === undefined
      ? []
      : Array.isArray(trigger.filter)
        ? trigger.filter
        : [trigger.filter];
  for (const filter of filters as EventQuery[]) validateQuery(filter);
  if (trigger.from !== undefined && (!Number.isSafeInteger(trigger.from) || trigger.from < 0)) {
    throw new InvalidArgumentError(
      `trigger: from ${String(trigger.from)} must be a non-negative integer position`,
    );
  }
}

/**
 * Checks event names of a schedule.
 *
 * @internal
 */
export function checkNames(names: readonly string[], what: string): readonly string[] {
  if (!Array.isArray(names) || names.length === 0) {
    throw new InvalidArgumentError(`${what}: names must be a non-empty array of event names`);
  }
  names.forEach((name, i) => {
    if (typeof name !== 'string' || name.length === 0) {
      throw new InvalidArgumentError(
        `${what}: names[${i}] ${JSON.stringify(name)} must be a non-empty string`,
      );
    }
  });
  return [...new Set(names)];
}

function startupOptions(startup: ScheduleSubscribeOptions['startup']): StartupOptions | undefined {
  if (startup === undefined || startup === false) return undefined;
  const options = startup === true ? {} : startup;
  checkTrigger(options);
  return options;
}

function defaultOnError(error: unknown, job: Job | undefined): void {
  console.error(`goes: projection ${job ? `${job.kind} job` : 'schedule'} failed:`, error);
}

class RunningSubscription implements ScheduleSubscription {
  readonly #runner: JobRunner;
  readonly #stop: () => Promise<void>;
  readonly #onClose: (() => void)[] = [];
  #closing: Promise<void> | undefined;

  constructor(runner: JobRunner, stop: () => Promise<void>) {
    this.#runner = runner;
    this.#stop = stop;
  }

  get checkpoint(): number {
    return this.#runner.checkpoint;
  }

  get jobs(): number {
    return this.#runner.jobs;
  }

  get failures(): number {
    return this.#runner.failures;
  }

  whenProcessed(position: number, options?: SignalOptions): Promise<void> {
    return this.#runner.whenProcessed(position, options);
  }

  idle(options?: SignalOptions): Promise<void> {
    return this.#runner.idle(options);
  }

  onClose(fn: () => void): void {
    this.#onClose.push(fn);
  }

  close(): Promise<void> {
    this.#closing ??= this.#stop().finally(() => {
      for (const fn of this.#onClose) fn();
    });
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
