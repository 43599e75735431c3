import type { StreamOptions } from './options.js';
import { pipe } from './pipe.js';
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
  return pipe<T, S>(withSignal(source, options.signal), (value, out) => {
    if (predicate(value)) out.push(value as S);
  });
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
  return pipe<T, U>(withSignal(source, options.signal), async (value, out) => {
    out.push(await fn(value));
  });
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
  return pipe<T, T>(withSignal(source, options.signal), async (value, out) => {
    for (const injected of await fn(value)) out.push(injected);
    out.push(value);
  });
}
