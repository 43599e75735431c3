/**
 * The longest delay a Node.js timer can wait: `setTimeout` turns anything above 2^31 − 1 ms
 * (about 24.8 days) into 1 ms (with a TimeoutOverflowWarning), so a "practically never" option
 * such as `pollIntervalMs: Number.MAX_SAFE_INTEGER` would fire every millisecond instead.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A delay in milliseconds that a timer can wait: longer ones are capped at {@link MAX_TIMER_MS}. */
export function timerMs(ms: number): number {
  return Math.min(ms, MAX_TIMER_MS);
}
