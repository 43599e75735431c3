import { closeQuietly } from './abort.js';

/**
 * Turns one source value into outputs by pushing them onto `out` (zero or more); may be async.
 *
 * @internal
 */
export type PipeStep<T, U> = (value: T, out: U[]) => void | Promise<void>;

const DONE: IteratorResult<never> = Object.freeze({ done: true, value: undefined });

/**
 * The iterable behind `filter`, `map` and `before`. Hand-written rather than an async generator:
 * a generator suspended in `await source.next()` runs `return()` only once that await settles —
 * never, for a quiet subscription — so closing the result (fanIn giving up on it, a consumer
 * leaving) would leave the source open. Here `return()` closes the source at once.
 *
 * @internal
 */
export function pipe<T, U>(source: AsyncIterable<T>, step: PipeStep<T, U>): AsyncIterable<U> {
  return { [Symbol.asyncIterator]: () => new PipeIterator(source[Symbol.asyncIterator](), step) };
}

class PipeIterator<T, U> implements AsyncIterator<U> {
  #queue: U[] = [];
  #index = 0;
  #done = false;
  #pulling = false;
  /** Calls of `next()` run one after another, as they do on an async generator. */
  #tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly source: AsyncIterator<T>,
    private readonly step: PipeStep<T, U>,
  ) {}

  next(): Promise<IteratorResult<U>> {
    const result = this.#tail.then(() => this.#next());
    this.#tail = result.catch(() => {});
    return result;
  }

  async return(): Promise<IteratorResult<U>> {
    if (this.#done) return DONE;
    this.#done = true;
    this.#queue = [];
    // A pull in flight may never settle: ask the source to close without waiting for it.
    if (this.#pulling) closeQuietly(this.source);
    else await this.source.return?.();
    return DONE;
  }

  async #next(): Promise<IteratorResult<U>> {
    for (;;) {
      if (this.#done) return DONE;
      if (this.#index < this.#queue.length) {
        return { done: false, value: this.#queue[this.#index++] as U };
      }
      this.#queue = [];
      this.#index = 0;
      let result: IteratorResult<T>;
      this.#pulling = true;
      try {
        result = await this.source.next();
      } catch (error) {
        // The source failed: it is finished, there is nothing to close.
        this.#done = true;
        throw error;
      } finally {
        this.#pulling = false;
      }
      if (this.#done) return DONE; // closed while the pull was in flight
      if (result.done) {
        this.#done = true;
        return DONE;
      }
      try {
        const pending = this.step(result.value, this.#queue);
        if (pending) await pending;
      } catch (error) {
        this.#done = true;
        this.#queue = [];
        closeQuietly(this.source);
        throw error;
      }
    }
  }
}
