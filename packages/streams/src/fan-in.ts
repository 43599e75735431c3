import { abortable, closeQuietly } from './abort.js';
import type { StreamOptions } from './options.js';

/**
 * Merges several async iterables into one (goes' `streams.FanIn`). Values of one source keep
 * their order; values of different sources interleave as they arrive. The result ends when all
 * sources have ended. An error of any source ends it too (and is thrown); closing the result, an
 * error or an aborted signal closes every source that is still open.
 *
 * @example
 * ```ts
 * for await (const event of fanIn([ordersSubscription, paymentsSubscription])) handle(event);
 * ```
 */
export function fanIn<T>(
  sources: readonly AsyncIterable<T>[],
  options: StreamOptions = {},
): AsyncIterable<T> {
  const { signal } = options;
  return {
    async *[Symbol.asyncIterator]() {
      signal?.throwIfAborted();
      const iterators = sources.map((source) => source[Symbol.asyncIterator]());
      type Pulled = { index: number; result: IteratorResult<T> };
      const pending = new Map<number, Promise<Pulled>>();
      const pull = (index: number) => {
        const iterator = iterators[index] as AsyncIterator<T>;
        const next = iterator.next().then((result) => ({ index, result }));
        // The race below observes the rejection; this keeps a late one from being "unhandled".
        next.catch(() => {});
        pending.set(index, next);
      };
      iterators.forEach((_, index) => {
        pull(index);
      });
      try {
        while (pending.size > 0) {
          const { index, result } = await abortable(Promise.race(pending.values()), signal);
          if (result.done) {
            pending.delete(index);
            continue;
          }
          pull(index);
          yield result.value;
        }
      } finally {
        for (const index of pending.keys()) closeQuietly(iterators[index] as AsyncIterator<T>);
      }
    },
  };
}
