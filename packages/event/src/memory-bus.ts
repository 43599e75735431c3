import type { Codec } from '@goes/codec';
import { type Channel, createChannel } from '@goes/streams';
import type {
  EventBus,
  OverflowPolicy,
  SignalOptions,
  SubscribeOptions,
  Subscription,
} from './contracts.js';
import { ClosedError, InvalidArgumentError, SubscriberOverflowError } from './errors.js';
import { ALL_EVENTS, type Event } from './event.js';

/**
 * Options of {@link createMemoryEventBus}.
 *
 * @example
 * ```ts
 * const bus = createMemoryEventBus({ codec: events, bufferSize: 4_096 });
 * ```
 */
export interface MemoryEventBusOptions {
  /**
   * When given, every published event's data is encoded and decoded once, as a network bus
   * would: data the codec cannot handle fails at publish, and subscribers never share the
   * publisher's objects. Without it, events are passed by reference (fastest).
   */
  readonly codec?: Codec | undefined;
  /** Default queue capacity of a subscription. Default 1,024. */
  readonly bufferSize?: number | undefined;
  /** Default overflow policy of a subscription. Default `fail`. */
  readonly overflow?: OverflowPolicy | undefined;
}

/**
 * Creates the in-memory event bus (goes' `eventbus.New`), fixed for production-like behaviour:
 * no artificial 1 ms delay, non-blocking fan-out (each subscriber has its own bounded queue, so a
 * slow subscriber never stalls the others unless it asked for `block`), load-balancing groups,
 * and no goroutine-style leak per subscription.
 *
 * Overflow policy when a subscriber's queue is full (per subscription, see {@link OverflowPolicy}):
 * `fail` ends that subscription with {@link SubscriberOverflowError}; `drop` drops the event for it
 * and reports to `onError`; `block` makes `publish` wait for room.
 *
 * @example
 * ```ts
 * const bus = createMemoryEventBus();
 * const sub = await bus.subscribe(['order.placed']);
 * await bus.publish([createEvent('order.placed', { total: 10 })]);
 * for await (const event of sub) { console.log(event.data); break; }
 * ```
 */
export function createMemoryEventBus(options: MemoryEventBusOptions = {}): EventBus {
  return new InMemoryEventBus(options);
}

interface Recipient {
  readonly channel: Channel<Event>;
  readonly overflow: OverflowPolicy;
  readonly onError: ((error: unknown) => void) | undefined;
  readonly group: string | undefined;
  dropped: number;
}

/** The recipients of one event name, with round-robin state for load-balancing groups. */
interface NameEntry {
  readonly recipients: Set<Recipient>;
  readonly turns: Map<string, number>;
}

class InMemoryEventBus implements EventBus {
  readonly #codec: Codec | undefined;
  readonly #bufferSize: number;
  readonly #overflow: OverflowPolicy;
  readonly #byName = new Map<string, NameEntry>();
  readonly #subscriptions = new Set<MemorySubscription>();
  #closed = false;

  constructor(options: MemoryEventBusOptions) {
    this.#codec = options.codec;
    this.#bufferSize = checkBufferSize(options.bufferSize ?? 1024);
    this.#overflow = options.overflow ?? 'fail';
  }

