import type { Registry } from '@goes/codec';
import {
  ClosedError,
  createEvent,
  type EventBus,
  InvalidArgumentError,
  isUuid,
  type SignalOptions,
  type Subscription,
  uuidv7,
} from '@goes/event';
import { withSignal } from '@goes/streams';
import { report } from './apply.js';
import { UnhandledTriggerError } from './errors.js';
import type { Schedule, TriggerOptions } from './schedule.js';
import { type JsonTrigger, triggerFromJson, triggerToJson } from './trigger-json.js';

/**
 * The name of the event that asks projection services to trigger a schedule (goes' `Triggered`).
 *
 * @example
 * ```ts
 * await bus.subscribe([TRIGGERED_EVENT]); // watch remote triggers
 * ```
 */
export const TRIGGERED_EVENT = 'goes.projection.schedule.triggered';

/**
 * The name of the event a projection service publishes when it accepted a trigger (goes'
 * `TriggerAccepted`).
 *
 * @example
 * ```ts
 * await bus.subscribe([TRIGGER_ACCEPTED_EVENT]);
 * ```
 */
export const TRIGGER_ACCEPTED_EVENT = 'goes.projection.schedule.trigger_accepted';

/**
 * The data of {@link TRIGGERED_EVENT} (goes' `TriggeredData`), JSON-safe.
 *
 * @example
 * ```ts
 * const data: TriggeredData = { triggerId: uuidv7(), schedule: 'orders', trigger: { reset: true } };
 * ```
 */
export interface TriggeredData {
  readonly triggerId: string;
  readonly schedule: string;
  readonly trigger: JsonTrigger;
}

/**
 * The data of {@link TRIGGER_ACCEPTED_EVENT} (goes' `TriggerAcceptedData`).
 *
 * @example
 * ```ts
 * const data: TriggerAcceptedData = { triggerId, schedule: 'orders' };
 * ```
 */
export interface TriggerAcceptedData {
  readonly triggerId: string;
  readonly schedule: string;
}

/**
 * The events of the projection service as an event map.
 *
 * @example
 * ```ts
 * type AppEvents = ShopEvents & ProjectionServiceEvents;
 * ```
 */
export type ProjectionServiceEvents = {
  readonly [TRIGGERED_EVENT]: TriggeredData;
  readonly [TRIGGER_ACCEPTED_EVENT]: TriggerAcceptedData;
};

/**
 * Registers the projection service's events in a codec registry (goes' `RegisterService`), which
 * a strict registry needs before a bus using it can carry them.
 *
 * @example
 * ```ts
 * const codec = registerProjectionEvents(createRegistry({ strict: true }));
 * const bus = createMemoryEventBus({ codec });
 * ```
 */
export function registerProjectionEvents<R extends Registry>(
  registry: R,
): R & Registry<ProjectionServiceEvents> {
  registry.register<typeof TRIGGERED_EVENT, TriggeredData>(TRIGGERED_EVENT);
  registry.register<typeof TRIGGER_ACCEPTED_EVENT, TriggerAcceptedData>(TRIGGER_ACCEPTED_EVENT);
  return registry as R & Registry<ProjectionServiceEvents>;
}

/**
 * Options of {@link createProjectionService}.
 *
 * @example
 * ```ts
 * createProjectionService(bus, { schedules: { orders }, triggerTimeout: 2_000, onError: log.error });
 * ```
 */
export interface ProjectionServiceOptions {
  /** Schedules this service can be triggered for, by name (goes' `RegisterSchedule`). */
  readonly schedules?: Readonly<Record<string, Schedule>> | undefined;
  /** Milliseconds `trigger` waits for an acceptance; 0 waits forever. Default 5,000. */
  readonly triggerTimeout?: number | undefined;
  /** Errors of the running service: malformed triggers, failed publishes. Defaults to `console.error`. */
  readonly onError?: ((error: unknown) => void) | undefined;
}

/**
 * A projection service (goes' `projection.Service`): triggers schedules registered in services
 * of other processes over the event bus. Every started service that has the named schedule
 * accepts a trigger and runs it; `trigger` returns at the first acceptance.
 *
 * @example
 * ```ts
 * // in the projection process
 * const service = createProjectionService(bus, { schedules: { orders: orderSchedule } });
 * await service.start();
 * // anywhere else on the same bus
 * await createProjectionService(bus).trigger('orders', { reset: true });
 * ```
 */
export interface ProjectionService extends AsyncDisposable {
  /** Registers (or replaces) a schedule under `name`. */
  register(name: string, schedule: Schedule): void;
  /** Starts accepting triggers for the registered schedules (goes' `Run`). */
  start(options?: SignalOptions): Promise<void>;
  /**
   * Triggers the schedule `name` in whatever service has it, and resolves once one accepted.
   * @throws {@link UnhandledTriggerError} when none accepts within the trigger timeout.
   */
  trigger(name: string, trigger?: TriggerOptions, options?: SignalOptions): Promise<void>;
  /** Stops accepting triggers. */
  close(): Promise<void>;
}

/**
 * Creates a {@link ProjectionService} on `bus`.
 *
 * @throws {@link InvalidArgumentError} for a bad timeout or schedule name.
 * @example
 * ```ts
 * await using service = createProjectionService(bus, { schedules: { lookup: lookupSchedule } });
 * await service.start();
 * ```
 */
