import {
  ClosedError,
  type EventQuery,
  type EventStore,
  InvalidArgumentError,
  type SignalOptions,
} from '@goes/event';
import { abortable } from '@goes/streams';
import type { ErrorPolicy } from '../apply.js';
import { type BeforeEvent, type Job, type JobKind, StoreJob } from '../job.js';
import type { JobHandler, TriggerOptions } from '../schedule.js';

/** What a queued job turned out to be. */
export type JobOutcome = { readonly ok: true } | { readonly ok: false; readonly error: unknown };

interface QueuedJob {
  readonly kind: JobKind;
  readonly trigger: TriggerOptions | undefined;
  readonly done: ((outcome: JobOutcome) => void)[];
}

interface Waiter {
  readonly position: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** Settings of a {@link JobRunner}. */
export interface JobRunnerOptions {
  readonly store: EventStore;
  /** The schedule's own query (its event names). */
  readonly query: EventQuery;
  readonly handler: JobHandler;
  readonly onError: (error: unknown, job: Job | undefined) => void;
  readonly errorPolicy: ErrorPolicy | undefined;
  readonly beforeEvent: BeforeEvent | readonly BeforeEvent[] | undefined;
}

/**
 * Runs the jobs of one schedule subscription one at a time, in order, and keeps its checkpoint:
 * live and periodic requests coalesce into one waiting job, triggers queue up, a failed job is
 * reported and the next one runs, and the checkpoint only moves after a successful job over the
 * schedule's own query.
 *
 * @internal
 */
export class JobRunner {
  readonly #options: JobRunnerOptions;
  readonly #controller = new AbortController();
  readonly #queue: QueuedJob[] = [];
  readonly #waiters = new Set<Waiter>();
  readonly #idleWaiters = new Set<() => void>();
  #pendingLive: QueuedJob | undefined;
  #running: Promise<void> | undefined;
  #checkpoint: number;
  #jobs = 0;
  #failures = 0;
  #closed = false;
  #started = false;
  /** Something else (a debounce timer) will request a job soon; `idle` waits for it. */
  busy: () => boolean = () => false;

  constructor(options: JobRunnerOptions) {
    this.#options = options;
    this.#checkpoint = 0;
  }

  get checkpoint(): number {
    return this.#checkpoint;
  }

  get jobs(): number {
    return this.#jobs;
  }

  get failures(): number {
    return this.#failures;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Starts running queued jobs, from `checkpoint` (the subscription's initial window). */
  start(checkpoint: number): void {
    this.#checkpoint = checkpoint;
    this.#started = true;
    this.#kick();
  }

  /** Asks for a job over the events after the checkpoint; joins one that waits already. */
  requestLive(kind: 'live' | 'periodic'): void {
    if (this.#closed || this.#pendingLive) return;
    const job: QueuedJob = { kind, trigger: undefined, done: [] };
    this.#pendingLive = job;
    this.#queue.push(job);
    this.#kick();
  }

  /** Queues a triggered (or startup) job; resolves after it ran. */
  enqueue(kind: 'startup' | 'trigger', trigger: TriggerOptions): Promise<JobOutcome> {
    if (this.#closed) {
      return Promise.resolve({ ok: false, error: new ClosedError('the schedule subscription') });
    }
    return new Promise<JobOutcome>((resolve) => {
      this.#queue.push({ kind, trigger, done: [resolve] });
      this.#kick();
    });
  }

  whenProcessed(position: number, options: SignalOptions = {}): Promise<void> {
    if (!Number.isSafeInteger(position) || position < 0) {
      return Promise.reject(
        new InvalidArgumentError(
          `whenProcessed: position ${String(position)} must be a non-negative integer`,
        ),
      );
    }
    if (this.#checkpoint >= position) return Promise.resolve();
    if (this.#closed) return Promise.reject(new ClosedError('the schedule subscription'));
    let waiter: Waiter | undefined;
    const waiting = new Promise<void>((resolve, reject) => {
      waiter = { position, resolve, reject };
      this.#waiters.add(waiter);
    });
    return abortable(waiting, options.signal).finally(() => {
      if (waiter) this.#waiters.delete(waiter);
    });
  }

  idle(options: SignalOptions = {}): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    let done: (() => void) | undefined;
    const waiting = new Promise<void>((resolve) => {
      done = resolve;
      this.#idleWaiters.add(resolve);
    });
    return abortable(waiting, options.signal).finally(() => {
      if (done) this.#idleWaiters.delete(done);
    });
  }

  /** Checks for idleness again (after a debounce timer was cleared). */
  notifyIdle(): void {
    if (!this.#isIdle()) return;
    for (const resolve of this.#idleWaiters) resolve();
    this.#idleWaiters.clear();
  }

  async close(): Promise<void> {
    if (this.#closed) return this.#running;
    this.#closed = true;
    this.#controller.abort(new ClosedError('the schedule subscription'));
    const dropped = this.#queue.splice(0);
    this.#pendingLive = undefined;
    for (const job of dropped)
      for (const done of job.done)
        done({ ok: false, error: new ClosedError('the schedule subscription') });
    for (const waiter of this.#waiters) waiter.reject(new ClosedError('the schedule subscription'));
    this.#waiters.clear();
    await this.#running;
    this.notifyIdle();
  }

  #isIdle(): boolean {
    return this.#closed || (!this.#running && this.#queue.length === 0 && !this.busy());
  }

  #kick(): void {
    if (this.#running || this.#closed || !this.#started) return;
    this.#running = this.#drain().finally(() => {
      this.#running = undefined;
      // A job queued while the loop was finishing still has to run.
      if (this.#queue.length > 0 && !this.#closed) this.#kick();
      else this.notifyIdle();
    });
  }

  async #drain(): Promise<void> {
    for (;;) {
      const next = this.#queue.shift();
      if (!next || this.#closed) return;
      if (next === this.#pendingLive) this.#pendingLive = undefined;
      const outcome = await this.#run(next);
      for (const done of next.done) done(outcome);
    }
  }

  async #run(queued: QueuedJob): Promise<JobOutcome> {
    const options = this.#options;
    const trigger = queued.trigger ?? {};
    const partial =
      trigger.query !== undefined ||
      trigger.filter !== undefined ||
      trigger.aggregateQuery !== undefined;
    let job: StoreJob | undefined;
    let outcome: JobOutcome;
    try {
      job = new StoreJob(options.store, {
        kind: queued.kind,
        query: trigger.query ?? options.query,
        from: queued.trigger ? (trigger.from ?? 0) : this.#checkpoint,
        filter: trigger.filter,
        reset: trigger.reset,
        aggregateQuery: trigger.aggregateQuery,
        beforeEvent: options.beforeEvent,
        errorPolicy: options.errorPolicy,
        onError: (error) => options.onError(error, job),
        signal: this.#controller.signal,
      });
      await options.handler(job);
      outcome = { ok: true };
    } catch (error) {
      outcome = { ok: false, error };
    }
    this.#jobs++;
    const covered = job?.coveredUpTo();
    job?.close();
    if (!outcome.ok) {
      // A job aborted because the subscription closed did not fail.
      if (!this.#closed) {
        this.#failures++;
        options.onError(outcome.error, job);
      }
      return outcome;
    }
    if (!partial && covered !== undefined && covered > this.#checkpoint) {
      this.#checkpoint = covered;
      for (const waiter of this.#waiters) {
        if (waiter.position <= covered) {
          this.#waiters.delete(waiter);
          waiter.resolve();
        }
      }
    }
    return outcome;
  }
}
