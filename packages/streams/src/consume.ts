import { abortable, closeQuietly } from './abort.js';
import type { StreamOptions } from './options.js';

/**
 * Calls `fn` for every value of `source` in order and waits for it (goes' `streams.Walk`).
 * Stops at the first error thrown by the source or by `fn`, which it rethrows, and when the
 * signal aborts; in every case the source is closed.
 *
 * @example
 * ```ts
 * await walk(store.query(query().name('order.placed')), (event) => {
 *   total += event.data.amount;
 * });
 * ```
 */
export async function walk<T>(
  source: AsyncIterable<T>,
  fn: (value: T) => void | Promise<void>,
  options: StreamOptions = {},
): Promise<void> {
  const { signal } = options;
  signal?.throwIfAborted();
  if (!signal) {
    for await (const value of source) await fn(value);
    return;
  }
  const iterator = source[Symbol.asyncIterator]();
  try {
    for (;;) {
      const result = await abortable(iterator.next(), signal);
      if (result.done) return;
      await fn(result.value);
      signal.throwIfAborted();
    }
  } catch (error) {
    closeQuietly(iterator);
    throw error;
  }
}

/**
 * Collects every value of `source` into an array (goes' `streams.Drain` / `All`).
 *
 * @example
 * ```ts
 * const events = await drain(store.query(query().aggregate('product', id)));
 * ```
 */
export async function drain<T>(
  source: AsyncIterable<T>,
  options: StreamOptions = {},
): Promise<T[]> {
  const values: T[] = [];
  await walk(
    source,
    (value) => {
      values.push(value);
    },
    options,
  );
  return values;
}

/**
 * Collects up to `n` values and then closes `source` (goes' `streams.Take`). Fewer values come
 * back when the source ends first; `n <= 0` reads nothing.
 *
 * @example
 * ```ts
 * const firstTen = await take(subscription, 10, { signal: AbortSignal.timeout(1_000) });
 * ```
 */
export async function take<T>(
  source: AsyncIterable<T>,
  n: number,
  options: StreamOptions = {},
): Promise<T[]> {
  const { signal } = options;
  signal?.throwIfAborted();
  const values: T[] = [];
  if (n <= 0) return values;
  const iterator = source[Symbol.asyncIterator]();
  try {
    while (values.length < n) {
      const result = await abortable(iterator.next(), signal);
      if (result.done) return values;
      values.push(result.value);
    }
  } catch (error) {
    closeQuietly(iterator);
    throw error;
  }
  closeQuietly(iterator);
  return values;
}

/**
 * The next value of `source`, or `undefined` when it ends without one (goes' `streams.Await`).
 * An error of the source is thrown. The source is closed afterwards.
 *
 * @example
 * ```ts
 * const created = await first(bus.subscribe(['product.created']), { signal });
 * ```
 */
export async function first<T>(
  source: AsyncIterable<T>,
  options: StreamOptions = {},
): Promise<T | undefined> {
  const [value] = await take(source, 1, options);
  return value;
}

/**
 * Calls `fn` for every value; an error thrown by `fn` goes to `onError` and iteration continues
 * (goes' `streams.ForEach`). An error of the source itself ends the loop and is passed to
 * `onError` as well, since an async iterable cannot continue after throwing.
 *
 * @example
 * ```ts
 * await forEach(events, apply, (error) => log.warn(error));
 * ```
 */
export async function forEach<T>(
  source: AsyncIterable<T>,
  fn: (value: T) => void | Promise<void>,
  onError: (error: unknown) => void,
  options: StreamOptions = {},
): Promise<void> {
  try {
    await walk(
      source,
      async (value) => {
        try {
          await fn(value);
        } catch (error) {
          onError(error);
        }
      },
      options,
    );
  } catch (error) {
    if (options.signal?.aborted && error === options.signal.reason) throw error;
    onError(error);
  }
}
