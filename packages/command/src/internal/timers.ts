/** A timer handle of the host (Node's `Timeout`, a number in browsers). */
export type Timer = ReturnType<typeof setTimeout>;

/**
 * Starts a one-shot timer that calls `fn(arg)`; passing the argument instead of capturing it
 * saves a closure per command on hot paths. Bounded timers (dispatch and handler deadlines) keep
 * the process alive on purpose: a pending dispatch must settle rather than vanish when the
 * process has nothing else to do.
 */
export function startTimer<A>(ms: number, fn: (arg: A) => void, arg: A): Timer {
  return setTimeout(fn, ms, arg);
}

/**
 * Starts a repeating timer that does not keep the process alive (where the host supports it), for
 * background chores such as heartbeats.
 */
export function startBackgroundInterval(ms: number, fn: () => void): Timer {
  const timer = setInterval(fn, ms);
  (timer as { unref?: () => void }).unref?.();
  return timer;
}

/** A one-shot timer that does not keep the process alive (background retries). */
export function startBackgroundTimer(ms: number, fn: () => void): Timer {
  const timer = setTimeout(fn, ms);
  (timer as { unref?: () => void }).unref?.();
  return timer;
}

/** Milliseconds on the monotonic clock. */
export function monotonicNow(): number {
  return performance.now();
}
