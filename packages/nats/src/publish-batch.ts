import type { NatsConnection } from '@nats-io/transport-node';
import type { OutgoingMessage } from './driver.js';
import { PublishError } from './errors.js';

interface PendingPublish {
  readonly nc: NatsConnection;
  readonly messages: readonly OutgoingMessage[];
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Messages collected at most before they are handed to the client without waiting for the end
 * of the turn: a long chain of microtasks that publishes without awaiting never yields to the
 * event loop, and its messages must not pile up here meanwhile.
 */
const MAX_COLLECTED = 1_024;

/**
 * Hands publishes to the NATS client once per event-loop turn (in `setImmediate`). The client
 * writes its buffer to the socket in a microtask after the first message it buffered; a bus
 * whose subscribers answer events as they iterate (the distributed command bus does) publishes
 * between microtasks, so without this every message would be its own socket write. Collected
 * until the turn's microtasks are done (or {@link MAX_COLLECTED} messages are waiting), the
 * messages of a burst leave in one write, in order.
 *
 * @internal
 */
export class PublishBatch {
  #pending: PendingPublish[] = [];
  #collected = 0;
  #scheduled = false;

  add(nc: NatsConnection, messages: readonly OutgoingMessage[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ nc, messages, resolve, reject });
      this.#collected += messages.length;
      if (this.#collected >= MAX_COLLECTED) {
        this.#flush();
      } else if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(this.#onTurnEnd);
      }
    });
  }

  readonly #onTurnEnd = (): void => {
    this.#scheduled = false;
    this.#flush();
  };

  #flush(): void {
    const pending = this.#pending;
    this.#pending = [];
    this.#collected = 0;
    for (const { nc, messages, resolve, reject } of pending) {
      let i = 0;
      try {
        for (; i < messages.length; i++) {
          const message = messages[i] as OutgoingMessage;
          nc.publish(message.subject, message.bytes);
        }
        resolve();
      } catch (cause) {
        reject(new PublishError(i, (messages[i] as OutgoingMessage).id, { cause }));
      }
    }
  }
}
