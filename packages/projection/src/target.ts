import { type Event, InvalidArgumentError } from '@goes/event';

/**
 * A projection target (goes' `projection.Target`): anything events can be applied to. A target
 * may return a promise (a read model that writes per event); the apply waits for it before the
 * next event.
 *
 * @example
 * ```ts
 * const counter: Target = { count: 0, applyEvent() { this.count++; } } as Target & { count: number };
 * ```
 */
export interface Target<E extends Event = Event> {
  applyEvent(event: E): void | PromiseLike<void>;
}

/**
 * A target that tracks its progress as the store's global position of the last event it has
 * seen (goes' `ProgressAware`, which used time and ids; positions are exact and survive clock
 * skew). Applying skips every event at or below the progress, so an event is applied once even
 * when a job reads it again after a restart. Persist the progress together with the target's
 * state (in the same document or row) to keep that guarantee across processes.
 *
 * The apply calls `setProgress` after every event it has dealt with (applied, rejected by a
 * guard, or skipped by the error policy), so the state and the progress agree at every `await`.
 *
 * @example
 * ```ts
 * class Totals extends Progressor implements Target {
 *   total = 0;
 *   applyEvent(event: Event) { this.total += (event.data as { amount: number }).amount; }
 * }
 * ```
 */
export interface ProgressAware {
  /** The position of the last event dealt with; 0 when none. */
  progress(): number;
  /** Records the position of the last event dealt with (0 resets). */
  setProgress(position: number): void;
}

/**
 * A target with custom reset logic (goes' `Resetter`): a reset job calls `setProgress(0)` and
 * then `reset()` before it applies the full history again.
 *
 * @example
 * ```ts
 * class Totals extends Progressor implements Target, Resetter {
 *   total = 0;
 *   reset() { this.total = 0; }
 *   applyEvent(event: Event) { this.total++; }
 * }
 * ```
 */
export interface Resetter {
  reset(): void | PromiseLike<void>;
}

/**
 * A target that decides which events it accepts (goes' `Guard`): events for which
 * `guardProjection` returns false are not applied (the progress still moves past them).
 * {@link queryGuard} and {@link eventGuard} build guards.
 *
 * @example
 * ```ts
 * class OneOrder implements Target, Guard {
 *   constructor(readonly id: string) {}
 *   guardProjection(event: Event) { return event.aggregate?.id === this.id; }
 *   applyEvent(event: Event) {}
 * }
 * ```
 */
export interface Guard {
  guardProjection(event: Event): boolean;
}

/**
 * An embeddable {@link ProgressAware} implementation (goes' `Progressor`): extend it, or copy its
 * `position` field into your persisted state. `position` is a plain number, so it serialises
 * with the read model as JSON, BSON or a SQL column.
 *
 * @example
 * ```ts
 * class OrderCount extends Progressor implements Target {
 *   count = 0;
 *   applyEvent() { this.count++; }
 * }
 * const counter = new OrderCount();
 * await apply(counter, await drain(store.query(query().name('order.placed'))));
 * counter.position; // the position of the last order.placed
 * ```
 */
export class Progressor implements ProgressAware {
  /** The global position of the last event dealt with; 0 when none. */
  position = 0;

  progress(): number {
    return this.position;
  }

  setProgress(position: number): void {
    this.position = position;
  }
}

/**
 * True when `target` implements {@link ProgressAware}.
 *
 * @example
 * ```ts
 * if (isProgressAware(target)) console.log(target.progress());
 * ```
 */
export function isProgressAware(target: unknown): target is ProgressAware {
  const candidate = target as Partial<ProgressAware> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.progress === 'function' &&
    typeof candidate.setProgress === 'function'
  );
}

/**
 * True when `target` implements {@link Resetter}.
 *
 * @example
 * ```ts
 * if (isResetter(target)) await target.reset();
 * ```
 */
export function isResetter(target: unknown): target is Resetter {
  const candidate = target as Partial<Resetter> | null;
  return (
    typeof candidate === 'object' && candidate !== null && typeof candidate.reset === 'function'
  );
}

/**
 * True when `target` implements {@link Guard}.
 *
 * @example
 * ```ts
 * if (isGuard(target) && !target.guardProjection(event)) return;
 * ```
 */
export function isGuard(target: unknown): target is Guard {
  const candidate = target as Partial<Guard> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.guardProjection === 'function'
  );
}

/**
 * Reads a target's progress, checking that it is a usable position.
 *
 * @internal
 */
export function readProgress(target: ProgressAware): number {
  const position = target.progress();
  if (!Number.isSafeInteger(position) || position < 0) {
    throw new InvalidArgumentError(
      `the target's progress() returned ${String(position)}; it must be a non-negative integer position`,
    );
  }
  return position;
}
