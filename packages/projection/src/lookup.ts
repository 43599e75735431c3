import {
  ClosedError,
  type Event,
  type EventBus,
  type EventMap,
  type EventStore,
  InvalidArgumentError,
  type SignalOptions,
} from '@goes/event';
import { abortable } from '@goes/streams';
import type { ErrorPolicy } from './apply.js';
import { continuously } from './continuous.js';
import { LookupNotFoundError, LookupTypeError } from './errors.js';
import type { Job } from './job.js';
import type { ScheduleSubscription } from './schedule.js';
import type { ProgressAware, Target } from './target.js';

/**
 * Writes into the lookup table of one aggregate (goes' `lookup.Provider`).
 *
 * @example
 * ```ts
 * const provide: LookupProviders<UserEvents> = {
 *   'user.registered': (event, table) => table.provide('email', event.data.email),
 *   'user.deleted': (_, table) => table.remove('email'),
 * };
 * ```
 */
export interface LookupProvider {
  /** Sets `key` to `value` (replacing the old value and its reverse entry). */
  provide(key: string, value: unknown): void;
  /** Removes keys and their reverse entries. */
  remove(...keys: string[]): void;
}

/**
 * How events fill the lookup, per event name: the function receives the event and the provider
 * of the event's aggregate. (goes had event data implement `ProvideLookup`; plain data objects
 * carry no methods, so the mapping lives here.) Events without an aggregate are ignored.
 *
 * @example
 * ```ts
 * const providers: LookupProviders<UserEvents> = { 'user.registered': (e, p) => p.provide('email', e.data.email) };
 * ```
 */
export type LookupProviders<M extends EventMap> = {
  readonly [N in keyof M & string]?: (event: Event<N, M[N]>, provider: LookupProvider) => void;
};

/**
 * Options of {@link createLookup}.
 *
 * @example
 * ```ts
 * createLookup(store, bus, providers, { debounce: 20, onError: log.warn });
 * ```
 */
export interface LookupOptions {
  /** Debounce of the lookup's continuous schedule (milliseconds). Default 0. */
  readonly debounce?: number | undefined;
  /** Debounce cap of the schedule. */
  readonly debounceCap?: number | undefined;
  /** Error policy for providers that throw. Default: stop (the lookup stays at the event and retries on the next job). */
  readonly errorPolicy?: ErrorPolicy | undefined;
  /** Receives failed jobs and skipped events. Defaults to `console.error`. */
  readonly onError?: ((error: unknown, job: Job | undefined) => void) | undefined;
}

/**
 * An in-memory lookup table built from events (goes' `projection/lookup`): per aggregate, keys
 * to values, plus a reverse index from (aggregate name, key, value) to the aggregate id — goes
 * ignored the key there, so equal values under different keys collided. Only primitive values
 * (strings, numbers, bigints, booleans, null) are reverse-indexed. The table tracks its progress by
 * position, so the live updates after the initial replay never apply an event twice.
 *
 * @example
 * ```ts
 * const emails = createLookup<UserEvents>(store, bus, {
 *   'user.registered': (event, table) => table.provide('email', event.data.email),
 * });
 * await emails.start();
 * const userId = await emails.reverse('user', 'email', 'ada@example.com'); // waits for the replay
 * ```
 */
export interface Lookup extends AsyncDisposable {
  /** The event names the lookup reads. */
  readonly names: readonly string[];
  /** True once the initial replay was applied. */
  readonly isReady: boolean;
  /**
   * Starts the lookup's schedule: the initial replay runs in the background, live updates follow.
   * Aborting `signal` later closes the lookup (as {@link Lookup.close} does: reads that wait for
   * `ready()` then fail with `ClosedError` instead of waiting forever).
   */
  start(options?: SignalOptions): Promise<void>;
  /** Resolves once the initial replay was applied (not merely a first live job). */
  ready(options?: SignalOptions): Promise<void>;
  /** The value of `key` for the aggregate, or undefined (waits until ready). */
  get(
    aggregateName: string,
    key: string,
    aggregateId: string,
    options?: SignalOptions,
  ): Promise<unknown>;
  /**
   * The id of the aggregate whose `key` has `value`, or undefined (waits until ready). When
   * several aggregates hold the value, the one that took it last and still holds it.
   */
  reverse(
    aggregateName: string,
    key: string,
    value: unknown,
    options?: SignalOptions,
  ): Promise<string | undefined>;
  /**
   * The value of `key` for the aggregate (goes' `lookup.Expect`).
   * @throws {@link LookupNotFoundError} when there is none; {@link LookupTypeError} when `check` rejects it.
   */
  expect<V = unknown>(
    aggregateName: string,
    key: string,
    aggregateId: string,
    options?: SignalOptions & { readonly check?: ((value: unknown) => value is V) | undefined },
  ): Promise<V>;
  /** True when the aggregate has a value for `key` (goes' `lookup.Contains`). */
  contains(
    aggregateName: string,
    key: string,
    aggregateId: string,
    options?: SignalOptions,
  ): Promise<boolean>;
  /** A provider for writing into one aggregate's table by hand (goes' `Lookup.Provider`). */
  provider(aggregateName: string, aggregateId: string): LookupProvider;
  /** A copy of the table: aggregate name → aggregate id → key → value (goes' `Map`). */
  snapshot(): Map<string, Map<string, Map<string, unknown>>>;
  /** Stops the lookup's schedule. */
  close(): Promise<void>;
}

