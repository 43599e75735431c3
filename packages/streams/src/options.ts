/**
 * Options accepted by every stream helper.
 *
 * @example
 * ```ts
 * const all = await drain(events, { signal: AbortSignal.timeout(1_000) });
 * ```
 */
export interface StreamOptions {
  /** Aborting it stops the helper: it closes its sources and rejects with `signal.reason`. */
  readonly signal?: AbortSignal | undefined;
}
