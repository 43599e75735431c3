/** A source that records whether it was closed, for asserting that helpers close their inputs. */
export function trackedSource<T>(
  values: readonly T[],
  options: { failAt?: number; hangAt?: number } = {},
) {
  const state = { closed: false, pulled: 0 };
  const iterable: AsyncIterable<T> = {
    [Symbol.asyncIterator]() {
      let index = 0;
      return {
        next(): Promise<IteratorResult<T>> {
          state.pulled++;
          if (options.failAt === index) return Promise.reject(new Error(`boom at ${index}`));
          if (options.hangAt === index) return new Promise(() => {});
          if (index < values.length)
            return Promise.resolve({ done: false, value: values[index++] as T });
          return Promise.resolve({ done: true, value: undefined });
        },
        return(): Promise<IteratorResult<T>> {
          state.closed = true;
          return Promise.resolve({ done: true, value: undefined });
        },
      };
    },
  };
  return { iterable, state };
}
