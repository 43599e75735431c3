import type { Codec } from '@goes/codec';
import type { EventBus, OverflowPolicy, SubscribeOptions, Subscription } from '@goes/event';
import type { NatsConnection, NodeConnectionOptions } from '@nats-io/transport-node';

/**
 * Which NATS feature carries the events:
 * - `core`: NATS publish/subscribe. At most once, nothing is stored; subscribers only receive
 *   what is published while they are subscribed. Fast.
 * - `jetstream`: events are stored in a JetStream stream and read through pull consumers. At
 *   least once, durable consumers resume after a restart, redelivery and dead-lettering.
 *
 * @example
 * ```ts
 * createNatsEventBus({ driver: 'jetstream' });
 * ```
 */
export type NatsDriver = 'core' | 'jetstream';

/**
 * When a JetStream subscription acknowledges an event:
 * - `next` (default): when the application asks the iterator for the next event, that is when a
 *   sequential `for await` loop finished with the previous one. Leaving the loop (break, throw,
 *   `close()`) acknowledges nothing more: the event in hand and the queued ones are redelivered.
 *   A crash mid-handler means redelivery: at-least-once *processing* for sequential consumers.
 * - `pull`: as soon as the iterator hands the event to the application. At-least-once
 *   *delivery* into the application; an event being handled when the process dies is not
 *   redelivered. Use it when events are handed on to concurrent workers.
 *
 * @example
 * ```ts
 * await bus.subscribe(['order.placed'], { durable: 'billing', ack: 'next' });
 * ```
 */
export type AckMode = 'next' | 'pull';

/**
 * Where a new JetStream consumer starts: `new` (default) delivers events published after the
 * subscription was made, `all` replays what the stream still holds first. An existing durable
 * consumer always resumes where it left off.
 *
 * @example
 * ```ts
 * await bus.subscribe(['order.placed'], { durable: 'report', deliver: 'all' });
 * ```
 */
export type DeliverFrom = 'new' | 'all';

/**
 * Options of the JetStream driver: the stream (created or updated once per bus, never looked up
 * per publish), and how consumers deliver. Durations are in milliseconds.
 *
 * @example
 * ```ts
 * createNatsEventBus({
 *   driver: 'jetstream',
 *   jetstream: { stream: 'SHOP_EVENTS', maxAge: 24 * 3_600_000, maxDeliver: 5, deadLetterSubject: 'shop.dead' },
 * });
 * ```
 */
export interface JetStreamOptions {
  /** Stream name. Default `GOES_EVENTS`. Its only subject is `<subjectPrefix>.>`. */
  readonly stream?: string | undefined;
  /** Stream storage. Default `file`. Cannot change once the stream exists. */
  readonly storage?: 'file' | 'memory' | undefined;
  /** Events older than this are removed from the stream. Default 7 days; 0 keeps them forever. */
  readonly maxAge?: number | undefined;
  /** Most events the stream keeps (oldest go first). Default unlimited (-1). */
  readonly maxMsgs?: number | undefined;
  /** Most bytes the stream keeps (oldest go first). Default unlimited (-1). */
  readonly maxBytes?: number | undefined;
  /** Stream replicas in a cluster. Default 1. */
  readonly replicas?: number | undefined;
  /** Window in which a second publish of the same event id is dropped. Default 2 minutes. */
  readonly duplicateWindow?: number | undefined;
  /** How long the server waits for an acknowledgement before redelivering. Default 30 s. */
  readonly ackWait?: number | undefined;
  /**
   * Pause before an event is redelivered after a subscriber left its loop with the event in hand
   * (break or a throwing handler), so a failing handler does not spin. Default 1 s.
   */
  readonly redeliveryDelay?: number | undefined;
  /**
   * Deliveries of one event to one consumer before it is given up on (dead-lettered). Default 5.
   * With {@link JetStreamOptions.deadLetterSubject} the event is then published there.
   */
  readonly maxDeliver?: number | undefined;
  /**
   * Subject that events given up on are published to (through JetStream; a stream
   * `<stream>_DEAD_LETTERS` is created for it unless one already captures it). Must be outside
   * the bus' prefix. Default none: such events are reported to `onError` and dropped.
   */
  readonly deadLetterSubject?: string | undefined;
  /** When subscriptions acknowledge events. Default `next`. */
  readonly ack?: AckMode | undefined;
  /** Where new consumers start. Default `new`. */
  readonly deliver?: DeliverFrom | undefined;
  /**
   * Durable and group consumers nobody has pulled from for this long are deleted by the server.
   * Default: kept until deleted by an operator.
   */
  readonly durableInactiveThreshold?: number | undefined;
  /** Most unacknowledged publishes in flight during one `publish` call. Default 256. */
  readonly publishWindow?: number | undefined;
  /**
   * Messages a consumer pulls per request. Default 256 (less when `bufferSize` is smaller; at most
   * 16 for group members, so that the server spreads a group's events over its members).
   */
  readonly pullBatch?: number | undefined;
}

