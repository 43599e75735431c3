import type { Event } from './event.js';
import type { EventQuery } from './query/types.js';

/**
 * The options every async operation takes: `signal` cancels it (goes' `context.Context`).
 *
 * @example
 * ```ts
 * await store.insert(events, { signal: AbortSignal.timeout(2_000) });
 * ```
 */
export interface SignalOptions {
  readonly signal?: AbortSignal | undefined;
}

/**
 * The event store contract (goes' `event.Store`). Implementations must:
 * - store a batch atomically: all events or none;
 * - refuse a batch whose aggregate events do not follow the stored version of their aggregate
 *   with {@link VersionConflictError} (consecutive versions from current + 1), also under
 *   concurrent writers in many processes;
 * - refuse duplicate event ids with {@link DuplicateEventError} and malformed events with
 *   {@link InvalidEventError};
 * - give every stored event a global `position` that only grows and that readers never skip;
 * - answer `query` exactly like {@link matches}, in position order unless the query sorts.
 *
 * `@goes/testing`'s `eventStoreConformance` checks all of this.
 *
 * @example
 * ```ts
 * const store: EventStore = createMemoryEventStore();
 * const [stored] = await store.insert([createEvent('user.registered', { email })]);
 * for await (const event of store.query(query().name('user.registered'))) console.log(event.position);
 * ```
 */
export interface EventStore extends AsyncDisposable {
  /**
   * Stores a batch atomically and returns the stored events (with their positions), in the
   * order given. An empty batch is a no-op.
   */
  insert(events: readonly Event[], options?: SignalOptions): Promise<readonly Event[]>;
  /** The event with this id. @throws {@link EventNotFoundError} */
  find(id: string, options?: SignalOptions): Promise<Event>;
  /**
   * Streams the events matching `query`. A malformed query throws at once; read errors throw
   * from the iteration. Breaking out of the loop or aborting the signal closes the cursor.
   */
  query(query: EventQuery, options?: SignalOptions): AsyncIterable<Event>;
  /** Deletes events by id; unknown ids are ignored. Atomic for the batch. */
  delete(events: readonly { readonly id: string }[], options?: SignalOptions): Promise<void>;
  /** Releases what the store opened; later calls fail with {@link ClosedError}. */
  close(): Promise<void>;
}

/**
 * What a bus subscription does when the subscriber's queue is full:
 * - `fail` (default): the subscription ends with {@link SubscriberOverflowError} after the
 *   events it already queued, so a subscriber that falls behind finds out;
 * - `drop`: the event is dropped for this subscriber and reported to `onError`;
 * - `block`: `publish` waits until there is room (back-pressure on every publisher).
 *
 * @example
 * ```ts
 * await bus.subscribe(['metrics.sampled'], { overflow: 'drop', onError: console.warn });
 * ```
 */
export type OverflowPolicy = 'fail' | 'drop' | 'block';

/**
 * Options of {@link EventBus.subscribe}.
 *
 * @example
 * ```ts
 * const sub = await bus.subscribe(['order.placed'], { signal, bufferSize: 10_000, onError: report });
 * ```
 */
export interface SubscribeOptions extends SignalOptions {
  /** Non-fatal errors of the subscription (dropped events, undecodable messages). Never blocks. */
  readonly onError?: ((error: unknown) => void) | undefined;
  /** Capacity of the subscriber's queue. Default 1,024. */
  readonly bufferSize?: number | undefined;
  /** What happens when the queue is full. Default `fail`. */
  readonly overflow?: OverflowPolicy | undefined;
  /**
   * A load-balancing group: of all subscriptions with the same group (across processes, for
   * network buses), each event is delivered to one. Never use it for the command bus.
   */
  readonly group?: string | undefined;
}

/**
 * A live subscription: iterate it to receive events. It ends when closed, when its signal
 * aborts, or when the bus closes. Events from one publisher arrive in publish order, also across
 * the names of a multi-name subscription (the distributed command bus relies on it).
 *
 * @example
 * ```ts
 * await using sub = await bus.subscribe(['order.placed']);
 * for await (const event of sub) handle(event);
 * ```
 */
export interface Subscription<E extends Event = Event> extends AsyncIterable<E>, AsyncDisposable {
  /** The event names subscribed to (`*` for all). */
  readonly names: readonly string[];
  /** Stops the subscription; the iteration ends after the events already queued are dropped. */
  close(): Promise<void>;
}

/**
 * The event bus contract (goes' `event.Bus`): publish events, subscribe by name (`*` for all).
 * A subscription receives the events of one publisher in publish order, across its names too.
 * `@goes/testing`'s `eventBusConformance` checks implementations.
 *
 * @example
 * ```ts
 * const sub = await bus.subscribe(['order.placed']);
 * await bus.publish([createEvent('order.placed', { total: 10 })]);
 * const event = await first(sub);
 * ```
 */
export interface EventBus extends AsyncDisposable {
  /** Publishes events; resolves when the bus has accepted them (not when subscribers got them). */
  publish(events: readonly Event[], options?: SignalOptions): Promise<void>;
  /** Subscribes to events by name; resolves once the subscription receives events. */
  subscribe(names: readonly string[], options?: SubscribeOptions): Promise<Subscription>;
  /** Ends every subscription and releases what the bus opened. */
  close(): Promise<void>;
}
