import { ConnectionError, type Event, SubscriberOverflowError } from '@goes/event';
import { type Channel, createChannel } from '@goes/streams';
import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import type { ManagedSubscription, SubscriptionPlan } from './driver.js';
import { decodeEnvelope } from './envelope.js';

/**
 * The longest a closing bus waits for a handler to finish the event in hand: long enough for a
 * handler that is nearly done, short enough that a stuck one does not hold a shutdown for long.
 */
const SETTLE_LIMIT = 5_000;

/** One received message waiting for the application, with its decoded event. */
interface Delivery {
  readonly event: Event;
  readonly msg: JsMsg;
}

/** What the subscription needs from the driver. @internal */
export interface JetStreamSubscriptionHooks {
  /** When the consumer reads more subjects than subscribed to: the subscribed ones. */
  readonly subjects: ReadonlySet<string> | undefined;
  /** Deliveries of a message after which it is given up on. */
  readonly maxDeliver: number;
  /** Ack wait in ms; held messages are extended (`working`) at half of it. */
  readonly ackWait: number;
  /** Delay in ms before an event left in hand (loop left by break or throw) is redelivered. */
  readonly redeliveryDelay: number;
  /** Gives a message up: dead-letters it (if configured), terminates it, reports it. */
  giveUp(msg: JsMsg, reason: string, cause?: unknown): Promise<void>;
  /** Runs once when the subscription ended (deletes ephemeral consumers). */
  onEnd(): Promise<void>;
}

/**
 * A JetStream subscription: one pull consumer per subject, each pumped into one bounded queue.
 *
 * Acknowledgement (see {@link AckMode}): `pull` acks when the iterator hands an event out; `next`
 * acks the event in hand when the application asks for the next one. Messages not acknowledged
 * when the subscription ends are nak'ed, so the server redelivers them at once (to this durable
 * consumer's next subscriber, or another member of the group). While messages wait in the queue
 * or in the application's hand, the subscription tells the server it is still working on them at
 * half the ack wait, so a slow but live subscriber is not sent duplicates.
 *
 * @internal
 */
