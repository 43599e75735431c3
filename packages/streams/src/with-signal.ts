import { abortable, closeQuietly } from './abort.js';

/**
 * Wraps `source` so that its iteration stops when `signal` aborts: a pending `next()` rejects
 * with `signal.reason` at once and the source is closed (its `return()` is called).
 * Without a signal, `source` is returned unchanged.
 *
 * @example
 * ```ts
 * for await (const event of withSignal(subscription, AbortSignal.timeout(5_000))) {
 *   console.log(event.name);
 * }
 * ```
 */
export function withSignal<T>(
  source: AsyncIterable<T>,
  signal: AbortSignal | undefined,
): AsyncIterable<T> {
  if (!signal) return source;
  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      const iterator = source[Symbol.asyncIterator]();
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        closeQuietly(iterator);
      };
      return {
        async next(): Promise<IteratorResult<T>> {
          if (done) return { done: true, value: undefined };
          if (signal.aborted) {
            finish();
            throw signal.reason;
          }
          try {
            const result = await abortable(iterator.next(), signal);
            if (result.done) done = true;
            return result;
          } catch (error) {
            finish();
            throw error;
          }
        },
        async return(): Promise<IteratorResult<T>> {
          finish();
          return { done: true, value: undefined };
        },
      };
    },
  };
}
