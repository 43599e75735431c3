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

/** The recipients of one event name. */
interface NameEntry {
  readonly recipients: Set<Recipient>;
}

class InMemoryEventBus implements EventBus {
  readonly #codec: Codec | undefined;
  readonly #bufferSize: number;
  readonly #overflow: OverflowPolicy;
  readonly #byName = new Map<string, NameEntry>();
  readonly #subscriptions = new Set<MemorySubscription>();
  /** Round-robin state of load-balancing groups, per group across all names. */
  readonly #turns = new Map<string, number>();
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
      this.#deliver(event, waits, options.signal);
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
        entry = { recipients: new Set() };
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

  #deliver(event: Event, waits: Promise<unknown>[], signal: AbortSignal | undefined): void {
    const named = this.#byName.get(event.name)?.recipients;
    const all = event.name === ALL_EVENTS ? undefined : this.#byName.get(ALL_EVENTS)?.recipients;
    let grouped: Map<string, Recipient[]> | undefined;
    if (named) for (const r of named) grouped = this.#route(r, event, waits, signal, grouped);
    // A subscription to both the name and `*` is in both sets; it gets the event once.
    if (all) {
      for (const r of all) {
        if (!named?.has(r)) grouped = this.#route(r, event, waits, signal, grouped);
      }
    }
    if (!grouped) return;
    for (const [group, members] of grouped) {
      const turn = this.#turns.get(group) ?? 0;
      this.#turns.set(group, turn + 1);
      this.#offer(members[turn % members.length] as Recipient, event, waits, signal);
    }
  }

  /** Offers the event to an ungrouped recipient; collects grouped ones (created lazily) instead. */
  #route(
    recipient: Recipient,
    event: Event,
    waits: Promise<unknown>[],
    signal: AbortSignal | undefined,
    grouped: Map<string, Recipient[]> | undefined,
  ): Map<string, Recipient[]> | undefined {
    if (recipient.group === undefined) {
      this.#offer(recipient, event, waits, signal);
      return grouped;
    }
    const groups = grouped ?? new Map<string, Recipient[]>();
    const members = groups.get(recipient.group);
    if (members) members.push(recipient);
    else groups.set(recipient.group, [recipient]);
    return groups;
  }

  #offer(
    recipient: Recipient,
    event: Event,
    waits: Promise<unknown>[],
    signal: AbortSignal | undefined,
  ): void {
    if (recipient.channel.tryPush(event) || recipient.channel.closed) return;
    switch (recipient.overflow) {
      case 'block':
        // With the publisher's signal, so aborting a publish stuck behind a full queue ends it.
        waits.push(recipient.channel.push(event, { signal }));
        return;
      case 'drop':
        recipient.dropped++;
        try {
          recipient.onError?.(
            new SubscriberOverflowError(recipient.channel.capacity, recipient.dropped),
          );
        } catch {
          // onError is the subscriber's business: its failure must not keep the event from the
          // remaining subscribers (nor fail the publisher).
        }
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
  #unbindSignal: (() => void) | undefined;

  constructor(names: readonly string[], unregister: () => void) {
    this.names = names;
    this.#unregister = unregister;
  }

  channel(capacity: number): Channel<Event> {
    this.#channel = createChannel<Event>({
      capacity,
      onClose: () => {
        // A long-lived signal (an app-wide one) must not keep every closed subscription alive.
        this.#unbindSignal?.();
        this.#unregister();
      },
    });
    return this.#channel;
  }

  bindSignal(signal: AbortSignal | undefined): void {
    if (!signal) return;
    if (signal.aborted) {
      this.#channel?.close();
      return;
    }
    const onAbort = () => this.#channel?.close();
    signal.addEventListener('abort', onAbort, { once: true });
    this.#unbindSignal = () => signal.removeEventListener('abort', onAbort);
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
