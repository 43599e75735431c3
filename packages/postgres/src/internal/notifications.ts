import pg from 'pg';
import { quoteIdent } from './identifiers.js';

/** How long the listener waits before reconnecting after its connection failed. */
const RECONNECT_DELAY_MS = 1_000;

/**
 * Wakes the store's feeds when new events may be there: on every insert made through this store
 * (no round trip) and, with notifications on, on every `NOTIFY` of the events table's channel
 * (inserts of other processes). The LISTEN connection is a dedicated client, not a pooled one, so
 * feeds never take a pool slot for good; it is opened while at least one feed runs, and
 * reconnected after a failure (feeds keep polling meanwhile).
 */
export class NotificationHub {
  #generation = 0;
  #waiters = new Set<() => void>();
  #refs = 0;
  #client: pg.Client | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(
    private readonly options: {
      /** Config of the dedicated LISTEN client; undefined disables notifications. */
      readonly listen: pg.ClientConfig | undefined;
      readonly channel: string;
      readonly onError: (error: unknown) => void;
    },
  ) {}

  /** Bumped by every wake-up; a feed reads it before polling to never miss one. */
  get generation(): number {
    return this.#generation;
  }

  /** Wakes every waiting feed. */
  wake(): void {
    this.#generation++;
    const waiters = this.#waiters;
    this.#waiters = new Set();
    for (const waiter of waiters) waiter();
  }

  /**
   * Calls `callback` once on the next wake-up after `generation` (soon, if there was one
   * already, or if the hub is closed). Returns a function that cancels the call.
   */
  onWake(generation: number, callback: () => void): () => void {
    if (generation !== this.#generation || this.#closed) {
      let cancelled = false;
      queueMicrotask(() => {
        if (!cancelled) callback();
      });
      return () => {
        cancelled = true;
      };
    }
    const waiter = () => callback();
    this.#waiters.add(waiter);
    return () => {
      this.#waiters.delete(waiter);
    };
  }

  /** A feed starts: listen while any feed runs. */
  retain(): void {
    this.#refs++;
    if (this.#refs === 1) this.#listen();
  }

  /** A feed ended. */
  release(): void {
    this.#refs = Math.max(0, this.#refs - 1);
    if (this.#refs === 0) this.#unlisten();
  }

  /** Stops listening for good and wakes every waiter. */
  close(): void {
    this.#closed = true;
    this.#unlisten();
    this.wake();
  }

  #listen(): void {
    const config = this.options.listen;
    if (!config || this.#client || this.#closed) return;
    const client = new pg.Client(config);
    this.#client = client;
    const fail = (error: unknown) => {
      if (this.#client !== client) return;
      this.#client = undefined;
      client.removeAllListeners('notification');
      client.end().catch(() => {});
      this.options.onError(error);
      if (this.#refs > 0 && !this.#closed) {
        this.#timer = setTimeout(() => {
          this.#timer = undefined;
          if (this.#refs > 0) this.#listen();
        }, RECONNECT_DELAY_MS);
      }
    };
    client.on('error', fail);
    client.on('end', () => fail(new Error('the LISTEN connection ended')));
    client.on('notification', (message) => {
      if (message.channel === this.options.channel) this.wake();
    });
    client
      .connect()
      .then(() => client.query(`LISTEN ${quoteIdent(this.options.channel)}`))
      .then(
        // Events may have been appended while there was no listener.
        () => this.wake(),
        fail,
      );
  }

  #unlisten(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const client = this.#client;
    this.#client = undefined;
    if (client) {
      client.removeAllListeners('notification');
      client.removeAllListeners('end');
      // keep an error listener: a late socket error must not crash the process
      client.end().catch(() => {});
    }
  }
}
