import { type AggregateRef, type Event, formatNanos, type Nanos } from '@goes/event';
import { ConsistencyError } from './errors.js';

/**
 * Options of {@link validateConsistency}.
 *
 * @example
 * ```ts
 * validateConsistency(ref, 0, history, { checkTime: false });
 * ```
 */
export interface ConsistencyOptions {
  /**
   * Check that every event's time is after the previous event's (kind `time`). Default true
   * here; histories read from a store are not time-checked by default (see {@link applyHistory}).
   */
  readonly checkTime?: boolean | undefined;
}

/**
 * Checks events one at a time against the rules of {@link validateConsistency}; used where
 * events arrive as a stream, so a history never has to be held in memory to be validated.
 *
 * @internal
 */
export class ConsistencyChecker {
  readonly #ref: AggregateRef;
  readonly #currentVersion: number;
  readonly #checkTime: boolean;
  #expected: number;
  #previousTime: Nanos | undefined;
  #index = 0;

  constructor(ref: AggregateRef, currentVersion: number, checkTime: boolean) {
    this.#ref = ref;
    this.#currentVersion = currentVersion;
    this.#expected = currentVersion + 1;
    this.#checkTime = checkTime;
  }

  /** Checks the next event. @throws {@link ConsistencyError} */
  check(event: Event): void {
    const index = this.#index++;
    const aggregate = event.aggregate;
    if (aggregate === undefined || aggregate.id !== this.#ref.id) {
      this.#fail(
        'id',
        index,
        event,
        `has aggregate id ${aggregate ? aggregate.id : '(none)'}, want ${this.#ref.id}`,
      );
    }
    if (aggregate.name !== this.#ref.name) {
      this.#fail(
        'name',
        index,
        event,
        `has aggregate name "${aggregate.name}", want "${this.#ref.name}"`,
      );
    }
    if (aggregate.version !== this.#expected) {
      const why =
        aggregate.version < this.#expected
          ? 'repeats or precedes an earlier version'
          : 'leaves a gap (versions must follow each other)';
      this.#fail(
        'version',
        index,
        event,
        `has version ${aggregate.version}, want ${this.#expected}: it ${why}`,
      );
    }
    if (this.#checkTime && this.#previousTime !== undefined && event.time <= this.#previousTime) {
      this.#fail(
        'time',
        index,
        event,
        `has time ${formatNanos(event.time)}, want after ${formatNanos(this.#previousTime)}`,
      );
    }
    this.#expected++;
    this.#previousTime = event.time;
  }

  #fail(kind: ConsistencyError['kind'], index: number, event: Event, detail: string): never {
    throw new ConsistencyError(kind, this.#ref, this.#currentVersion, index, event, detail);
  }
}

/**
 * Validates that `events` continue the aggregate `ref` at `currentVersion` (goes'
 * `ValidateConsistency`): every event belongs to the aggregate (kinds `id`, `name`), versions
 * are exactly `currentVersion + 1`, `+ 2`, … (kind `version`), and each time is after the
 * previous one (kind `time`, unless `checkTime: false`). The first violation is thrown.
 *
 * Gap policy: goes accepted gaps (v1, v3, v7); here a gap is an error, as the event store
 * refuses to store one. A gap in a stored history means events are missing, and applying the
 * rest would build a state that never existed.
 *
 * @throws {@link ConsistencyError}
 * @example
 * ```ts
 * validateConsistency({ name: 'product', id }, product.version, product.changes);
 * ```
 */
export function validateConsistency(
  ref: AggregateRef,
  currentVersion: number,
  events: readonly Event[],
  options: ConsistencyOptions = {},
): void {
  const checker = new ConsistencyChecker(ref, currentVersion, options.checkTime ?? true);
  for (const event of events) checker.check(event);
}
