import {
  ConnectionError,
  type Event,
  InvalidArgumentError,
  SubscriberOverflowError,
} from '@goes/event';
import { type Channel, createChannel } from '@goes/streams';
import type { Msg, NatsConnection, Subscription as NatsSub } from '@nats-io/transport-node';
import type { Driver, ManagedSubscription, OutgoingMessage, SubscriptionPlan } from './driver.js';
import { decodeEnvelope } from './envelope.js';
import { PublishBatch } from './publish-batch.js';

/**
 * Core NATS: publish is fire-and-forget into the client's buffer (at most once; the publishes of
 * one event-loop turn are handed over together, see {@link PublishBatch}), subscriptions are
 * plain or queue-group subscriptions whose callback decodes into a bounded queue.
 *
 * @internal
 */
export class CoreDriver implements Driver {
  readonly name = 'core' as const;
  readonly defaultOverflow = 'fail' as const;

  check(plan: SubscriptionPlan): void {
    if (plan.overflow === 'block') {
      throw new InvalidArgumentError(
        'overflow "block" is not supported by the core NATS driver: core NATS cannot slow a publisher down, ' +
          'so blocking would only move the unbounded queue into the NATS client. Use "fail" or "drop", ' +
          'or the JetStream driver, where "block" stops pulling and the stream buffers.',
      );
    }
    if (plan.durable !== undefined) {
      throw new InvalidArgumentError(
        `durable ${JSON.stringify(plan.durable)}: durable subscriptions need the JetStream driver (core NATS stores nothing)`,
      );
    }
  }

  readonly #batch = new PublishBatch();

  publish(nc: NatsConnection, messages: readonly OutgoingMessage[]): Promise<void> {
    return this.#batch.add(nc, messages);
  }

  async subscribe(
    nc: NatsConnection,
    plan: SubscriptionPlan,
    onEnd: () => void,
  ): Promise<ManagedSubscription> {
    const subscription = new CoreSubscription(plan, onEnd);
    try {
      // Throws when the connection closed since the bus got it: a typed error, like the flush's.
      subscription.start(nc);
      // The server has registered the interest once the flush returns, so events published
      // after subscribe() resolves reach this subscription, from any connection.
      await nc.flush();
    } catch (cause) {
      subscription.fail(new ConnectionError('subscribing on NATS failed', { cause }));
      await subscription.close();
      throw new ConnectionError('subscribing on NATS failed', { cause });
    }
    return subscription;
  }
}

class CoreSubscription implements ManagedSubscription {
  readonly names: readonly string[];
  readonly #plan: SubscriptionPlan;
  readonly #channel: Channel<Event>;
  readonly #subs: NatsSub[] = [];
  #dropped = 0;

  constructor(plan: SubscriptionPlan, onEnd: () => void) {
    this.names = plan.names;
    this.#plan = plan;
    this.#channel = createChannel<Event>({
      capacity: plan.bufferSize,
      onClose: () => {
        for (const sub of this.#subs) {
          try {
            sub.unsubscribe();
          } catch {
            // the connection is already closed, which ended the NATS subscription too
          }
        }
        onEnd();
      },
    });
  }

  start(nc: NatsConnection): void {
    const callback = (error: Error | null, msg: Msg) => this.#receive(error, msg);
    for (const subject of this.#plan.subjects) {
      this.#subs.push(
        nc.subscribe(
          subject,
          this.#plan.group ? { queue: this.#plan.group, callback } : { callback },
        ),
      );
    }
  }

  #receive(error: Error | null, msg: Msg): void {
    if (error) {
      this.#channel.fail(
        new ConnectionError(`NATS ended the subscription: ${error.message}`, { cause: error }),
      );
      return;
    }
    let event: Event;
    try {
      event = decodeEnvelope(msg.data, msg.subject, this.#plan.codec);
    } catch (decodeError) {
      this.#plan.onError(decodeError);
      return;
    }
    if (!this.#plan.accepts(event.name)) return;
    const channel = this.#channel;
    if (channel.tryPush(event) || channel.closed) return;
    if (this.#plan.overflow === 'drop') {
      this.#dropped++;
      this.#plan.onError(new SubscriberOverflowError(channel.capacity, this.#dropped));
      return;
    }
    channel.fail(new SubscriberOverflowError(channel.capacity, 1));
  }

  fail(error: unknown): void {
    this.#channel.fail(error);
  }

  [Symbol.asyncIterator](): AsyncIterator<Event> {
    return this.#channel[Symbol.asyncIterator]();
  }

  async close(): Promise<void> {
    this.#channel.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
