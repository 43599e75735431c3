import type { EventQuery, SignalOptions } from '@goes/event';
import type { ErrorPolicy } from './apply.js';
import type { BeforeEvent, Job } from './job.js';

/**
 * What a schedule calls for every job: apply the job to your projections. Throwing (or
 * rejecting) marks the job failed: the error goes to `onError`, the schedule goes on, and the
 * subscription's checkpoint stays where it was, so the next job covers the same events again
 * (progress-aware targets skip what they already applied).
 *
 * @example
 * ```ts
 * const handler: JobHandler = (job) => job.apply(revenue).then(() => undefined);
 * ```
 */
export type JobHandler = (job: Job) => void | PromiseLike<void>;

/**
 * Options of a triggered job (goes' `Trigger`): a reset, a different query, in-memory filters,
 * the query `aggregates()` reads, and where the job's window starts. Jobs with a custom
 * `query`, `filter` or `aggregateQuery` see only part of the events, so they never move the
 * subscription's checkpoint. A progress-aware target applied in such a job still moves its
 * progress past the events it was given, and with them past the ones it was not: use a custom
 * query or filter only for targets that handle nothing else, or together with `reset`.
 *
 * @example
 * ```ts
 * await schedule.trigger({ reset: true }); // rebuild every projection of the schedule
 * ```
 */
export interface TriggerOptions {
  /** Reset targets and replay the full history (goes' `Reset`). */
  readonly reset?: boolean | undefined;
  /** Read this instead of the schedule's events (goes' `Query`). */
  readonly query?: EventQuery | undefined;
  /** The query of `job.aggregates()` (goes' `AggregateQuery`). */
  readonly aggregateQuery?: EventQuery | undefined;
  /** In-memory filters (goes' `Filter`). */
  readonly filter?: EventQuery | readonly EventQuery[] | undefined;
  /** The job's window starts after this position. Default 0 (the full history, as in goes). */
  readonly from?: number | undefined;
}

/**
 * The startup job of a subscription (goes' `Startup`/`StartupAsync`): a triggered job that runs
 * first. With `wait` (default), `subscribe` resolves after it succeeded and rejects with its
 * error (closing the subscription); without, its failure goes to `onError`.
 *
 * @example
 * ```ts
 * await schedule.subscribe(handler, { startup: { wait: false } });
 * ```
 */
export interface StartupOptions extends TriggerOptions {
  readonly wait?: boolean | undefined;
}

/**
 * Options of {@link Schedule.subscribe}.
 *
 * @example
 * ```ts
 * await schedule.subscribe(handler, {
 *   startup: true,
 *   errorPolicy: { retries: 2, giveUp: 'skip' },
 *   onError: (error, job) => log.error({ error, job: job?.kind }),
 * });
 * ```
 */
export interface ScheduleSubscribeOptions extends SignalOptions {
  /** Run a startup job first; `true` means `{}` (full history, wait for it). */
  readonly startup?: boolean | StartupOptions | undefined;
  /**
   * Receives failed jobs (with the job), events the error policy skipped (an `ApplyError` with
   * `skipped: true`), and errors of the event bus. Defaults to `console.error`.
   */
  readonly onError?: ((error: unknown, job: Job | undefined) => void) | undefined;
  /** The default error policy of `job.apply` in this subscription. */
  readonly errorPolicy?: ErrorPolicy | undefined;
  /** Interceptors of every job's event streams (goes' `BeforeEvent`). */
  readonly beforeEvent?: BeforeEvent | readonly BeforeEvent[] | undefined;
}

/**
 * A running subscription to a schedule. Its jobs run one at a time, in order. It stops when
 * closed or when its signal aborts; the running job's signal aborts too.
 *
 * @example
 * ```ts
 * await using subscription = await schedule.subscribe(handler, { startup: true });
 * const [stored] = await store.insert([event]);
 * await subscription.whenProcessed(stored.position!, { signal: AbortSignal.timeout(1_000) });
 * ```
 */
export interface ScheduleSubscription extends AsyncDisposable {
  /**
   * The position up to which every event of the schedule has been handed to a successful job
   * (read-your-writes: see {@link ScheduleSubscription.whenProcessed}). Persist it and pass it
   * as `startup.from` to resume a subscription's window after a restart.
   */
  readonly checkpoint: number;
  /** Jobs run so far (successful or failed). */
  readonly jobs: number;
  /** Jobs that failed so far. */
  readonly failures: number;
  /**
   * Resolves once the checkpoint reached `position`. Pass the position of an event the schedule
   * reads (one of its names): the checkpoint only learns positions of such events, so for the
   * position of an event it does not read this resolves only once a later event it reads was
   * processed — give a `signal` with a timeout when that may never come.
   * @throws `ClosedError` when the subscription closes first.
   */
  whenProcessed(position: number, options?: SignalOptions): Promise<void>;
  /** Resolves once no job runs or waits and no debounce timer is pending. */
  idle(options?: SignalOptions): Promise<void>;
  /** Stops the subscription: no new jobs, the running job is aborted and awaited. */
  close(): Promise<void>;
}

/**
 * A projection schedule (goes' `projection.Schedule`): it creates jobs — on events, on a timer,
 * on a trigger — and hands them to every subscriber.
 *
 * @example
 * ```ts
 * const schedule: Schedule = continuously(bus, store, ['order.placed'], { debounce: 100 });
 * const subscription = await schedule.subscribe((job) => job.apply(revenue).then(() => {}), { startup: true });
 * await schedule.trigger({ reset: true });
 * ```
 */
export interface Schedule {
  /** The event names the schedule reads. */
  readonly names: readonly string[];
  /** Subscribes a job handler; resolves once subscribed (and, by default, after the startup job). */
  subscribe(handler: JobHandler, options?: ScheduleSubscribeOptions): Promise<ScheduleSubscription>;
  /**
   * Runs a triggered job in every current subscription (goes' `Trigger`) and resolves when they
   * all ran it. Job failures go to each subscription's `onError`, not to the caller.
   */
  trigger(options?: TriggerOptions & SignalOptions): Promise<void>;
}
