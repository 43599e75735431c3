import type { StreamOptions } from './options.js';
import { withSignal } from './with-signal.js';

/**
 * Keeps the values for which every predicate returns true (goes' `streams.Filter`).
 * Closing the result closes `source`.
 *
 * @example
 * ```ts
 * const orders = filter(events, (e) => e.aggregate?.name === 'order');
 * ```
 */
export function filter<T, S extends T = T>(
  source: AsyncIterable<T>,
  predicate: ((value: T) => value is S) | ((value: T) => boolean),
  options: StreamOptions = {},
): AsyncIterable<S> {
  const input = withSignal(source, options.signal);
  return {
    async *[Symbol.asyncIterator]() {
      for await (const value of input) {
        if (predicate(value)) yield value as S;
      }
    },
  };
}

/**
 * Transforms every value with `fn`, which may be async (goes' `streams.Map`).
 * Closing the result closes `source`.
 *
 * @example
 * ```ts
 * const names = map(events, (e) => e.name);
 * ```
 */
export function map<T, U>(
  source: AsyncIterable<T>,
  fn: (value: T) => U | Promise<U>,
  options: StreamOptions = {},
): AsyncIterable<U> {
  const input = withSignal(source, options.signal);
  return {
    async *[Symbol.asyncIterator]() {
      for await (const value of input) yield await fn(value);
    },
  };
}

/**
 * For every value, first emits the values `fn` returns for it, then the value itself
 * (goes' `streams.Before`, used to inject events ahead of the one they precede).
 *
 * @example
 * ```ts
 * const withMarkers = before(events, (e) => (e.name === 'day.closed' ? [marker(e)] : []));
 * ```
 */
export function before<T>(
  source: AsyncIterable<T>,
  fn: (value: T) => Iterable<T> | Promise<Iterable<T>>,
  options: StreamOptions = {},
): AsyncIterable<T> {
  const input = withSignal(source, options.signal);
  return {
    async *[Symbol.asyncIterator]() {
      for await (const value of input) {
        yield* await fn(value);
        yield value;
      }
    },
  };
}
