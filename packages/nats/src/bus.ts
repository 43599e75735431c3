import { type Codec, createRegistry } from '@goes/codec';
import {
  ALL_EVENTS,
  ClosedError,
  type Event,
  InvalidArgumentError,
  type OverflowPolicy,
  type SignalOptions,
  type Subscription,
  validateEvent,
} from '@goes/event';
import type { NatsConnection } from '@nats-io/transport-node';
import { ConnectionHolder } from './connection.js';
import { CoreDriver } from './core.js';
import {
  type Driver,
  type ManagedSubscription,
  type OutgoingMessage,
  reporter,
  type SubscriptionPlan,
} from './driver.js';
import { encodeEnvelope } from './envelope.js';
import { JetStreamDriver, resolveJetStreamOptions } from './jetstream.js';
import type {
  AckMode,
  DeliverFrom,
  NatsDriver,
  NatsEventBus,
  NatsEventBusOptions,
  NatsSubscribeOptions,
} from './options.js';
import { SubjectMapper } from './subjects.js';

/**
 * The default subject prefix: `order.placed` travels on `goes.events.order.placed`.
 *
 * @example
 * ```ts
 * createNatsEventBus().subjectOf('order.placed') === `${DEFAULT_SUBJECT_PREFIX}.order.placed`;
 * ```
 */
export const DEFAULT_SUBJECT_PREFIX = 'goes.events';

/**
 * Creates an {@link EventBus} over NATS (goes' `backend/nats`), with the core driver (at most once,
 * queue groups) or the JetStream driver (stored, at least once, durable consumers, dead letters).
 * Events travel as the documented JSON envelope (see the README), on subject
 * `<subjectPrefix>.<event name>`; names that are not valid subject tokens are refused with
 * {@link InvalidSubjectError}, never turned into wildcards.
 *
 * @throws {@link InvalidArgumentError} or {@link InvalidSubjectError} for bad options.
 * @example
 * ```ts
 * import { createNatsEventBus } from '@goes/nats';
 *
 * const bus = createNatsEventBus({ url: 'nats://127.0.0.1:4222', codec: events });
 * const sub = await bus.subscribe(['order.placed']);
 * await bus.publish([createEvent('order.placed', { total: 10 })]);
 * for await (const event of sub) console.log(event.data);
 * ```
 */
export function createNatsEventBus(options: NatsEventBusOptions = {}): NatsEventBus {
  return new NatsBus(options);
}

class NatsBus implements NatsEventBus {
  readonly driver: NatsDriver;
  readonly subjectPrefix: string;
  readonly #driver: Driver;
  readonly #subjects: SubjectMapper;
  readonly #codec: Codec;
  readonly #connection: ConnectionHolder;
  readonly #bufferSize: number;
  readonly #overflow: OverflowPolicy;
  readonly #ack: AckMode;
  readonly #deliver: DeliverFrom;
  readonly #subscriptions = new Set<ManagedSubscription>();
  readonly #publishing = new Set<Promise<void>>();
  /** Publishes waiting for the connection (see `#publishWhenConnected`), and the last one's hand-over. */
  #waiting = 0;
  #handedOver: Promise<void> = Promise.resolve();
  #closed: Promise<void> | undefined;

