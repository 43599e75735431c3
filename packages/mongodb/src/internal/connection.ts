import { ClosedError, ConnectionError, InvalidArgumentError } from '@goes/event';
import { abortable, sleep } from '@goes/streams';
import { type Db, MongoClient, type MongoClientOptions } from 'mongodb';
import { isConnectionFailure } from './driver-errors.js';

/** How a component gets its client: a given one, or one made from a URL. @internal */
export interface ClientSource {
  readonly client?: MongoClient | undefined;
  readonly url?: string | undefined;
  readonly clientOptions?: MongoClientOptions | undefined;
}

/** How a component connects and what it connects to. @internal */
export interface ConnectionSettings {
  /** For messages, e.g. "the MongoDB event store". */
  readonly what: string;
  readonly database: string;
  /** For messages: the collection the component sets up. */
  readonly collection: string;
  readonly attempts: number;
  readonly backoffMs: number;
}

/**
 * The connection of a store: the client, lazy setup that is retried after a failure (goes
 * connected once with `sync.Once` and never again, bug 7), writes in flight that `close()`
 * waits for, and the closed state.
 *
 * @internal
 */
export class Connection<P> {
  readonly client: MongoClient;
  readonly #ownsClient: boolean;
  readonly #settings: ConnectionSettings;
  readonly #setupOnce: (db: Db) => Promise<P>;
  readonly #pending = new Set<Promise<unknown>>();
  #setup: Promise<P> | undefined;
  #closed = false;

  constructor(source: ClientSource, settings: ConnectionSettings, setup: (db: Db) => Promise<P>) {
    if (source.client) {
      this.client = source.client;
      this.#ownsClient = false;
    } else {
      try {
        this.client = new MongoClient(source.url as string, source.clientOptions);
      } catch (error) {
        throw new InvalidArgumentError(
          `url is not a usable MongoDB connection string: ${(error as Error).message}`,
        );
      }
      this.#ownsClient = true;
    }
    this.#settings = settings;
    this.#setupOnce = setup;
  }

  /** The set-up parts, connecting first if needed; a failed setup is tried again next time. */
  ready(signal: AbortSignal | undefined): Promise<P> {
    this.assertOpen();
    if (!this.#setup) {
      const setup = this.#connect();
      this.#setup = setup;
      setup.catch(() => {
        if (this.#setup === setup) this.#setup = undefined;
      });
    }
    return abortable(this.#setup, signal);
  }

  /** Remembers a write in flight, so that `close()` lets it finish. */
  track<T>(promise: Promise<T>): Promise<T> {
    this.#pending.add(promise);
    const forget = () => this.#pending.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  /** @throws {@link ClosedError} after `close()`. */
  assertOpen(): void {
    if (this.#closed) throw new ClosedError(this.#settings.what);
  }

  /** Waits for writes in flight, then closes the client if it was made here. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#pending]);
    if (this.#ownsClient) await this.client.close();
  }

  async #connect(): Promise<P> {
    const { attempts, backoffMs, database, collection, what } = this.#settings;
    let lastError: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1) await sleep(backoffMs * 2 ** (attempt - 2));
      this.assertOpen();
      try {
        await this.client.connect();
        return await this.#setupOnce(this.client.db(database));
      } catch (error) {
        lastError = error;
        // Only a server that could not be reached may answer on a later attempt.
        if (!isConnectionFailure(error)) break;
      }
    }
    throw new ConnectionError(
      `${capitalize(what)}: cannot set up ${database}.${collection}: ${(lastError as Error)?.message ?? String(lastError)}`,
      { cause: lastError, retryable: isConnectionFailure(lastError) },
    );
  }
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
