import { type Event, GoesError, isGoesError } from '@goes/event';

/**
 * A projection's `applyEvent` threw for `event` and the error policy gave up on it (after
 * `attempts` tries). `skipped` tells whether the apply moved on (`giveUp: 'skip'`) or stopped
 * (`giveUp: 'stop'`, then this error is thrown and the target's progress stays before the event,
 * so the next job tries it again). The original error is the `cause`.
 *
 * @example
 * ```ts
 * try { await job.apply(target); } catch (error) {
 *   if (isApplyError(error)) console.error(error.event.name, error.event.position, error.cause);
 * }
 * ```
 */
export class ApplyError extends GoesError {
  readonly event: Event;
  readonly attempts: number;
  readonly skipped: boolean;

  constructor(event: Event, attempts: number, skipped: boolean, cause: unknown) {
    const where = event.position === undefined ? '' : ` at position ${event.position}`;
    super(
      'APPLY_FAILED',
      `applying event ${event.name} (${event.id})${where} failed after ${attempts} attempt(s)${skipped ? '; skipped' : ''}: ${describeCause(cause)}`,
      { cause },
    );
    this.event = event;
    this.attempts = attempts;
    this.skipped = skipped;
  }
}

/**
 * `job.aggregate(name)` found no event of an aggregate named `aggregateName` in the job
 * (goes' `ErrAggregateNotFound`).
 *
 * @example
 * ```ts
 * const id = await job.aggregate('order').catch((e) => (isGoesError(e, 'AGGREGATE_NOT_FOUND') ? undefined : Promise.reject(e)));
 * ```
 */
export class AggregateNotFoundError extends GoesError {
  readonly aggregateName: string;

  constructor(aggregateName: string) {
    super(
      'AGGREGATE_NOT_FOUND',
      `aggregate not found: the job has no event of an aggregate named ${JSON.stringify(aggregateName)}`,
    );
    this.aggregateName = aggregateName;
  }
}

/**
 * No running projection service accepted a remote trigger of schedule `schedule` within the
 * trigger timeout (goes' `ErrUnhandledTrigger`).
 *
 * @example
 * ```ts
 * await service.trigger('orders').catch((e) => isGoesError(e, 'UNHANDLED_TRIGGER') && console.warn(e.message));
 * ```
 */
export class UnhandledTriggerError extends GoesError {
  readonly schedule: string;
  readonly triggerId: string;

  constructor(schedule: string, triggerId: string, timeoutMs: number) {
    super(
      'UNHANDLED_TRIGGER',
      `unhandled trigger: no projection service accepted trigger ${triggerId} of schedule ${JSON.stringify(schedule)} within ${timeoutMs} ms`,
    );
    this.schedule = schedule;
    this.triggerId = triggerId;
  }
}

/**
 * A read-model repository has no model with this id (goes' `model.ErrNotFound`).
 *
 * @example
 * ```ts
 * const summary = await models.fetch(id).catch((e) => (isModelNotFoundError(e) ? undefined : Promise.reject(e)));
 * ```
 */
export class ModelNotFoundError extends GoesError {
  readonly modelId: string;

  constructor(modelId: string) {
    super('MODEL_NOT_FOUND', `model not found: ${JSON.stringify(modelId)}`);
    this.modelId = modelId;
  }
}

/**
 * A model save or delete expected a stored version that is not the one stored: another writer
 * changed the model in between (optimistic concurrency). `expected` is the version the writer
 * read (0 = "must not exist"), `actual` the stored one (0 = "does not exist"). Nothing was
 * written. `ModelRepository.use` retries on it with a freshly fetched model.
 *
 * @example
 * ```ts
 * await models.save(model, { expectedVersion: 3 }).catch((e) => isModelConflictError(e) && console.log(e.actual));
 * ```
 */
export class ModelConflictError extends GoesError {
  readonly modelId: string;
  readonly expected: number;
  readonly actual: number;

  constructor(modelId: string, expected: number, actual: number, options?: { cause?: unknown }) {
    super(
      'MODEL_CONFLICT',
      `model conflict on ${JSON.stringify(modelId)}: the write expected version ${expected} but ${actual} is stored`,
      options,
    );
    this.modelId = modelId;
    this.expected = expected;
    this.actual = actual;
  }
}

/**
 * A lookup has no value for `key` of the aggregate (goes' `lookup.ErrNotFound`).
 *
 * @example
 * ```ts
 * const email = await lookup.expect('user', 'email', userId).catch((e) => isGoesError(e, 'LOOKUP_NOT_FOUND') ? '' : Promise.reject(e));
 * ```
 */
export class LookupNotFoundError extends GoesError {
  readonly aggregateName: string;
  readonly key: string;
  readonly aggregateId: string;

  constructor(aggregateName: string, key: string, aggregateId: string) {
    super(
      'LOOKUP_NOT_FOUND',
      `lookup value not found: key ${JSON.stringify(key)} of ${aggregateName}(${aggregateId})`,
    );
    this.aggregateName = aggregateName;
    this.key = key;
    this.aggregateId = aggregateId;
  }
}

/**
 * A lookup value exists but failed the type check given to `expect` (goes' `lookup.ErrWrongType`).
 *
 * @example
 * ```ts
 * await lookup.expect('user', 'email', id, { check: (v): v is string => typeof v === 'string' }); // LookupTypeError for a number
 * ```
 */
export class LookupTypeError extends GoesError {
  readonly value: unknown;

  constructor(aggregateName: string, key: string, aggregateId: string, value: unknown) {
    super(
      'LOOKUP_WRONG_TYPE',
      `lookup value of key ${JSON.stringify(key)} of ${aggregateName}(${aggregateId}) has the wrong type: got ${typeof value}`,
    );
    this.value = value;
  }
}

/**
 * True for an {@link ApplyError} (by code).
 *
 * @example
 * ```ts
 * if (isApplyError(error)) console.log(error.event.position);
 * ```
 */
export function isApplyError(error: unknown): error is ApplyError {
  return isGoesError(error, 'APPLY_FAILED');
}

/**
 * True for a {@link ModelNotFoundError} (by code).
 *
 * @example
 * ```ts
 * if (isModelNotFoundError(error)) return undefined;
 * ```
 */
export function isModelNotFoundError(error: unknown): error is ModelNotFoundError {
  return isGoesError(error, 'MODEL_NOT_FOUND');
}

/**
 * True for a {@link ModelConflictError} (by code).
 *
 * @example
 * ```ts
 * if (isModelConflictError(error)) console.log(error.expected, error.actual);
 * ```
 */
export function isModelConflictError(error: unknown): error is ModelConflictError {
  return isGoesError(error, 'MODEL_CONFLICT');
}

function describeCause(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  try {
    return String(cause);
  } catch {
    return 'unprintable error';
  }
}
