import type { AggregateRef } from './event.js';

const GOES_ERROR_BRAND = Symbol.for('goes.error');

/**
 * The stable codes of goes' errors. Code that handles errors checks `code` (or uses the `isX`
 * guards), which keeps working when two copies of a package are installed.
 *
 * @example
 * ```ts
 * if (isGoesError(error, 'VERSION_CONFLICT')) retry();
 * ```
 */
export type GoesErrorCode =
  | 'VERSION_CONFLICT'
  | 'DUPLICATE_EVENT'
  | 'EVENT_NOT_FOUND'
  | 'INVALID_EVENT'
  | 'INVALID_QUERY'
  | 'INVALID_ARGUMENT'
  | 'CLOSED'
  | 'SUBSCRIBER_OVERFLOW'
  | 'CONNECTION_FAILED'
  | (string & {});

/**
 * Base class of goes' errors: a stable `code`, a message that names the offending value, and the
 * underlying error as `cause` when there is one.
 *
 * @example
 * ```ts
 * class QuotaError extends GoesError {
 *   constructor() { super('QUOTA_EXCEEDED', 'quota exceeded'); }
 * }
 * ```
 */
export class GoesError extends Error {
  readonly code: GoesErrorCode;

  constructor(code: GoesErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }

  static {
    // A brand in the global symbol registry: it marks goes' errors across duplicate installs of
    // this package, so guards need not trust any object that merely has a string `code`
    // (driver errors have SQLSTATEs, Node's have ECONNREFUSED). @goes/codec's errors carry it too.
    Object.defineProperty(GoesError.prototype, GOES_ERROR_BRAND, { value: true });
  }
}

/**
 * An append did not follow the stored version of its aggregate: `expected` is the version the
 * writer assumed was current (first new version − 1), `actual` the version actually stored.
 * Every store throws it atomically, also with concurrent writers in many processes; nothing of
 * the batch is stored. `Repository.use` retries on it.
 *
 * @example
 * ```ts
 * try { await store.insert(changes); } catch (e) {
 *   if (isVersionConflictError(e)) console.log(e.aggregate, e.expected, e.actual);
 * }
 * ```
 */
export class VersionConflictError extends GoesError {
  readonly aggregate: AggregateRef;
  readonly expected: number;
  readonly actual: number;

  constructor(
    aggregate: AggregateRef,
    expected: number,
    actual: number,
    options?: { cause?: unknown },
  ) {
    super(
      'VERSION_CONFLICT',
      `version conflict on ${aggregate.name}(${aggregate.id}): the append expected version ${expected} but ${actual} is stored`,
      options,
    );
    this.aggregate = { name: aggregate.name, id: aggregate.id };
    this.expected = expected;
    this.actual = actual;
  }
}

/**
 * An event with this id is already stored, or the batch holds the id twice.
 *
 * @example
 * ```ts
 * await store.insert([event]);
 * await store.insert([event]); // DuplicateEventError
 * ```
 */
export class DuplicateEventError extends GoesError {
  readonly eventId: string;

  constructor(eventId: string, options?: { cause?: unknown }) {
    super(
      'DUPLICATE_EVENT',
      `duplicate event: an event with id ${eventId} already exists`,
      options,
    );
    this.eventId = eventId;
  }
}

/**
 * `find` found no event with this id.
 *
 * @example
 * ```ts
 * await store.find(uuidv7()); // EventNotFoundError
 * ```
 */
export class EventNotFoundError extends GoesError {
  readonly eventId: string;

  constructor(eventId: string) {
    super('EVENT_NOT_FOUND', `event not found: ${eventId}`);
    this.eventId = eventId;
  }
}

/**
 * An event is malformed (bad id, empty name, bad version or time, a batch whose versions of one
 * aggregate do not follow each other). `index` is its position in the batch.
 *
 * @example
 * ```ts
 * await store.insert([{ ...event, id: 'nope' }]); // InvalidEventError naming "nope"
 * ```
 */
export class InvalidEventError extends GoesError {
  readonly index: number | undefined;

  constructor(message: string, index?: number) {
    super('INVALID_EVENT', index === undefined ? message : `event #${index}: ${message}`);
    this.index = index;
  }
}

/**
 * A query is malformed (an invalid UUID, an empty name, a bad range or sort). Thrown when the
 * query is made, before anything is read.
 *
 * @example
 * ```ts
 * store.query({ ids: ['nope'] }); // throws InvalidQueryError naming "nope"
 * ```
 */
export class InvalidQueryError extends GoesError {
  constructor(message: string) {
    super('INVALID_QUERY', `invalid query: ${message}`);
  }
}

/**
 * An argument other than an event or query is invalid (an empty subscription name, a bad option).
 *
 * @example
 * ```ts
 * createMemoryEventBus({ bufferSize: 0 }); // InvalidArgumentError
 * ```
 */
export class InvalidArgumentError extends GoesError {
  constructor(message: string) {
    super('INVALID_ARGUMENT', message);
  }
}

/**
 * The store, bus or subscription was closed.
 *
 * @example
 * ```ts
 * await bus.close();
 * await bus.publish([event]); // ClosedError
 * ```
 */
export class ClosedError extends GoesError {
  constructor(what: string) {
    super('CLOSED', `${what} is closed`);
  }
}

/**
 * A subscriber did not keep up and its bounded queue overflowed. With the `fail` policy the
 * subscription ends with this error; with `drop` it is reported to `onError`.
 *
 * @example
 * ```ts
 * bus.subscribe(['*'], { overflow: 'drop', onError: (e) => isGoesError(e, 'SUBSCRIBER_OVERFLOW') && warn(e) });
 * ```
 */
export class SubscriberOverflowError extends GoesError {
  readonly dropped: number;

  constructor(capacity: number, dropped: number) {
    super(
      'SUBSCRIBER_OVERFLOW',
      `subscriber overflow: ${dropped} event(s) dropped because the subscriber's queue of ${capacity} was full`,
    );
    this.dropped = dropped;
  }
}

/**
 * A backend could not be reached or set up. `retryable` says whether trying again may help.
 *
 * @example
 * ```ts
 * if (isGoesError(error, 'CONNECTION_FAILED') && (error as ConnectionError).retryable) await retry();
 * ```
 */
export class ConnectionError extends GoesError {
  readonly retryable: boolean;

  constructor(message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super('CONNECTION_FAILED', message, { cause: options.cause });
    this.retryable = options.retryable ?? true;
  }
}

/**
 * True for an error of goes (any package, any installed copy), optionally with a specific code.
 * It checks a brand that every goes error carries (`Symbol.for('goes.error')`) and the `code`,
 * not the class, so it works across duplicate installs; a driver error that happens to have a
 * string `code` (a SQLSTATE, `ECONNREFUSED`) is not a goes error.
 *
 * @example
 * ```ts
 * if (isGoesError(error, 'EVENT_NOT_FOUND')) return undefined;
 * ```
 */
export function isGoesError(error: unknown, code?: GoesErrorCode): error is GoesError {
  if (typeof error !== 'object' || error === null) return false;
  if ((error as { [GOES_ERROR_BRAND]?: unknown })[GOES_ERROR_BRAND] !== true) return false;
  const actual = (error as { code?: unknown }).code;
  return typeof actual === 'string' && (code === undefined || actual === code);
}

/**
 * True for a {@link VersionConflictError} (by code).
 *
 * @example
 * ```ts
 * if (isVersionConflictError(error)) console.log(error.expected, error.actual);
 * ```
 */
export function isVersionConflictError(error: unknown): error is VersionConflictError {
  return isGoesError(error, 'VERSION_CONFLICT');
}