/**
 * Creates a {@link Lookup} over the events named in `providers`.
 *
 * @throws {@link InvalidArgumentError} when `providers` is empty or holds a non-function.
 * @example
 * ```ts
 * await using emails = createLookup<UserEvents>(store, bus, {
 *   'user.registered': (e, table) => table.provide('email', e.data.email),
 *   'user.email_changed': (e, table) => table.provide('email', e.data.email),
 * });
 * await emails.start();
 * await emails.ready({ signal: AbortSignal.timeout(10_000) });
 * ```
 */
export function createLookup<M extends EventMap = EventMap>(
  store: EventStore,
  bus: EventBus,
  providers: LookupProviders<M>,
  options: LookupOptions = {},
): Lookup {
  return new EventLookup(store, bus, providers as Record<string, unknown>, options);
}

type ProviderFn = (event: Event, provider: LookupProvider) => void;

class EventLookup implements Lookup, Target, ProgressAware {
  readonly names: readonly string[];
  readonly #store: EventStore;
  readonly #bus: EventBus;
  readonly #providers = new Map<string, ProviderFn>();
  readonly #options: LookupOptions;
  readonly #table = new Map<string, Map<string, Map<string, unknown>>>();
  /**
   * (aggregate name, key) → value → the ids of the aggregates holding that value, oldest first:
   * several aggregates may hold one value, and `reverse` answers with the latest of them that
   * still does, so removing the value from one never hides the others.
   */
  readonly #reverse = new Map<string, Map<string, string[]>>();
  readonly #ready: Promise<void>;
  #resolveReady!: () => void;
  #rejectReady!: (error: unknown) => void;
  #isReady = false;
  #position = 0;
  #subscription: ScheduleSubscription | undefined;
  #starting: Promise<void> | undefined;
  #closed = false;

  constructor(
    store: EventStore,
    bus: EventBus,
    providers: Record<string, unknown>,
    options: LookupOptions,
  ) {
    for (const [name, fn] of Object.entries(providers)) {
      if (fn === undefined) continue;
      if (typeof fn !== 'function') {
        throw new InvalidArgumentError(
          `createLookup: the provider of ${JSON.stringify(name)} must be a function`,
        );
      }
      this.#providers.set(name, fn as ProviderFn);
    }
    if (this.#providers.size === 0) {
      throw new InvalidArgumentError('createLookup: providers must name at least one event');
    }
    this.names = [...this.#providers.keys()];
    this.#store = store;
    this.#bus = bus;
    this.#options = options;
    this.#ready = new Promise<void>((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    // ready() may be rejected by close() without anyone waiting.
    this.#ready.catch(() => {});
  }

  get isReady(): boolean {
    return this.#isReady;
  }

  start(options: SignalOptions = {}): Promise<void> {
    if (this.#closed) return Promise.reject(new ClosedError('the lookup'));
    // Concurrent calls share one start: each would open its own schedule otherwise, only the
    // last would be closed, and their jobs would apply events to the one table at once.
    this.#starting ??= this.#start(options).catch((error: unknown) => {
      this.#starting = undefined;
      throw error;
    });
    return this.#starting;
  }

