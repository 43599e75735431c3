import type { AggregateRef, Event } from '@goes/event';

/** Events pulled from the store per `pull()`; consumers wait once per batch, not per event. */
const BATCH = 512;

/**
 * One store read that every consumer of a job can share: the events are kept in `events` as
 * they are pulled, so a second consumer replays them from memory and then follows the read as
 * it goes on (the per-job query cache of goes, which also let concurrent identical queries wait
 * for the first one).
 *
 * @internal
 */
export class SharedRead {
  /**
   * The events read so far, in store order, in chunks of at most {@link BATCH}: one growing array
   * of every event would be copied as it grows and halve the read rate.
   */
  readonly chunks: Event[][] = [];
  /** The lowest position this read can contain (inclusive). */
  readonly min: number;
  /** The aggregate the read is limited to, if any. */
  readonly narrowing: AggregateRef | undefined;
  /** The highest position among the events read so far (0 when none). */
  maxPosition = 0;
  readonly #open: () => AsyncIterable<Event>;
  #iterator: AsyncIterator<Event> | undefined;
  #done = false;
  #failure: { readonly error: unknown } | undefined;
  #pulling: Promise<void> | undefined;

  constructor(
    min: number,
    narrowing: AggregateRef | undefined,
    open: (() => AsyncIterable<Event>) | undefined,
  ) {
    this.min = min;
    this.narrowing = narrowing;
    this.#open = open ?? emptySource;
    if (!open) this.#done = true;
  }

  /** True once the store had nothing more (or the read failed). */
  get done(): boolean {
    return this.#done;
  }

  /** True when the read ended with an error. */
  get failed(): boolean {
    return this.#failure !== undefined;
  }

  /** True when every event of the read is in `events`. */
  get complete(): boolean {
    return this.#done && this.#failure === undefined;
  }

  /** Throws the read's error, if it failed. */
  throwIfFailed(): void {
    if (this.#failure) throw this.#failure.error;
  }

  /**
   * Reads the next batch into `events`. Concurrent callers share one pull. Rejects with the
   * store's error (and every later call does too).
   */
  pull(): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure.error);
    if (this.#done) return Promise.resolve();
    this.#pulling ??= this.#pullBatch().finally(() => {
      this.#pulling = undefined;
    });
    return this.#pulling;
  }

  /** Stops reading: the store cursor is closed; consumers see the events read so far. */
  close(): void {
    if (this.#done) return;
    this.#done = true;
    const iterator = this.#iterator;
    this.#iterator = undefined;
    try {
      iterator?.return?.()?.catch(() => {});
    } catch {
      // closing a cursor that is already broken is fine
    }
  }

  async #pullBatch(): Promise<void> {
    try {
      this.#iterator ??= this.#open()[Symbol.asyncIterator]();
      const iterator = this.#iterator;
      const chunk: Event[] = [];
      try {
        for (let n = 0; n < BATCH; n++) {
          const result = await iterator.next();
          if (result.done) {
            this.#done = true;
            this.#iterator = undefined;
            return;
          }
          const event = result.value;
          chunk.push(event);
          const position = event.position;
          if (position !== undefined && position > this.maxPosition) this.maxPosition = position;
          if (this.#done) return; // closed while waiting
        }
      } finally {
        if (chunk.length > 0) this.chunks.push(chunk);
      }
    } catch (error) {
      this.#failure = { error };
      this.#done = true;
      this.#iterator = undefined;
      throw error;
    }
  }
}

function emptySource(): AsyncIterable<Event> {
  return {
    [Symbol.asyncIterator]: () => ({ next: async () => ({ done: true, value: undefined }) }),
  };
}