export class JetStreamSubscription implements ManagedSubscription {
  readonly names: readonly string[];
  readonly #plan: SubscriptionPlan;
  readonly #hooks: JetStreamSubscriptionHooks;
  readonly #channel: Channel<Delivery>;
  /** Received and not yet acknowledged, nak'ed or terminated. */
  readonly #held = new Set<JsMsg>();
  readonly #pumps: ConsumerMessages[] = [];
  readonly #running: Promise<void>[] = [];
  #inHand: JsMsg | undefined;
  /** Resolves `settle()` once the event in hand was acknowledged or nak'ed. */
  #handedBack: (() => void) | undefined;
  #closed = false;
  #stopped = false;
  #ended: Promise<void> | undefined;
  #dropped = 0;
  #iterating = false;
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(plan: SubscriptionPlan, hooks: JetStreamSubscriptionHooks) {
    this.names = plan.names;
    this.#plan = plan;
    this.#hooks = hooks;
    this.#channel = createChannel<Delivery>({
      capacity: plan.bufferSize,
      // The queue closes on close(), on a failure, or when the consumer stops iterating.
      onClose: () => {
        if (!this.#closed) void this.close();
      },
    });
    this.#timer = setInterval(() => this.#extend(), Math.max(500, hooks.ackWait / 2));
    this.#timer.unref?.();
  }

  /** Starts pumping a consumer's messages into the queue. */
  pump(messages: ConsumerMessages): void {
    this.#pumps.push(messages);
    this.#running.push(this.#run(messages));
  }

  async #run(messages: ConsumerMessages): Promise<void> {
    try {
      for await (const msg of messages) {
        // After the end, what the client still had queued goes back to the server at once.
        if (this.#closed || this.#stopped) {
          settle(msg, 'nak');
          continue;
        }
        if (!(await this.#accept(msg))) this.#stopPumps();
      }
      for (const msg of leftovers(messages)) settle(msg, 'nak');
    } catch (error) {
      if (!this.#closed) {
        const reason = error instanceof Error ? error.message : String(error);
        this.#channel.fail(
          new ConnectionError(`the JetStream consumer stopped: ${reason}`, { cause: error }),
        );
      }
    }
  }

  /** Queues one message; false when the pump must stop. */
  async #accept(msg: JsMsg): Promise<boolean> {
    const subjects = this.#hooks.subjects;
    if (subjects && !subjects.has(msg.subject)) {
      settle(msg, 'ack');
      return true;
    }
    const deliveries = msg.info.deliveryCount;
    if (deliveries > this.#hooks.maxDeliver) {
      await this.#hooks.giveUp(msg, `not acknowledged after ${this.#hooks.maxDeliver} deliveries`);
      return true;
    }
    let event: Event;
    try {
      event = decodeEnvelope(msg.data, msg.subject, this.#plan.codec);
    } catch (error) {
      // Decoding will fail the same way on every redelivery: give it up at once.
      await this.#hooks.giveUp(msg, error instanceof Error ? error.message : String(error), error);
      return true;
    }
    if (!this.#plan.accepts(event.name)) {
      settle(msg, 'ack');
      return true;
    }
    const delivery: Delivery = { event, msg };
    this.#held.add(msg);
    const channel = this.#channel;
    if (channel.tryPush(delivery)) return true;
    if (!channel.closed) {
      switch (this.#plan.overflow) {
        case 'block':
          if (await channel.push(delivery)) return true;
          break;
        case 'drop':
          this.#release(msg, 'term');
          this.#dropped++;
          this.#plan.onError(new SubscriberOverflowError(channel.capacity, this.#dropped));
          return true;
        case 'fail':
          this.#release(msg, 'nak');
          channel.fail(new SubscriberOverflowError(channel.capacity, 1));
          return false;
      }
    }
    this.#release(msg, 'nak');
    return false;
  }

  #release(msg: JsMsg, how: 'ack' | 'nak' | 'term', delay?: number): void {
    this.#held.delete(msg);
    // Only a lost ack is worth reporting (the event will come again); a lost nak or term just
    // means the server redelivers after the ack wait, which is what they asked for anyway.
    settle(msg, how, how === 'ack' ? this.#plan.onError : undefined, delay);
  }

  /** Tells the server the held messages are still being worked on (resets their ack wait). */
  #extend(): void {
    for (const msg of this.#held) settle(msg, 'working');
  }

  fail(error: unknown): void {
    this.#channel.fail(error);
  }

  [Symbol.asyncIterator](): AsyncIterator<Event> {
    if (this.#iterating)
      throw new TypeError('a subscription has exactly one consumer; it is already being iterated');
    this.#iterating = true;
    const source = this.#channel[Symbol.asyncIterator]();
    const ackOnNext = this.#plan.ack === 'next';
    return {
      next: async (): Promise<IteratorResult<Event>> => {
        const inHand = this.#inHand;
        if (inHand) {
          this.#inHand = undefined;
          this.#release(inHand, 'ack');
          this.#handedBack?.();
        }
        for (;;) {
          const result = await source.next();
          if (result.done) return result;
          const { event, msg } = result.value;
          // Released when the subscription ended: the server redelivers it, so skip it here.
          if (!this.#held.has(msg)) continue;
          if (ackOnNext) this.#inHand = msg;
          else this.#release(msg, 'ack');
          return { done: false, value: event };
        }
      },
      return: async (): Promise<IteratorResult<Event>> => {
        const inHand = this.#inHand;
        if (inHand) {
          // The loop was left (break or throw) with this event in hand: we cannot know it was
          // handled, so it is delivered again, after a pause so a failing handler does not spin.
          this.#inHand = undefined;
          this.#release(inHand, 'nak', this.#hooks.redeliveryDelay);
          this.#handedBack?.();
        }
        await this.close();
        return { done: true, value: undefined };
      },
    };
  }

  close(): Promise<void> {
    this.#ended ??= this.#end();
    return this.#ended;
  }

  async #end(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    // Stop pulling first: a nak'ed message is redelivered at once, and must not go to a pull
    // request of this very subscription.
    this.#stopPumps();
    // Queued messages were never handed out: nak them so the server redelivers them now.
    for (const msg of [...this.#held]) if (msg !== this.#inHand) this.#release(msg, 'nak');
    this.#channel.close();
    await Promise.all(this.#running);
    await this.#hooks.onEnd();
  }

  /**
   * Waits, at most half the ack wait and {@link SETTLE_LIMIT}, for the application to be done with the event in hand (it asks for the
   * next one, which acknowledges it, or leaves the loop, which nak's it); then nak's it. The bus
   * calls this after close() and before it drains its connection: an acknowledgement sent later
   * is lost, and the event came back only after the ack wait instead of being acknowledged (or
   * redelivered at once).
   */
  async settle(): Promise<void> {
    const inHand = this.#inHand;
    if (!inHand) return;
    // The working() timer stopped with close(): restart the ack wait so it outlasts the wait.
    settle(inHand, 'working');
    let timer: ReturnType<typeof setTimeout> | undefined;
    await new Promise<void>((resolve) => {
      this.#handedBack = resolve;
      timer = setTimeout(resolve, Math.min(this.#hooks.ackWait / 2, SETTLE_LIMIT));
    });
    clearTimeout(timer);
    this.#handedBack = undefined;
    if (this.#inHand === inHand) {
      this.#inHand = undefined;
      this.#release(inHand, 'nak', this.#hooks.redeliveryDelay);
    }
  }

  #stopPumps(): void {
    this.#stopped = true;
    for (const messages of this.#pumps) {
      try {
        messages.stop();
      } catch {
        // a consumer whose connection is gone is stopped already
      }
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function settle(
  msg: JsMsg,
  how: 'ack' | 'nak' | 'term' | 'working',
  onError?: (error: unknown) => void,
  delay?: number,
): void {
  try {
    if (how === 'nak' && delay !== undefined) msg.nak(delay);
    else msg[how]();
  } catch (error) {
    // The connection is closed: the server redelivers the message after its ack wait.
    onError?.(error);
  }
}

/**
 * Messages the NATS client had received but not yet yielded when the consumer was stopped. They
 * would otherwise wait out the ack wait before being redelivered. This reads the client's queue
 * (`QueuedIteratorImpl.yields` in @nats-io/nats-core 3.x); should that change, the messages are
 * still redelivered, only after the ack wait.
 */
function leftovers(messages: ConsumerMessages): JsMsg[] {
  const queue = (messages as unknown as { yields?: unknown }).yields;
  if (!Array.isArray(queue)) return [];
  return queue.filter(
    (item): item is JsMsg =>
      typeof item === 'object' && item !== null && typeof (item as JsMsg).nak === 'function',
  );
}