export function createProjectionService(
  bus: EventBus,
  options: ProjectionServiceOptions = {},
): ProjectionService {
  return new BusProjectionService(bus, options);
}

class BusProjectionService implements ProjectionService {
  readonly #bus: EventBus;
  readonly #schedules = new Map<string, Schedule>();
  readonly #timeout: number;
  readonly #onError: (error: unknown) => void;
  #subscription: Subscription | undefined;
  #loop: Promise<void> | undefined;
  #starting: Promise<void> | undefined;
  #closed = false;

  constructor(bus: EventBus, options: ProjectionServiceOptions) {
    this.#bus = bus;
    const timeout = options.triggerTimeout ?? 5_000;
    if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout < 0) {
      throw new InvalidArgumentError(
        `projection service: triggerTimeout ${String(timeout)} must be a non-negative number of milliseconds`,
      );
    }
    this.#timeout = timeout;
    const onError =
      options.onError ?? ((error: unknown) => console.error('goes: projection service:', error));
    this.#onError = (error) => report(onError, error);
    for (const [name, schedule] of Object.entries(options.schedules ?? {}))
      this.register(name, schedule);
  }

  register(name: string, schedule: Schedule): void {
    checkName(name);
    if (typeof schedule?.trigger !== 'function') {
      throw new InvalidArgumentError(
        `projection service: ${JSON.stringify(name)} is not a schedule`,
      );
    }
    this.#schedules.set(name, schedule);
  }

  start(options: SignalOptions = {}): Promise<void> {
    if (this.#closed) return Promise.reject(new ClosedError('the projection service'));
    // Concurrent calls share one start: two bus subscriptions would accept (and run) every
    // trigger twice, and close() would stop only one of them.
    this.#starting ??= this.#start(options).catch((error: unknown) => {
      this.#starting = undefined;
      throw error;
    });
    return this.#starting;
  }

  async #start(options: SignalOptions): Promise<void> {
    options.signal?.throwIfAborted();
    const subscription = await this.#bus.subscribe([TRIGGERED_EVENT], {
      signal: options.signal,
      onError: this.#onError,
    });
    if (this.#closed) {
      // close() ran while the bus subscription was being opened.
      await subscription.close();
      throw new ClosedError('the projection service');
    }
    this.#subscription = subscription;
    this.#loop = (async () => {
      try {
        for await (const event of subscription) await this.#accept(event.data);
      } catch (error) {
        if (!this.#closed) this.#onError(error);
      }
    })();
  }

  async trigger(
    name: string,
    trigger: TriggerOptions = {},
    options: SignalOptions = {},
  ): Promise<void> {
    checkName(name);
    const { signal } = options;
    signal?.throwIfAborted();
    const data: TriggeredData = {
      triggerId: uuidv7(),
      schedule: name,
      trigger: triggerToJson(trigger),
    };
    const accepted = await this.#bus.subscribe([TRIGGER_ACCEPTED_EVENT], { signal });
    const timeout = this.#timeout > 0 ? AbortSignal.timeout(this.#timeout) : undefined;
    const waitSignal = signal && timeout ? AbortSignal.any([signal, timeout]) : (signal ?? timeout);
    try {
      await this.#bus.publish([createEvent(TRIGGERED_EVENT, data)], { signal });
      for await (const event of withSignal(accepted, waitSignal)) {
        const acceptance = event.data as Partial<TriggerAcceptedData> | null;
        if (acceptance?.triggerId === data.triggerId) return;
      }
      throw new ClosedError('the event bus subscription for trigger acceptances');
    } catch (error) {
      if (timeout?.aborted && !signal?.aborted) {
        throw new UnhandledTriggerError(name, data.triggerId, this.#timeout);
      }
      throw error;
    } finally {
      await accepted.close();
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#starting?.catch(() => {});
    await this.#subscription?.close();
    await this.#loop;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #accept(raw: unknown): Promise<void> {
    const data = raw as Partial<TriggeredData> | null;
    if (
      typeof data !== 'object' ||
      data === null ||
      typeof data.schedule !== 'string' ||
      !isUuid(data.triggerId)
    ) {
      this.#onError(
        new InvalidArgumentError(
          `projection service: malformed ${TRIGGERED_EVENT} data ${safeJson(raw)}`,
        ),
      );
      return;
    }
    const schedule = this.#schedules.get(data.schedule);
    if (!schedule) return;
    let trigger: TriggerOptions;
    try {
      trigger = triggerFromJson(data.trigger ?? {});
    } catch (error) {
      this.#onError(error);
      return;
    }
    const acceptance: TriggerAcceptedData = { triggerId: data.triggerId, schedule: data.schedule };
    try {
      await this.#bus.publish([createEvent(TRIGGER_ACCEPTED_EVENT, acceptance)]);
    } catch (error) {
      this.#onError(error);
      return;
    }
    // The job runs in the schedule's subscriptions; its failures go to their onError.
    schedule.trigger(trigger).catch(this.#onError);
  }
}

function checkName(name: string): void {
  if (typeof name !== 'string' || name.length === 0) {
    throw new InvalidArgumentError(
      `projection service: schedule name ${JSON.stringify(name)} must be a non-empty string`,
    );
  }
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
