import type { Codec } from '@goes/codec';
import { type Event, InvalidArgumentError, isGoesError } from '@goes/event';
import type { EventFeed, FeedOptions } from '../feed.js';
import { isStorableText } from './batch.js';
import type { NotificationHub } from './notifications.js';
import { MAX_BATCH_SIZE } from './pool.js';
import { decodeRow, type TextRow } from './rows.js';
import { timerMs } from './timers.js';

const DONE: IteratorResult<Event> = { done: true, value: undefined };

/** What a feed needs from the store. */
export interface FeedContext {
  readonly codec: Codec;
  readonly hub: NotificationHub;
  /**
   * Reads up to `limit` rows after `after` (optionally only these names), in position order,
   * and the last position visible to the same snapshot.
   */
  readonly read: (
    after: number,
    limit: number,
    names: readonly string[] | undefined,
    signal: AbortSignal | undefined,
  ) => Promise<{ readonly rows: TextRow[]; readonly horizon: number }>;
  /** Called when the feed ends, so the store forgets it. */
  readonly ended: (feed: StoreFeed) => void;
}

function positiveInteger(
  name: string,
  value: number | undefined,
  fallback: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1 || value > max) {
    const bound = max === Number.MAX_SAFE_INTEGER ? '' : ` of at most ${max}`;
    throw new InvalidArgumentError(
      `@goes/postgres: feed option ${name} must be a positive integer${bound}, got ${String(value)}`,
    );
  }
  return value;
}

/**
 * The feed behind {@link PostgresEventStore.feed}. Positions are handed out in commit order (see
 * the insert statement), so "everything after the last position read" never skips an event: a
 * later commit always has a higher position.
 */
export class StoreFeed implements EventFeed, AsyncIterator<Event> {
  readonly #context: FeedContext;
  readonly #signal: AbortSignal | undefined;
  readonly #names: readonly string[] | undefined;
  readonly #batchSize: number;
  readonly #pollMs: number;
  readonly #onError: ((error: unknown) => void) | undefined;
  /** Position of the last row read from the database (the next page starts after it). */
  #readUpTo: number;
  #position: number;
  #rows: TextRow[] = [];
  #index = 0;
  #closed = false;
  #iterating = false;
  /** Whether this feed holds the hub (and so the LISTEN connection); taken on the first read. */
  #retained = false;
  /**
   * The signal aborted the feed while no `next()` was waiting (or while one was): the next call
   * rejects with the reason, once, like an abort seen by `next()` itself.
   */
  #abortUnreported = false;
  /**
   * Ends the feed as soon as its signal aborts, not only when it is next iterated: a feed that is
   * aborted and then never asked again (or never iterated at all) must not keep the store's
   * LISTEN connection open until the store closes.
   */
  readonly #onAbort = (): void => {
    if (this.#closed) return;
    this.#abortUnreported = true;
    this.#end();
  };
  /** Ends a pending sleep when the feed closes. */
  #wakeClose: (() => void) | undefined;

  constructor(context: FeedContext, options: FeedOptions) {
    const after = options.after ?? 0;
    if (!Number.isSafeInteger(after) || after < 0) {
      throw new InvalidArgumentError(
        `@goes/postgres: feed option after must be a non-negative integer position, got ${String(after)}`,
      );
    }
    if (options.names !== undefined) {
      if (
        !Array.isArray(options.names) ||
        options.names.some((n) => typeof n !== 'string' || n === '')
      ) {
        throw new InvalidArgumentError(
          `@goes/postgres: feed option names must be an array of non-empty strings, got ${JSON.stringify(options.names)}`,
        );
      }
    }
    this.#context = context;
    this.#signal = options.signal;
    this.#names =
      options.names && options.names.length > 0 ? options.names.filter(isStorableText) : undefined;
    // The page's LIMIT is an integer parameter: a larger batch would fail only at the first read.
    this.#batchSize = positiveInteger('batchSize', options.batchSize, 500, MAX_BATCH_SIZE);
    // Capped: a longer delay would make setTimeout fire after 1 ms, and the feed poll nonstop.
    this.#pollMs = timerMs(positiveInteger('pollIntervalMs', options.pollIntervalMs, 1_000));
    this.#onError = options.onError;
    this.#readUpTo = after;
    this.#position = after;
    // An already aborted signal is seen by the first `next()`; the hub is retained on the first
    // read, so a feed that is never iterated opens no LISTEN connection.
    if (this.#signal && !this.#signal.aborted) {
      this.#signal.addEventListener('abort', this.#onAbort, { once: true });
    }
  }

