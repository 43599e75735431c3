import { InvalidArgumentError } from '@goes/event';

/** Default assign timeout (goes' `DefaultAssignTimeout`). */
export const DEFAULT_ASSIGN_TIMEOUT = 5_000;
/** Default receive timeout (goes' `DefaultReceiveTimeout`). */
export const DEFAULT_RECEIVE_TIMEOUT = 10_000;
/** Default execution timeout (goes has none; every pending state here must expire). */
export const DEFAULT_EXECUTION_TIMEOUT = 30_000;

/** The largest delay timers accept (about 24.8 days). */
const MAX_TIMER = 2_147_483_647;

/** A timeout option: a positive, finite number of milliseconds, or the fallback when absent. */
export function checkTimeout(option: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0) || value > MAX_TIMER) {
    throw new InvalidArgumentError(
      `${option} ${String(value)} must be a positive number of milliseconds (at most ${MAX_TIMER})`,
    );
  }
  return value;
}

/** A count option: a positive integer, or the fallback when absent. */
export function checkCount(option: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) {
    throw new InvalidArgumentError(`${option} ${String(value)} must be a positive integer`);
  }
  return value;
}

/** Reports an error without letting a throwing reporter break the caller. */
export function safeReport(onError: (error: unknown) => void, error: unknown): void {
  try {
    onError(error);
  } catch {
    // an error reporter that throws has nowhere left to report to
  }
}

/** The default `onError`: goes logged such errors to stderr. */
export function defaultOnError(error: unknown): void {
  console.error('[goes command bus]', error);
}
