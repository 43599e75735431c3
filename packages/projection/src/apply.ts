import { type Event, InvalidArgumentError, type SignalOptions } from '@goes/event';
import { sleep, withSignal } from '@goes/streams';
import { ApplyError } from './errors.js';
import {
  type Guard,
  isGuard,
  isProgressAware,
  type ProgressAware,
  readProgress,
  type Target,
} from './target.js';

/**
 * What happens when a target's `applyEvent` throws: retry it `retries` times (waiting
 * `retryDelay × attempt` ms before each retry), then give up on the event: `stop` (default)
 * ends the apply by throwing {@link ApplyError} and leaves the progress before the event, so the
 * next job tries it again; `skip` reports the {@link ApplyError} to `onError` and moves on.
 *
 * @example
 * ```ts
 * await job.apply(target, { errorPolicy: { retries: 3, retryDelay: 100, giveUp: 'skip' } });
 * ```
 */
export interface ErrorPolicy {
  /** Extra attempts after the first failure. Default 0. */
  readonly retries?: number | undefined;
  /** Milliseconds before retry n is `n × retryDelay`. Default 0. */
  readonly retryDelay?: number | undefined;
  /** After the retries: `stop` (default) or `skip`. */
  readonly giveUp?: 'stop' | 'skip' | undefined;
}

/**
 * Options of {@link apply} and {@link applyStream}.
 *
 * @example
 * ```ts
 * await apply(target, events, { ignoreProgress: true, signal: AbortSignal.timeout(5_000) });
 * ```
 */
export interface ApplyOptions extends SignalOptions {
  /**
   * Apply events at or below the target's progress too (goes' `IgnoreProgress`). The progress
   * is still set to the position of each event dealt with.
   */
  readonly ignoreProgress?: boolean | undefined;
  /** An extra guard on top of the target's own `guardProjection`. */
  readonly guard?: ((event: Event) => boolean) | undefined;
  /** What to do when `applyEvent` throws. Default: stop at the first failure. */
  readonly errorPolicy?: ErrorPolicy | undefined;
  /** Receives every failure the policy skipped (a failure that stops the apply is thrown). */
  readonly onError?: ((error: ApplyError) => void) | undefined;
}

/**
 * What an apply did.
 *
 * @example
 * ```ts
 * const { applied, ignored, position } = await apply(target, events);
 * ```
 */
export interface ApplyResult {
  /** Events passed to `applyEvent` that succeeded. */
  readonly applied: number;
  /** Events not applied: at or below the progress, or rejected by a guard. */
  readonly ignored: number;
  /** Failed events the error policy skipped. */
  readonly skipped: number;
  /** The position of the last stored event dealt with, if any. */
  readonly position: number | undefined;
}

/**
 * Applies events to a target in order (goes' `projection.Apply`): for each event, skip it when
 * it is at or below a {@link ProgressAware} target's progress (position-based: exact, unlike
 * goes' time check that re-applied older events), skip it when a guard rejects it, otherwise call
 * `applyEvent` (awaiting a returned promise). After every event dealt with, a progress-aware
 * target's progress moves to its position. Events without a position (never stored) are applied
 * and do not move the progress.
 *
 * @throws {@link ApplyError} when `applyEvent` fails and the error policy stops;
 *   `signal.reason` when the signal aborts.
 * @example
 * ```ts
 * const counter = new OrderCount(); // extends Progressor
 * await apply(counter, await drain(store.query(query().name('order.placed'))));
 * await apply(counter, await drain(store.query(query().name('order.placed')))); // applies nothing new
 * ```
 */
export async function apply(
  target: Target,
  events: Iterable<Event>,
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  const applier = new EventApplier(target, options);
  try {
    for (const event of events) {
      const waiting = applier.one(event);
      if (waiting) await waiting;
    }
    return applier.result();
  } finally {
    applier.dispose();
  }
}

/**
 * Applies a stream of events to a target (goes' `projection.ApplyStream`), with the semantics of
 * {@link apply}. The stream is closed when the apply stops early (error or abort).
 *
 * @throws {@link ApplyError} when `applyEvent` fails and the error policy stops;
 *   `signal.reason` when the signal aborts; errors of the stream.
 * @example
 * ```ts
 * await applyStream(counter, store.query(query().name('order.placed').afterPosition(counter.progress())));
 * ```
 */
export async function applyStream(
  target: Target,
  events: AsyncIterable<Event> | Iterable<Event>,
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  if (!(Symbol.asyncIterator in events)) return apply(target, events, options);
  const applier = new EventApplier(target, options);
  try {
    for await (const event of withSignal(events, options.signal)) {
      const waiting = applier.one(event);
      if (waiting) await waiting;
    }
    return applier.result();
  } finally {
    applier.dispose();
  }
}

/**
 * The apply engine: the progress check, guards, error policy and progress updates for one
 * target. `one` returns a promise only when it has to wait (an async target or a retry), so
 * synchronous targets run without a promise per event.
 *
 * @internal
 */