  async publish(events: readonly Event[], options: SignalOptions = {}): Promise<void> {
    if (this.#closed) throw new ClosedError('the in-memory event bus');
    options.signal?.throwIfAborted();
    for (const original of events) {
      const event = this.#codec ? this.#roundTrip(original) : original;
      const waits: Promise<unknown>[] = [];
      this.#deliver(this.#byName.get(event.name), event, waits);
      if (event.name !== ALL_EVENTS) this.#deliver(this.#byName.get(ALL_EVENTS), event, waits);
      if (waits.length > 0) await Promise.all(waits);
    }
  }

  async subscribe(names: readonly string[], options: SubscribeOptions = {}): Promise<Subscription> {
    if (this.#closed) throw new ClosedError('the in-memory event bus');
    if (!Array.isArray(names))
      throw new InvalidArgumentError('subscribe expects an array of event names');
    names.forEach((name, i) => {
      if (typeof name !== 'string' || name.length === 0) {
        throw new InvalidArgumentError(
          `subscribe: names[${i}] ${JSON.stringify(name)} must be a non-empty string`,
        );
      }
    });
    const overflow = options.overflow ?? this.#overflow;
    const unique = [...new Set(names)];
    const subscription = new MemorySubscription(unique, () => {
      for (const name of unique) {
        const entry = this.#byName.get(name);
        entry?.recipients.delete(recipient);
        if (entry && entry.recipients.size === 0) this.#byName.delete(name);
      }
      this.#subscriptions.delete(subscription);
    });
    const recipient: Recipient = {
      channel: subscription.channel(checkBufferSize(options.bufferSize ?? this.#bufferSize)),
      overflow,
      onError: options.onError,
      group: options.group,
      dropped: 0,
    };
    for (const name of unique) {
      let entry = this.#byName.get(name);
      if (!entry) {
        entry = { recipients: new Set(), turns: new Map() };
        this.#byName.set(name, entry);
      }
      entry.recipients.add(recipient);
    }
    this.#subscriptions.add(subscription);
    subscription.bindSignal(options.signal);
    return subscription;
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const subscription of [...this.#subscriptions]) await subscription.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #roundTrip(event: Event): Event {
    const codec = this.#codec as Codec;
    return { ...event, data: codec.decode(event.name, codec.encode(event.name, event.data)) };
  }

  #deliver(entry: NameEntry | undefined, event: Event, waits: Promise<unknown>[]): void {
    if (!entry) return;
    let grouped: Map<string, Recipient[]> | undefined;
    for (const recipient of entry.recipients) {
      if (recipient.group === undefined) {
        this.#offer(recipient, event, waits);
        continue;
      }
      grouped ??= new Map();
      const members = grouped.get(recipient.group);
      if (members) members.push(recipient);
      else grouped.set(recipient.group, [recipient]);
    }
    if (!grouped) return;
    for (const [group, members] of grouped) {
      const turn = entry.turns.get(group) ?? 0;
      entry.turns.set(group, turn + 1);
      this.#offer(members[turn % members.length] as Recipient, event, waits);
    }
  }

  #offer(recipient: Recipient, event: Event, waits: Promise<unknown>[]): void {
    if (recipient.channel.tryPush(event) || recipient.channel.closed) return;
    switch (recipient.overflow) {
      case 'block':
        waits.push(recipient.channel.push(event));
        return;
      case 'drop':
        recipient.dropped++;
        recipient.onError?.(
          new SubscriberOverflowError(recipient.channel.capacity, recipient.dropped),
        );
        return;
      case 'fail':
        recipient.channel.fail(new SubscriberOverflowError(recipient.channel.capacity, 1));
        return;
    }
  }
}

function checkBufferSize(size: number): number {
  if (!(Number.isInteger(size) && size >= 1) && size !== Number.POSITIVE_INFINITY) {
    throw new InvalidArgumentError(`bufferSize ${size} must be a positive integer`);
  }
  return size;
}

/** A subscription backed by a bounded channel; closing it (or its signal) unregisters it. */
class MemorySubscription implements Subscription {
  readonly names: readonly string[];
  #channel: Channel<Event> | undefined;
  readonly #unregister: () => void;

  constructor(names: readonly string[], unregister: () => void) {
    this.names = names;
    this.#unregister = unregister;
  }

  channel(capacity: number): Channel<Event> {
    this.#channel = createChannel<Event>({ capacity, onClose: this.#unregister });
    return this.#channel;
  }

  bindSignal(signal: AbortSignal | undefined): void {
    if (!signal) return;
    if (signal.aborted) {
      this.#channel?.close();
      return;
    }
    signal.addEventListener('abort', () => this.#channel?.close(), { once: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<Event> {
    return (this.#channel as Channel<Event>)[Symbol.asyncIterator]();
  }

  async close(): Promise<void> {
    this.#channel?.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
