import type { Event, SignalOptions } from '@goes/event';

/**
 * Options of {@link PostgresEventStore.feed}.
 *
 * @example
 * ```ts
 * const feed = store.feed({ after: checkpoint, names: ['order.placed'], signal });
 * ```
 */
export interface FeedOptions extends SignalOptions {
  /** Start after this position (exclusive): a checkpoint. Default 0, the beginning. */
  readonly after?: number | undefined;
  /** Only events with one of these names (all events when absent or empty). */
  readonly names?: readonly string[] | undefined;
  /**
   * Events read per round trip; also the most the feed holds in memory. Default 500.
   */
  readonly batchSize?: number | undefined;
  /**
   * How long the feed waits for a wake-up before it looks again, in milliseconds. Inserts through
   * this store wake it at once, and with notifications on, inserts of other processes too, so
   * the interval only bounds the delay when a notification is lost. Default 1,000; values above
   * 2^31 − 1 (about 24.8 days, the longest a timer can wait) wait that long.
   */
  readonly pollIntervalMs?: number | undefined;
  /**
   * Transient errors (a lost connection): the feed reports them here and tries again after the
   * poll interval. Without it they are ignored. Other errors end the iteration.
   */
  readonly onError?: ((error: unknown) => void) | undefined;
}

/**
 * A store feed: every event after a position, in position order, exactly once, then waiting for
 * new ones, for as long as it is iterated. It reads in batches on demand (memory stays bounded,
 * a slow consumer simply reads later) and ends when closed, when the consumer leaves a
 * `for await` loop (`break` closes the feed), when its signal aborts (the iteration rejects with
 * the reason), or when the store closes. A feed has one consumer.
 *
 * @example
 * ```ts
 * await using feed = store.feed({ after: await checkpoints.load('orders') });
 * for await (const event of feed) {
 *   await project(event);
 *   await checkpoints.save('orders', event.position!);
 * }
 * ```
 */
export interface EventFeed extends AsyncIterable<Event>, AsyncDisposable {
  /** The position of the last event handed out (the `after` given at start before the first). */
  readonly position: number;
  /** Ends the feed; a pending `next()` resolves as done. */
  close(): Promise<void>;
}