/**
 * Options of {@link createNatsEventBus}. Pass a `connection` you manage, or a `url` (then the bus
 * connects on first use, retries a failed connect on the next call, and drains the connection on
 * `close()`).
 *
 * @example
 * ```ts
 * const bus = createNatsEventBus({ url: process.env.NATS_URL, codec: events, subjectPrefix: 'shop.events' });
 * ```
 */
export interface NatsEventBusOptions {
  /** `core` (default) or `jetstream`. */
  readonly driver?: NatsDriver | undefined;
  /** Encodes and decodes event data. Default: a non-strict JSON registry. */
  readonly codec?: Codec | undefined;
  /** A connection you manage. The bus does not close it unless `closeConnection` is true. */
  readonly connection?: NatsConnection | undefined;
  /** Server URL(s) when no connection is given. Default `nats://127.0.0.1:4222`. */
  readonly url?: string | readonly string[] | undefined;
  /** More options for the connection the bus opens (auth, TLS, name...). */
  readonly connectOptions?: Omit<NodeConnectionOptions, 'servers'> | undefined;
  /** Drain and close a connection given in `connection` on `close()`. Default false. */
  readonly closeConnection?: boolean | undefined;
  /** First subject tokens of every event subject. Default `goes.events`. */
  readonly subjectPrefix?: string | undefined;
  /**
   * Maps an event name to the subject tokens after the prefix. Default: the name itself, so
   * `order.placed` travels on `goes.events.order.placed`. The result must be a valid subject.
   */
  readonly subject?: ((eventName: string) => string) | undefined;
  /** Default queue capacity of a subscription. Default 1,024. */
  readonly bufferSize?: number | undefined;
  /**
   * Default overflow policy. Core: `fail` (`block` is refused: core NATS cannot slow a
   * publisher). JetStream: `block`, which stops pulling, so the stream buffers.
   */
  readonly overflow?: OverflowPolicy | undefined;
  /** JetStream driver options (only with `driver: 'jetstream'`). */
  readonly jetstream?: JetStreamOptions | undefined;
}

/**
 * Subscribe options of the NATS bus: the contract's options, plus JetStream consumer options.
 * `group` load-balances: core NATS queue groups; with JetStream, one shared durable consumer
 * per group and event name.
 *
 * @example
 * ```ts
 * await bus.subscribe(['order.placed'], { durable: 'billing', signal });
 * ```
 */
export interface NatsSubscribeOptions extends SubscribeOptions {
  /**
   * JetStream: a durable consumer name (letters, digits, `-`, `_`). The subscription resumes where
   * the consumer with this name left off, across restarts and processes; subscriptions with the
   * same name share its events. Refused by the core driver.
   */
  readonly durable?: string | undefined;
  /** JetStream: where a new consumer starts. Default: the bus' `jetstream.deliver`. */
  readonly deliver?: DeliverFrom | undefined;
  /** JetStream: when events are acknowledged. Default: the bus' `jetstream.ack`. */
  readonly ack?: AckMode | undefined;
}

/**
 * An {@link EventBus} over NATS.
 *
 * @example
 * ```ts
 * await using bus = createNatsEventBus({ driver: 'jetstream' });
 * const sub = await bus.subscribe(['order.placed'], { durable: 'billing' });
 * ```
 */
export interface NatsEventBus extends EventBus {
  /** The driver in use. */
  readonly driver: NatsDriver;
  /** The subject prefix in use. */
  readonly subjectPrefix: string;
  subscribe(names: readonly string[], options?: NatsSubscribeOptions): Promise<Subscription>;
  /** The subject an event name is published on. @throws {@link InvalidSubjectError} */
  subjectOf(eventName: string): string;
  /** The NATS connection, opened if needed (goes' `Connection()`). */
  connection(options?: { signal?: AbortSignal | undefined }): Promise<NatsConnection>;
}