  get position(): number {
    return this.#position;
  }

  [Symbol.asyncIterator](): AsyncIterator<Event> {
    if (this.#iterating) {
      throw new TypeError('@goes/postgres: a feed has one consumer; it is already being iterated');
    }
    this.#iterating = true;
    return this;
  }

  async next(): Promise<IteratorResult<Event>> {
    for (;;) {
      if (this.#closed) {
        if (!this.#abortUnreported) return DONE;
        this.#abortUnreported = false;
        throw this.#signal?.reason;
      }
      if (this.#signal?.aborted) {
        this.#end();
        throw this.#signal.reason;
      }
      if (this.#index < this.#rows.length) {
        const row = this.#rows[this.#index] as TextRow;
        let event: Event;
        try {
          event = decodeRow(row, this.#context.codec);
        } catch (error) {
          this.#end();
          throw error;
        }
        this.#index++;
        this.#position = event.position as number;
        return { done: false, value: event };
      }
      // An empty batch: the names filter matched none, so the feed moved on by positions only.
      await this.#fill();
    }
  }

  async return(): Promise<IteratorResult<Event>> {
    this.#end();
    return DONE;
  }

  async close(): Promise<void> {
    this.#end();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#end();
  }

  /** Reads the next page, or waits for a wake-up when there is nothing new. */
  async #fill(): Promise<void> {
    const { hub } = this.#context;
    if (!this.#retained) {
      // Listen from the first read on: once listening, the hub wakes every feed, so events
      // appended between this read and the LISTEN are not missed.
      this.#retained = true;
      hub.retain();
    }
    const generation = hub.generation;
    let page: { readonly rows: TextRow[]; readonly horizon: number };
    try {
      page = await this.#context.read(this.#readUpTo, this.#batchSize, this.#names, this.#signal);
    } catch (error) {
      if (this.#closed) return;
      if (this.#signal?.aborted || !isGoesError(error, 'CONNECTION_FAILED')) {
        this.#end();
        throw error;
      }
      this.#onError?.(error);
      await this.#sleep(undefined);
      return;
    }
    if (this.#closed) return;
    const { rows, horizon } = page;
    this.#rows = rows;
    this.#index = 0;
    const last = rows[rows.length - 1];
    if (last) this.#readUpTo = Number(last[0]);
    // A page that is not full holds every match up to the horizon.
    if (rows.length < this.#batchSize && horizon > this.#readUpTo) this.#readUpTo = horizon;
    if (rows.length === 0) await this.#sleep(generation);
  }

  /**
   * Waits for the poll interval, a wake-up (unless `generation` is undefined: after a failure
   * the feed waits the whole interval), close, or abort (rejects with the reason).
   */
  #sleep(generation: number | undefined): Promise<void> {
    if (this.#closed) return Promise.resolve();
    const signal = this.#signal;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const finish = (error?: { reason: unknown }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        cancelWake();
        signal?.removeEventListener('abort', onAbort);
        this.#wakeClose = undefined;
        if (error) reject(error.reason);
        else resolve();
      };
      const onAbort = () => finish({ reason: signal?.reason });
      const timer = setTimeout(finish, this.#pollMs);
      const cancelWake =
        generation === undefined ? () => {} : this.#context.hub.onWake(generation, finish);
      this.#wakeClose = finish;
      signal?.addEventListener('abort', onAbort, { once: true });
    }).catch((error: unknown) => {
      this.#end();
      throw error;
    });
  }

  #end(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#rows = [];
    this.#wakeClose?.();
    this.#signal?.removeEventListener('abort', this.#onAbort);
    if (this.#retained) this.#context.hub.release();
    this.#context.ended(this);
  }
}
