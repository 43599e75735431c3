import {
  type EventQuery,
  type EventStore,
  InvalidArgumentError,
  type SignalOptions,
} from '@goes/event';
import type { JobRunner } from './internal/runner.js';
import { checkNames, checkTrigger, openSubscription } from './internal/subscription.js';
import type {
  JobHandler,
  Schedule,
  ScheduleSubscribeOptions,
  ScheduleSubscription,
  TriggerOptions,
} from './schedule.js';

/**
 * Options of {@link periodically}.
 *
 * @example
 * ```ts
 * periodically(store, 60_000, ['order.placed'], { startup: true });
 * ```
 */
export interface PeriodicOptions {
  /** The default `startup` of every subscription. */
  readonly startup?: ScheduleSubscribeOptions['startup'];
}

/**
 * A schedule that runs a job every `interval` milliseconds (goes' `schedule.Periodically`),
 * without a bus: it polls the store by position. Each job's window starts after the
 * subscription's checkpoint (goes re-read the full history on every tick), and the first one
 * after position 0; progress-aware targets read after their progress. A tick that comes while a
 * job waits joins it, so a slow job never piles up ticks.
 *
 * @throws {@link InvalidArgumentError} for empty names or an interval that is not positive.
 * @example
 * ```ts
 * const schedule = periodically(store, 10_000, ['order.placed']);
 * await using subscription = await schedule.subscribe((job) => job.apply(revenue).then(() => {}));
 * ```
 */
export function periodically(
  store: EventStore,
  interval: number,
  names: readonly string[],
  options: PeriodicOptions = {},
): Schedule {
  if (typeof interval !== 'number' || !Number.isFinite(interval) || interval <= 0) {
    throw new InvalidArgumentError(
      `periodically: interval ${String(interval)} must be a positive number of milliseconds`,
    );
  }
  return new PeriodicSchedule(store, interval, checkNames(names, 'periodically'), options);
}

class PeriodicSchedule implements Schedule {
  readonly names: readonly string[];
  readonly #store: EventStore;
  readonly #interval: number;
  readonly #query: EventQuery;
  readonly #startup: ScheduleSubscribeOptions['startup'];
  readonly #runners = new Set<JobRunner>();

  constructor(
    store: EventStore,
    interval: number,
    names: readonly string[],
    options: PeriodicOptions,
  ) {
    this.names = names;
    this.#store = store;
    this.#interval = interval;
    this.#query = { names };
    this.#startup = options.startup;
  }

  subscribe(
    handler: JobHandler,
    options: ScheduleSubscribeOptions = {},
  ): Promise<ScheduleSubscription> {
    const interval = this.#interval;
    return openSubscription({
      store: this.#store,
      query: this.#query,
      handler,
      options: { ...options, startup: options.startup ?? this.#startup },
      initialCheckpoint: async () => 0,
      startLive: async (runner) => {
        const timer = setInterval(() => runner.requestLive('periodic'), interval);
        return {
          busy: () => false,
          async stop() {
            clearInterval(timer);
          },
        };
      },
      register: (runner) => this.#runners.add(runner),
      unregister: (runner) => this.#runners.delete(runner),
    });
  }

  async trigger(options: TriggerOptions & SignalOptions = {}): Promise<void> {
    const { signal, ...trigger } = options;
    checkTrigger(trigger);
    signal?.throwIfAborted();
    await Promise.all([...this.#runners].map((runner) => runner.enqueue('trigger', trigger)));
  }
}