  async #start(options: SignalOptions): Promise<void> {
    // The signal ends the schedule's subscription; the lookup must end with it, or a read
    // waiting for a replay that will never run would wait forever.
    options.signal?.addEventListener('abort', () => void this.close().catch(() => {}), {
      once: true,
    });
    const schedule = continuously(this.#bus, this.#store, this.names, {
      debounce: this.#options.debounce,
      debounceCap: this.#options.debounceCap,
    });
    this.#subscription = await schedule.subscribe(
      async (job) => {
        await job.apply(this);
        // Every job reads after the table's progress, so the first successful one — the
        // startup replay, or a later one if that failed — brings the table fully up to date.
        if (!this.#isReady) {
          this.#isReady = true;
          this.#resolveReady();
        }
      },
      {
        startup: { wait: false },
        errorPolicy: this.#options.errorPolicy,
        onError: this.#options.onError,
        signal: options.signal,
      },
    );
    if (this.#closed) {
      // close() ran while the schedule was being opened.
      await this.#subscription.close();
      throw new ClosedError('the lookup');
    }
  }

  ready(options: SignalOptions = {}): Promise<void> {
    return abortable(this.#ready, options.signal);
  }

  async get(
    aggregateName: string,
    key: string,
    aggregateId: string,
    options?: SignalOptions,
  ): Promise<unknown> {
    await this.ready(options);
    return this.#table.get(aggregateName)?.get(aggregateId)?.get(key);
  }

  async reverse(
    aggregateName: string,
    key: string,
    value: unknown,
    options?: SignalOptions,
  ): Promise<string | undefined> {
    await this.ready(options);
    const valueKey = reverseKey(value);
    if (valueKey === undefined) return undefined;
    return this.#reverse.get(indexKey(aggregateName, key))?.get(valueKey)?.at(-1);
  }

  async expect<V = unknown>(
    aggregateName: string,
    key: string,
    aggregateId: string,
    options: SignalOptions & { readonly check?: ((value: unknown) => value is V) | undefined } = {},
  ): Promise<V> {
    await this.ready(options);
    const values = this.#table.get(aggregateName)?.get(aggregateId);
    if (!values?.has(key)) throw new LookupNotFoundError(aggregateName, key, aggregateId);
    const value = values.get(key);
    if (options.check && !options.check(value)) {
      throw new LookupTypeError(aggregateName, key, aggregateId, value);
    }
    return value as V;
  }

  async contains(
    aggregateName: string,
    key: string,
    aggregateId: string,
    options?: SignalOptions,
  ): Promise<boolean> {
    await this.ready(options);
    return this.#table.get(aggregateName)?.get(aggregateId)?.has(key) ?? false;
  }

  provider(aggregateName: string, aggregateId: string): LookupProvider {
    if (typeof aggregateName !== 'string' || aggregateName.length === 0) {
      throw new InvalidArgumentError(
        `lookup provider: aggregate name ${JSON.stringify(aggregateName)} must be a non-empty string`,
      );
    }
    if (typeof aggregateId !== 'string' || aggregateId.length === 0) {
      throw new InvalidArgumentError(
        `lookup provider: aggregate id ${JSON.stringify(aggregateId)} must be a non-empty string`,
      );
    }
    return {
      provide: (key, value) => this.#provide(aggregateName, aggregateId, key, value),
      remove: (...keys) => {
        for (const key of keys) this.#remove(aggregateName, aggregateId, key);
      },
    };
  }

  snapshot(): Map<string, Map<string, Map<string, unknown>>> {
    const copy = new Map<string, Map<string, Map<string, unknown>>>();
    for (const [name, byId] of this.#table) {
      const ids = new Map<string, Map<string, unknown>>();
      for (const [id, values] of byId) ids.set(id, new Map(values));
      copy.set(name, ids);
    }
    return copy;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#starting?.catch(() => {});
    await this.#subscription?.close();
    if (!this.#isReady) this.#rejectReady(new ClosedError('the lookup'));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  applyEvent(event: Event): void {
    const provide = this.#providers.get(event.name);
    if (!provide || !event.aggregate) return;
    provide(event, this.provider(event.aggregate.name, event.aggregate.id));
  }

  progress(): number {
    return this.#position;
  }

  setProgress(position: number): void {
    this.#position = position;
  }

  #provide(aggregateName: string, aggregateId: string, key: string, value: unknown): void {
    checkKey(key);
    this.#remove(aggregateName, aggregateId, key);
    let byId = this.#table.get(aggregateName);
    if (!byId) {
      byId = new Map();
      this.#table.set(aggregateName, byId);
    }
    let values = byId.get(aggregateId);
    if (!values) {
      values = new Map();
      byId.set(aggregateId, values);
    }
    values.set(key, value);
    const valueKey = reverseKey(value);
    if (valueKey === undefined) return;
    const index = indexKey(aggregateName, key);
    let reverse = this.#reverse.get(index);
    if (!reverse) {
      reverse = new Map();
      this.#reverse.set(index, reverse);
    }
    const holders = reverse.get(valueKey);
    // #remove above took this aggregate out of the list, so it is added as the latest holder.
    if (holders) holders.push(aggregateId);
    else reverse.set(valueKey, [aggregateId]);
  }

  #remove(aggregateName: string, aggregateId: string, key: string): void {
    checkKey(key);
    const byId = this.#table.get(aggregateName);
    const values = byId?.get(aggregateId);
    if (!byId || !values?.has(key)) return;
    const old = values.get(key);
    values.delete(key);
    if (values.size === 0) byId.delete(aggregateId);
    if (byId.size === 0) this.#table.delete(aggregateName);
    const valueKey = reverseKey(old);
    if (valueKey === undefined) return;
    const index = indexKey(aggregateName, key);
    const reverse = this.#reverse.get(index);
    const holders = reverse?.get(valueKey);
    if (!reverse || !holders) return;
    // Only this aggregate lets go of the value; others that hold it stay findable.
    const at = holders.indexOf(aggregateId);
    if (at >= 0) holders.splice(at, 1);
    if (holders.length === 0) reverse.delete(valueKey);
    if (reverse.size === 0) this.#reverse.delete(index);
  }
}

function checkKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) {
    throw new InvalidArgumentError(`lookup key ${JSON.stringify(key)} must be a non-empty string`);
  }
}

function indexKey(aggregateName: string, key: string): string {
  return `${aggregateName}\u0000${key}`;
}

/** A map key for a primitive value (type-tagged, so 1 and "1" differ); undefined for others. */
function reverseKey(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'bigint':
    case 'boolean':
      return `${typeof value}:${String(value)}`;
    case 'object':
      return value === null ? 'null' : undefined;
    default:
      return undefined;
  }
}
