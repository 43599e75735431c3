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
      const iterators: AsyncIterator<T>[] = [];
      type Pulled = { index: number; result: IteratorResult<T> };
      const pending = new Map<number, Promise<Pulled>>();
      const pull = (index: number) => {
        const iterator = iterators[index] as AsyncIterator<T>;
        const next = iterator.next().then((result) => ({ index, result }));
        // The race below observes the rejection; this keeps a late one from being "unhandled".
        next.catch(() => {});
        // Re-inserted at the end: Promise.race picks the first settled promise in map order, so
        // a source that is always ready would otherwise starve the ones after it.
        pending.delete(index);
        pending.set(index, next);
      };
      /** Sources opened and not yet ended: what must be closed when the result stops early. */
      const open = new Set<number>();
      try {
        // Opening and the first pulls are inside the try: when one source cannot be iterated
        // (or its next() throws at once), the ones opened before it are closed.
        for (const source of sources) {
          iterators.push(source[Symbol.asyncIterator]());
          open.add(iterators.length - 1);
        }
        for (let index = 0; index < iterators.length; index++) pull(index);
        while (pending.size > 0) {
          const { index, result } = await abortable(Promise.race(pending.values()), signal);
          if (result.done) {
            pending.delete(index);
            open.delete(index);
            continue;
          }
          pull(index);
          yield result.value;
        }
      } finally {
        for (const index of open) closeQuietly(iterators[index] as AsyncIterator<T>);
      }
    },
  };
}
