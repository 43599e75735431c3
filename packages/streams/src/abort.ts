/**
 * Races `promise` against `signal`: resolves or rejects like `promise`, or rejects with
 * `signal.reason` as soon as the signal aborts. Without a signal it returns `promise` itself.
 *
 * @example
 * ```ts
 * const result = await abortable(fetchSomething(), AbortSignal.timeout(500));
 * ```
 */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    // The caller gives up on `promise`; keep its rejection from surfacing as unhandled.
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      promise.catch(() => {});
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * Resolves after `ms` milliseconds, or rejects with `signal.reason` when the signal aborts first.
 *
 * @example
 * ```ts
 * await sleep(100, { signal });
 * ```
 */
export function sleep(
  ms: number,
  options: { signal?: AbortSignal | undefined } = {},
): Promise<void> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Closes an iterator without waiting for it and without letting its failure escape.
 *
 * An async generator that is suspended inside an `await` only runs `return()` after that await
 * settles, which may be never (a subscription waiting for the next event). So when a consumer
 * gives up, it asks the source to close and moves on.
 *
 * @internal
 */
export function closeQuietly(iterator: AsyncIterator<unknown>): void {
  try {
    const result = iterator.return?.();
    if (result) result.catch(() => {});
  } catch {
    // a broken return() must not hide the reason the consumer stopped
  }
}
