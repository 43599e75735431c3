import type { Codec } from '@goes/codec';
import type { OverflowPolicy, Subscription } from '@goes/event';
import type { NatsConnection } from '@nats-io/transport-node';
import type { AckMode, DeliverFrom, NatsDriver } from './options.js';

/** One encoded event ready to publish. @internal */
export interface OutgoingMessage {
  readonly subject: string;
  readonly bytes: Uint8Array;
  readonly id: string;
}

/** What a subscription was asked for, validated and resolved to subjects. @internal */
export interface SubscriptionPlan {
  /** The names as given (deduplicated), reported as `Subscription.names`. */
  readonly names: readonly string[];
  /** The subjects to listen on (`<prefix>.>` alone when `*` was asked for). */
  readonly subjects: readonly string[];
  /** Whether an event of this name belongs to the subscription (subjects may be shared). */
  readonly accepts: (eventName: string) => boolean;
  readonly codec: Codec;
  readonly bufferSize: number;
  readonly overflow: OverflowPolicy;
  readonly onError: (error: unknown) => void;
  readonly group: string | undefined;
  readonly durable: string | undefined;
  readonly deliver: DeliverFrom;
  readonly ack: AckMode;
}

/** A subscription the bus can end (bus close, lost connection). @internal */
export interface ManagedSubscription extends Subscription {
  /** Ends the subscription with `error`, thrown to the consumer after what it already queued. */
  fail(error: unknown): void;
  /**
   * After close(): waits (bounded) for the event the application holds to be acknowledged or
   * nak'ed, then nak's it (JetStream; core has nothing to settle).
   */
  settle?(): Promise<void>;
}

/** What differs between core NATS and JetStream. @internal */
export interface Driver {
  readonly name: NatsDriver;
  readonly defaultOverflow: OverflowPolicy;
  /** Refuses options the driver cannot honour, before anything is opened. */
  check(plan: SubscriptionPlan): void;
  publish(
    nc: NatsConnection,
    messages: readonly OutgoingMessage[],
    signal: AbortSignal | undefined,
  ): Promise<void>;
  /** Opens a subscription; `onEnd` runs once when it ends for any reason. */
  subscribe(
    nc: NatsConnection,
    plan: SubscriptionPlan,
    onEnd: () => void,
    signal: AbortSignal | undefined,
  ): Promise<ManagedSubscription>;
}

/** Reports a non-fatal error without letting a throwing callback break delivery. @internal */
export function reporter(
  onError: ((error: unknown) => void) | undefined,
): (error: unknown) => void {
  if (!onError) return () => {};
  return (error) => {
    try {
      onError(error);
    } catch {
      // onError must never stop delivery; its own failure has nowhere better to go
    }
  };
}
