/**
 * Async-iterable helpers: goes' `helper/streams` for TypeScript. Every helper honours an
 * `AbortSignal` and closes its sources (calls `return()`) when it stops early or fails.
 *
 * @packageDocumentation
 */
export { abortable, sleep } from './abort.js';
export { type Channel, type ChannelOptions, createChannel } from './channel.js';
export { drain, first, forEach, take, walk } from './consume.js';
export { fanIn } from './fan-in.js';
export { fromArray } from './from-array.js';
export type { StreamOptions } from './options.js';
export { before, filter, map } from './transform.js';
export { withSignal } from './with-signal.js';
