import {
  ClosedError,
  type EventBus,
  type EventQuery,
  type EventStore,
  InvalidArgumentError,
  isGoesError,
  type SignalOptions,
} from '@goes/event';
import type { JobRunner } from './internal/runner.js';
import {
  checkNames,
  checkTrigger,
  type LiveSource,
  openSubscription,
} from './internal/subscription.js';
import type {
  JobHandler,
  Schedule,
  ScheduleSubscribeOptions,
  ScheduleSubscription,
  TriggerOptions,
} from './schedule.js';

/** goes' `DefaultDebounceCap`: the cap when `debounce` ≤ 2.5 s and no cap is given. */
const DEFAULT_DEBOUNCE_CAP = 5_000;
const DEBOUNCE_BARRIER = 2_500;

/**
 * Options of {@link continuously}.
 *
 * @example
 * ```ts
 * continuously(bus, store, names, { debounce: 100, debounceCap: 1_000, startup: true });
 * ```
 */
export interface ContinuousOptions {
  /**
   * Milliseconds without new events before a job runs (goes' `Debounce`); 0 (default) requests
   * a job per event — requests that arrive while a job waits join it.
   */
  readonly debounce?: number | undefined;
  /**
   * The longest a job waits once an event arrived, however many follow (goes' `DebounceCap`,
   * which every event restarted, so it never capped a steady flow). The cap timer starts at the
   * first event after a job was requested. 0 disables it. Default: 5 s when `debounce` ≤ 2.5 s,
   * else `2 × debounce`.
   */
  readonly debounceCap?: number | undefined;
  /** The default `startup` of every subscription (see {@link ScheduleSubscribeOptions.startup}). */
  readonly startup?: ScheduleSubscribeOptions['startup'];
  /** Queue size of the bus subscription. Default 4,096; when it overflows, the lost wake-ups become one. */
  readonly bufferSize?: number | undefined;
}

/**
 * A schedule driven by the event bus (goes' `schedule.Continuously`). The bus only wakes it up:
 * every job reads the **store** by position — after a progress-aware target's progress, or after
 * the subscription's checkpoint — so the startup replay and live delivery join without a gap or a
 * duplicate (an event published during the replay is neither lost nor applied twice), and an
 * event whose publish was lost is still picked up by the next job. Without a startup job, the
 * first window starts at the store's last event of `names` when subscribing (goes: live events only).
 *
 * @throws {@link InvalidArgumentError} for empty names or a bad option.
 * @example
 * ```ts
 * const store = withBus(createMemoryEventStore(), bus);
 * const schedule = continuously(bus, store, ['order.placed'], { debounce: 50 });
 * await using subscription = await schedule.subscribe(async (job) => {
 *   await job.apply(revenue);
 * }, { startup: true });
 * ```
 */
export function continuously(
  bus: EventBus,
  store: EventStore,
  names: readonly string[],
  options: ContinuousOptions = {},
): Schedule {
  return new ContinuousSchedule(bus, store, checkNames(names, 'continuously'), options);
}

class ContinuousSchedule implements Schedule {
  readonly names: readonly string[];
  readonly #bus: EventBus;
  readonly #store: EventStore;
  readonly #query: EventQuery;
  readonly #debounce: number;
  readonly #cap: number;
  readonly #bufferSize: number;
  readonly #startup: ScheduleSubscribeOptions['startup'];
  readonly #runners = new Set<JobRunner>();

  constructor(
    bus: EventBus,
    store: EventStore,
    names: readonly string[],
    options: ContinuousOptions,
  ) {
    this.names = names;
    this.#bus = bus;
    this.#store = store;
    this.#query = { names };
    this.#debounce = milliseconds('debounce', options.debounce ?? 0);
    this.#cap =
      options.debounceCap !== undefined
        ? milliseconds('debounceCap', options.debounceCap)
        : this.#debounce <= DEBOUNCE_BARRIER
          ? DEFAULT_DEBOUNCE_CAP
          : 2 * this.#debounce;
    this.#bufferSize = options.bufferSize ?? 4096;
    if (!Number.isSafeInteger(this.#bufferSize) || this.#bufferSize < 1) {
      throw new InvalidArgumentError(
        `continuously: bufferSize ${String(options.bufferSize)} must be a positive integer`,
      );
    }
    this.#startup = options.startup;
  }

  subscribe(
    handler: JobHandler,
    options: ScheduleSubscribeOptions = {},
  ): Promise<ScheduleSubscription> {
    const store = this.#store;
    const query = this.#query;
    return openSubscription({
      store,
      query,
      handler,
      options: { ...options, startup: options.startup ?? this.#startup },
      initialCheckpoint: (signal) => lastPosition(store, query, { signal }),
      startLive: (runner, onError) => this.#listen(runner, onError),
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

  /** Subscribes to the bus; every event (or lost event) asks for a job, debounced and capped. */
  async #listen(runner: JobRunner, onError: (error: unknown) => void): Promise<LiveSource> {
    const debounce = this.#debounce;
    const cap = this.#cap;
    let debounceTimer: ReturnType<typeof setTimeout> | undefined;
    let capTimer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const clearTimers = () => {
      if (debounceTimer !== undefined) clearTimeout(debounceTimer);
      if (capTimer !== undefined) clearTimeout(capTimer);
      debounceTimer = undefined;
      capTimer = undefined;
    };
    const flush = () => {
      clearTimers();
      if (!stopped) runner.requestLive('live');
    };
    const wake = () => {
      if (stopped) return;
      if (debounce <= 0) {
        runner.requestLive('live');
        return;
      }
      // The cap runs from the first event of a burst, not from the latest one (goes' bug).
      if (cap > 0 && capTimer === undefined) capTimer = setTimeout(flush, cap);
      if (debounceTimer !== undefined) clearTimeout(debounceTimer);
      debounceTimer = setTimeout(flush, debounce);
    };
    const subscription = await this.#bus.subscribe(this.names, {
      bufferSize: this.#bufferSize,
      overflow: 'drop',
      onError: (error) => {
        // A dropped wake-up is harmless as long as a job follows: the store has the events.
        if (isGoesError(error, 'SUBSCRIBER_OVERFLOW')) wake();
        else onError(error);
      },
    });
    const loop = (async () => {
      try {
        for await (const _ of subscription) wake();
        if (!stopped)
          onError(new ClosedError('the event bus subscription of the continuous schedule'));
      } catch (error) {
        if (!stopped) onError(error);
      }
    })();
    return {
      busy: () => debounceTimer !== undefined,
      async stop() {
        stopped = true;
        clearTimers();
        await subscription.close();
        await loop;
      },
    };
  }
}

/**
 * The position of the last stored event matching `q`, or 0.
 *
 * @internal
 */
export async function lastPosition(
  store: EventStore,
  q: EventQuery,
  options: SignalOptions = {},
): Promise<number> {
  for await (const event of store.query(
    { ...q, sort: [{ by: 'position', dir: 'desc' }] },
    options,
  )) {
    return event.position ?? 0;
  }
  return 0;
}

function milliseconds(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidArgumentError(
      `continuously: ${name} ${String(value)} must be a non-negative number of milliseconds`,
    );
  }
  return value;
}
