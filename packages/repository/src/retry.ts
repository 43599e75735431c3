import { InvalidArgumentError, isVersionConflictError } from '@goes/event';

/**
 * How long to wait between attempts: exponential from `initialMs`, multiplied by `multiplier`
 * per attempt, capped at `maxMs`, with full jitter (a random wait between 0 and that) unless
 * `jitter` is false. Jitter spreads writers that conflicted together, so they do not collide
 * again.
 *
 * @example
 * ```ts
 * const backoff: BackoffOptions = { initialMs: 10, maxMs: 1_000, multiplier: 3 };
 * ```
 */
export interface BackoffOptions {
  /** Default 5 ms. */
  readonly initialMs?: number | undefined;
  /** Default 500 ms. */
  readonly maxMs?: number | undefined;
  /** Default 2. */
  readonly multiplier?: number | undefined;
  /** Default true. */
  readonly jitter?: boolean | undefined;
}

/**
 * When `use` tries again (goes' `Retryer`, which lived on the aggregate; here it is an option of
 * the repository or of one call). Every attempt starts from a fresh aggregate.
 *
 * @example
 * ```ts
 * await products.use(id, (p) => p.price(100), { retry: { maxAttempts: 20, backoff: { initialMs: 1 } } });
 * ```
 */
export interface RetryPolicy {
  /** Attempts in total, the first included. Default 10. */
  readonly maxAttempts?: number | undefined;
  /** The wait before the next attempt, as options or as `(attempt) => ms` (attempt from 1). */
  readonly backoff?: BackoffOptions | ((attempt: number) => number) | undefined;
  /** Which errors are worth another attempt. Default: {@link VersionConflictError} only. */
  readonly retryIf?: ((error: unknown) => boolean) | undefined;
}

/** A retry policy with every field decided. @internal */
export interface ResolvedRetryPolicy {
  readonly maxAttempts: number;
  readonly delay: (attempt: number) => number;
  readonly retryIf: (error: unknown) => boolean;
}

/**
 * The default retry policy of `use`: 10 attempts, waits of 5 ms doubling to at most 500 ms with
 * full jitter, on {@link VersionConflictError} only.
 *
 * @example
 * ```ts
 * createRepository({ store, retry: { ...DEFAULT_RETRY_POLICY, maxAttempts: 20 } });
 * ```
 */
export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  maxAttempts: 10,
  backoff: Object.freeze({ initialMs: 5, maxMs: 500, multiplier: 2, jitter: true }),
  retryIf: isVersionConflictError,
});

/**
 * Fills in a policy's defaults and checks it; `false` means a single attempt.
 *
 * @internal
 */
export function resolveRetryPolicy(policy: RetryPolicy | false | undefined): ResolvedRetryPolicy {
  if (policy === false) return { maxAttempts: 1, delay: () => 0, retryIf: () => false };
  const merged = { ...DEFAULT_RETRY_POLICY, ...stripUndefined(policy ?? {}) };
  const maxAttempts = merged.maxAttempts as number;
  if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1) {
    throw new InvalidArgumentError(
      `retry.maxAttempts ${String(maxAttempts)} must be a positive integer`,
    );
  }
  const backoff = merged.backoff as NonNullable<RetryPolicy['backoff']>;
  let delay: (attempt: number) => number;
  if (typeof backoff === 'function') {
    delay = backoff;
  } else {
    const initial = backoff.initialMs ?? 5;
    const max = backoff.maxMs ?? 500;
    const multiplier = backoff.multiplier ?? 2;
    const jitter = backoff.jitter ?? true;
    for (const [name, value] of [
      ['initialMs', initial],
      ['maxMs', max],
      ['multiplier', multiplier],
    ] as const) {
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
        throw new InvalidArgumentError(
          `retry.backoff.${name} ${String(value)} must be a non-negative number`,
        );
      }
    }
    delay = (attempt) => {
      const ceiling = Math.min(max, initial * multiplier ** (attempt - 1));
      return jitter ? Math.random() * ceiling : ceiling;
    };
  }
  return { maxAttempts, delay, retryIf: merged.retryIf as (error: unknown) => boolean };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