  constructor(options: NatsEventBusOptions) {
    const driver = options.driver ?? 'core';
    if (driver !== 'core' && driver !== 'jetstream') {
      throw new InvalidArgumentError(
        `driver ${JSON.stringify(driver)} must be "core" or "jetstream"`,
      );
    }
    if (driver === 'core' && options.jetstream !== undefined) {
      throw new InvalidArgumentError('jetstream options need driver: "jetstream"');
    }
    this.#subjects = new SubjectMapper(
      options.subjectPrefix ?? DEFAULT_SUBJECT_PREFIX,
      options.subject,
    );
    this.subjectPrefix = this.#subjects.prefix;
    if (driver === 'jetstream') {
      const resolved = resolveJetStreamOptions(options.jetstream ?? {}, this.#subjects);
      this.#driver = new JetStreamDriver(resolved, this.#subjects);
      this.#ack = resolved.ack;
      this.#deliver = resolved.deliver;
    } else {
      this.#driver = new CoreDriver();
      this.#ack = 'pull';
      this.#deliver = 'new';
    }
    this.driver = driver;
    this.#codec = options.codec ?? createRegistry();
    this.#bufferSize = checkBufferSize(options.bufferSize ?? 1024, 'bufferSize');
    this.#overflow = checkOverflow(options.overflow ?? this.#driver.defaultOverflow);
    this.#connection = new ConnectionHolder(options);
    this.#connection.onLost((error) => {
      for (const subscription of this.#subscriptions) subscription.fail(error);
    });
  }

  subjectOf(eventName: string): string {
    return this.#subjects.of(eventName, 'eventName');
  }

  connection(options: SignalOptions = {}): Promise<NatsConnection> {
    return this.#connection.get(options.signal);
  }

  async publish(events: readonly Event[], options: SignalOptions = {}): Promise<void> {
    if (this.#closed) throw new ClosedError('the NATS event bus');
    const signal = options.signal;
    signal?.throwIfAborted();
    if (!Array.isArray(events))
      throw new InvalidArgumentError('publish expects an array of events');
    if (events.length === 0) return;
    // Everything is checked and encoded before the first message is sent, so bad input never
    // leaves part of a batch published.
    const messages: OutgoingMessage[] = new Array(events.length);
    for (let i = 0; i < events.length; i++) {
      const event = events[i] as Event;
      validateEvent(event, i);
      messages[i] = {
        subject: this.#subjects.of(event.name, `events[${i}] name`),
        bytes: encodeEnvelope(event, this.#codec),
        id: event.id,
      };
    }
    const nc = this.#connection.current;
    const publishing =
      nc && this.#waiting === 0
        ? this.#driver.publish(nc, messages, signal)
        : this.#publishWhenConnected(messages, signal);
    this.#publishing.add(publishing);
    try {
      await publishing;
    } finally {
      this.#publishing.delete(publishing);
    }
  }

  /**
   * Publishes once the connection is open, handing the messages to the driver after every
   * publish that waited before this one. Waiting for the connection takes a different number of
   * microtask turns with a signal (it is wrapped to abort promptly) than without, so a publish
   * with a signal fell behind a later one without it while the bus connected, breaking publish
   * order. Until the last waiting publish is handed over, later ones queue here too.
   */
  async #publishWhenConnected(
    messages: readonly OutgoingMessage[],
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const previous = this.#handedOver;
    let handed!: () => void;
    this.#handedOver = new Promise<void>((resolve) => {
      handed = resolve;
    });
    this.#waiting++;
    let publishing: Promise<void>;
    try {
      const nc = await this.#connection.get(signal);
      await previous; // never rejects
      signal?.throwIfAborted();
      publishing = this.#driver.publish(nc, messages, signal);
    } finally {
      this.#waiting--;
      handed();
    }
    await publishing;
  }

  async subscribe(
    names: readonly string[],
    options: NatsSubscribeOptions = {},
  ): Promise<Subscription> {
    if (this.#closed) throw new ClosedError('the NATS event bus');
    const plan = this.#plan(names, options);
    this.#driver.check(plan);
    options.signal?.throwIfAborted();
    const nc = await this.#connection.get(options.signal);
    let subscription: ManagedSubscription | undefined;
    let unbind: (() => void) | undefined;
    let ended = false;
    subscription = await this.#driver.subscribe(
      nc,
      plan,
      () => {
        ended = true;
        if (subscription) this.#subscriptions.delete(subscription);
        unbind?.();
      },
      options.signal,
    );
    if (this.#closed) {
      await subscription.close();
      throw new ClosedError('the NATS event bus');
    }
    if (!ended) {
      this.#subscriptions.add(subscription);
      unbind = bindSignal(subscription, options.signal);
      // Closed after the driver subscribed and before the line above: onLost found nothing to
      // fail, and NATS ends callback subscriptions silently, so the consumer would wait forever.
      const lost = this.#connection.closedError(nc);
      if (lost) subscription.fail(lost);
    }
    return subscription;
  }

  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    await Promise.allSettled([...this.#publishing]);
    const subscriptions = [...this.#subscriptions];
    await Promise.allSettled(subscriptions.map((subscription) => subscription.close()));
    // Handlers still working on an event acknowledge it when they ask for the next one; draining
    // first lost that acknowledgement and the event came back only after the ack wait.
    await Promise.allSettled(subscriptions.map((subscription) => subscription.settle?.()));
    await this.#connection.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #plan(names: readonly string[], options: NatsSubscribeOptions): SubscriptionPlan {
    if (!Array.isArray(names))
      throw new InvalidArgumentError('subscribe expects an array of event names');
    if (names.length === 0)
      throw new InvalidArgumentError('subscribe needs at least one event name');
    const unique = [...new Set(names)];
    let subjects: string[];
    let accepts: (name: string) => boolean;
    const checked = names.map((name, i) =>
      name === ALL_EVENTS ? name : this.#subjects.of(name, `subscribe: names[${i}]`),
    );
    if (unique.includes(ALL_EVENTS)) {
      subjects = [this.#subjects.all];
      accepts = () => true;
    } else {
      subjects = [...new Set(checked)];
      const wanted = new Set(unique);
      accepts = (name) => wanted.has(name);
    }
    const ack = options.ack ?? this.#ack;
    if (ack !== 'next' && ack !== 'pull') {
      throw new InvalidArgumentError(`ack ${JSON.stringify(ack)} must be "next" or "pull"`);
    }
    const deliver = options.deliver ?? this.#deliver;
    if (deliver !== 'new' && deliver !== 'all') {
      throw new InvalidArgumentError(`deliver ${JSON.stringify(deliver)} must be "new" or "all"`);
    }
    return {
      names: unique,
      subjects,
      accepts,
      codec: this.#codec,
      bufferSize: checkBufferSize(options.bufferSize ?? this.#bufferSize, 'bufferSize'),
      overflow: checkOverflow(options.overflow ?? this.#overflow),
      onError: reporter(options.onError),
      group: options.group,
      durable: options.durable,
      deliver,
      ack,
    };
  }
}

/**
 * Closes the subscription when `signal` aborts. Returns the unbinding, called when the
 * subscription ends: an application passes one long-lived signal (its shutdown) to every
 * subscription it opens, and a listener left on it kept every ended subscription alive.
 */
function bindSignal(subscription: Subscription, signal: AbortSignal | undefined): () => void {
  if (!signal) return () => {};
  if (signal.aborted) {
    void subscription.close();
    return () => {};
  }
  const onAbort = () => void subscription.close();
  signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
}

function checkBufferSize(size: number, what: string): number {
  if (!(Number.isSafeInteger(size) && size >= 1)) {
    throw new InvalidArgumentError(`${what} ${JSON.stringify(size)} must be a positive integer`);
  }
  return size;
}

function checkOverflow(policy: OverflowPolicy): OverflowPolicy {
  if (policy !== 'fail' && policy !== 'drop' && policy !== 'block') {
    throw new InvalidArgumentError(
      `overflow ${JSON.stringify(policy)} must be "fail", "drop" or "block"`,
    );
  }
  return policy;
}
