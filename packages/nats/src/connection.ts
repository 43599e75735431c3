import { ClosedError, ConnectionError } from '@goes/event';
import { abortable } from '@goes/streams';
import { connect, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';

/** Where the bus gets its NATS connection. @internal */
export interface ConnectionConfig {
  readonly connection?: NatsConnection | undefined;
  readonly url?: string | readonly string[] | undefined;
  readonly connectOptions?: Omit<NodeConnectionOptions, 'servers'> | undefined;
  readonly closeConnection?: boolean | undefined;
}

/**
 * The server the bus connects to when neither a connection nor a URL is given.
 *
 * @example
 * ```ts
 * createNatsEventBus({ url: process.env.NATS_URL ?? DEFAULT_NATS_URL });
 * ```
 */
export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';

/**
 * The bus' NATS connection: the user's, or one it opens lazily on first use. A failed connect is
 * reported and retried by the next call (goes connected once with `sync.Once` and then carried on
 * without a connection). A connection the bus opened is drained on close; the user's is only
 * flushed, unless `closeConnection` asks for it to be drained too.
 *
 * @internal
 */
export class ConnectionHolder {
  readonly #config: ConnectionConfig;
  readonly #owned: boolean;
  #current: NatsConnection | undefined;
  #pending: Promise<NatsConnection> | undefined;
  #closing = false;
  readonly #lostListeners = new Set<(error: ConnectionError) => void>();

  constructor(config: ConnectionConfig) {
    this.#config = config;
    this.#owned = config.connection === undefined;
    if (config.connection) this.#adopt(config.connection);
  }

  /** The open connection, if there is one right now (the publish fast path). */
  get current(): NatsConnection | undefined {
    const nc = this.#current;
    return nc && !nc.isClosed() ? nc : undefined;
  }

  /** The connection, opening it if needed. @throws {@link ConnectionError} */
  get(signal?: AbortSignal): Promise<NatsConnection> {
    if (this.#closing) return Promise.reject(new ClosedError('the NATS event bus'));
    const current = this.current;
    if (current) return Promise.resolve(current);
    if (!this.#owned) {
      return Promise.reject(
        new ConnectionError('the NATS connection given to the event bus is closed', {
          retryable: false,
        }),
      );
    }
    if (!this.#pending) {
      this.#pending = this.#open().finally(() => {
        this.#pending = undefined;
      });
    }
    return abortable(this.#pending, signal);
  }

  /** Calls `listener` when the connection closes while the bus is still open. */
  onLost(listener: (error: ConnectionError) => void): () => void {
    this.#lostListeners.add(listener);
    return () => this.#lostListeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#closing = true;
    const pending = this.#pending;
    const nc = this.#current ?? (await pending?.catch(() => undefined));
    if (!nc || nc.isClosed()) return;
    if (this.#owned || this.#config.closeConnection) {
      await nc.drain().catch(() => nc.close());
    } else {
      await nc.flush().catch(() => {});
    }
  }

  async #open(): Promise<NatsConnection> {
    const url = this.#config.url ?? DEFAULT_NATS_URL;
    const servers = typeof url === 'string' ? url : [...url];
    let nc: NatsConnection;
    try {
      nc = await connect({
        name: 'goes-event-bus',
        maxReconnectAttempts: -1,
        ...this.#config.connectOptions,
        servers,
      });
    } catch (cause) {
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new ConnectionError(
        `cannot connect to NATS at ${String(servers)}: ${reason} (the next call tries again)`,
        { cause, retryable: true },
      );
    }
    if (this.#closing) {
      await nc.close();
      throw new ClosedError('the NATS event bus');
    }
    this.#adopt(nc);
    return nc;
  }

  #adopt(nc: NatsConnection): void {
    this.#current = nc;
    void nc.closed().then((cause) => {
      if (this.#current === nc) this.#current = undefined;
      if (this.#closing) return;
      for (const listener of this.#lostListeners) listener(this.#lostError(cause));
    });
  }

  /**
   * The error for a subscription made on `nc` when `nc` has closed meanwhile: the lost-connection
   * listeners ran before the subscription was registered, so it is failed with this instead.
   */
  closedError(nc: NatsConnection): ConnectionError | undefined {
    return nc.isClosed() && !this.#closing ? this.#lostError(undefined) : undefined;
  }

  #lostError(cause: unknown): ConnectionError {
    const reason = cause instanceof Error ? `: ${cause.message}` : '';
    return new ConnectionError(`the NATS connection closed${reason}`, {
      cause,
      retryable: this.#owned,
    });
  }
}