export class EventApplier {
  readonly #target: Target;
  readonly #progress: ProgressAware | undefined;
  readonly #targetGuard: Guard | undefined;
  readonly #guard: ((event: Event) => boolean) | undefined;
  readonly #ignoreProgress: boolean;
  readonly #retries: number;
  readonly #retryDelay: number;
  readonly #skipFailures: boolean;
  readonly #onError: ((error: ApplyError) => void) | undefined;
  readonly #signal: AbortSignal | undefined;
  /** Mirrors `#signal.aborted`: a field read per event instead of the signal's getter. */
  #aborted = false;
  readonly #onAbort = () => {
    this.#aborted = true;
  };
  /** Events at or below this position are already applied (−1: no progress check). */
  #floor: number;
  #applied = 0;
  #ignored = 0;
  #skipped = 0;
  #position: number | undefined;

  constructor(target: Target, options: ApplyOptions = {}) {
    if (typeof target !== 'object' || target === null || typeof target.applyEvent !== 'function') {
      throw new InvalidArgumentError('apply: the target must have an applyEvent(event) method');
    }
    const policy = checkPolicy(options.errorPolicy ?? {});
    this.#target = target;
    this.#progress = isProgressAware(target) ? target : undefined;
    this.#targetGuard = isGuard(target) ? target : undefined;
    this.#guard = options.guard;
    this.#ignoreProgress = options.ignoreProgress ?? false;
    this.#retries = policy.retries;
    this.#retryDelay = policy.retryDelay;
    this.#skipFailures = policy.giveUp === 'skip';
    this.#onError = options.onError;
    this.#signal = options.signal;
    this.#floor = this.#progress && !this.#ignoreProgress ? readProgress(this.#progress) : -1;
    this.#signal?.throwIfAborted();
    this.#signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** Stops listening to the signal; call it when the apply is over. */
  dispose(): void {
    this.#signal?.removeEventListener('abort', this.#onAbort);
  }

  /** True when `one(event)` would skip the event as already applied. */
  isBehind(event: Event): boolean {
    return event.position !== undefined && event.position <= this.#floor;
  }

  /** Deals with one event; returns a promise only when it must be awaited. */
  one(event: Event): Promise<void> | undefined {
    if (this.#aborted) throw this.#signal?.reason;
    const position = event.position;
    if (position !== undefined && position <= this.#floor) {
      this.#ignored++;
      return undefined;
    }
    if (
      (this.#targetGuard !== undefined && !this.#targetGuard.guardProjection(event)) ||
      (this.#guard !== undefined && !this.#guard(event))
    ) {
      this.#ignored++;
      this.#advance(position);
      return undefined;
    }
    let result: void | PromiseLike<void>;
    try {
      result = this.#target.applyEvent(event);
    } catch (error) {
      return this.#retry(event, error, 1);
    }
    if (result !== undefined && typeof (result as PromiseLike<void>).then === 'function') {
      return this.#settle(event, result as PromiseLike<void>);
    }
    this.#applied++;
    this.#advance(position);
    return undefined;
  }

  result(): ApplyResult {
    return {
      applied: this.#applied,
      ignored: this.#ignored,
      skipped: this.#skipped,
      position: this.#position,
    };
  }

  async #settle(event: Event, pending: PromiseLike<void>): Promise<void> {
    try {
      await pending;
    } catch (error) {
      return this.#retry(event, error, 1);
    }
    this.#applied++;
    this.#advance(event.position);
  }

  async #retry(event: Event, error: unknown, attempts: number): Promise<void> {
    const signal = this.#signal;
    let failure = error;
    let tries = attempts;
    while (tries <= this.#retries) {
      if (signal?.aborted) throw signal.reason;
      if (this.#retryDelay > 0) await sleep(this.#retryDelay * tries, { signal });
      try {
        await this.#target.applyEvent(event);
        this.#applied++;
        this.#advance(event.position);
        return;
      } catch (next) {
        failure = next;
        tries++;
      }
    }
    // A target that failed because the apply was aborted did not fail on its own.
    if (signal?.aborted) throw signal.reason;
    const applyError = new ApplyError(event, tries, this.#skipFailures, failure);
    if (!this.#skipFailures) throw applyError;
    this.#skipped++;
    this.#advance(event.position);
    report(this.#onError, applyError);
  }

  #advance(position: number | undefined): void {
    if (position === undefined) return;
    this.#position = position;
    if (!this.#progress) return;
    if (this.#ignoreProgress) {
      this.#progress.setProgress(position);
      return;
    }
    if (position > this.#floor) {
      this.#floor = position;
      this.#progress.setProgress(position);
    }
  }
}

/**
 * Calls an error hook without letting it break the caller.
 *
 * @internal
 */
export function report<E>(hook: ((error: E) => void) | undefined, error: E): void {
  if (!hook) return;
  try {
    hook(error);
  } catch {
    // an error hook that throws must not stop a projection
  }
}

function checkPolicy(
  policy: ErrorPolicy,
): Required<{ [K in keyof ErrorPolicy]: NonNullable<ErrorPolicy[K]> }> {
  const retries = policy.retries ?? 0;
  const retryDelay = policy.retryDelay ?? 0;
  const giveUp = policy.giveUp ?? 'stop';
  if (!Number.isSafeInteger(retries) || retries < 0) {
    throw new InvalidArgumentError(
      `errorPolicy.retries ${String(retries)} must be a non-negative integer`,
    );
  }
  if (!(Number.isFinite(retryDelay) && retryDelay >= 0)) {
    throw new InvalidArgumentError(
      `errorPolicy.retryDelay ${String(retryDelay)} must be a non-negative number of milliseconds`,
    );
  }
  if (giveUp !== 'stop' && giveUp !== 'skip') {
    throw new InvalidArgumentError(
      `errorPolicy.giveUp ${JSON.stringify(giveUp)} must be "stop" or "skip"`,
    );
  }
  return { retries, retryDelay, giveUp };
}
