/**
 * Event time: nanoseconds since the Unix epoch as a `bigint`. `Date` has only milliseconds,
 * and goes' consistency rules need strictly increasing nanosecond times within an aggregate.
 *
 * @example
 * ```ts
 * const t: Nanos = nowNanos();
 * ```
 */
export type Nanos = bigint;

const NS_PER_MS = 1_000_000n;
let anchorNanos = BigInt(Date.now()) * NS_PER_MS;
let anchorPerf = performance.now();
let last = 0n;

/**
 * The current time in nanoseconds since the epoch: wall-clock time at start, advanced by the
 * monotonic clock (`performance.now()`), re-anchored when the wall clock drifts away by more than
 * a few milliseconds. Successive calls in a process always return strictly increasing values.
 *
 * @example
 * ```ts
 * const before = nowNanos();
 * const after = nowNanos(); // after > before, always
 * ```
 */
export function nowNanos(): Nanos {
  const elapsed = performance.now() - anchorPerf;
  let now = anchorNanos + BigInt(Math.round(elapsed * 1e6));
  const wall = Date.now();
  const driftMs = Number(now / NS_PER_MS) - wall;
  if (driftMs > 5 || driftMs < -5) {
    anchorNanos = BigInt(wall) * NS_PER_MS;
    anchorPerf = performance.now();
    now = anchorNanos;
  }
  if (now <= last) now = last + 1n;
  last = now;
  return now;
}

/**
 * The `Date` of a nanosecond time (the sub-millisecond part is dropped).
 *
 * @example
 * ```ts
 * nanosToDate(event.time).toISOString();
 * ```
 */
export function nanosToDate(nanos: Nanos): Date {
  return new Date(Number(nanos / NS_PER_MS));
}

/**
 * The nanosecond time of a `Date`.
 *
 * @example
 * ```ts
 * query().timeMin(dateToNanos(new Date('2026-01-01')));
 * ```
 */
export function dateToNanos(date: Date): Nanos {
  return BigInt(date.getTime()) * NS_PER_MS;
}

/**
 * Formats a nanosecond time as an RFC 3339 string with all nine fractional digits, e.g.
 * `2026-11-27T17:18:21.123456789Z` (the form goes uses for `time.Time`).
 *
 * @example
 * ```ts
 * formatNanos(event.time);
 * ```
 */
export function formatNanos(nanos: Nanos): string {
  const millis = nanos / NS_PER_MS;
  const fraction = ((nanos % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n;
  const iso = new Date(Number(millis)).toISOString();
  return `${iso.slice(0, 19)}.${fraction.toString().padStart(9, '0')}Z`;
}
