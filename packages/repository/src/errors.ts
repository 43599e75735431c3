import { type AggregateRef, formatRef, GoesError, isGoesError } from '@goes/event';

/**
 * A typed repository found no stored event of the aggregate (goes returned a version-0
 * aggregate instead, and its typed repository did not honour `model.ErrNotFound`).
 *
 * @example
 * ```ts
 * const product = await products.fetch(id).catch((e) => (isAggregateNotFoundError(e) ? undefined : Promise.reject(e)));
 * ```
 */
export class AggregateNotFoundError extends GoesError {
  readonly aggregate: AggregateRef;

  constructor(aggregate: AggregateRef) {
    super(
      'AGGREGATE_NOT_FOUND',
      `aggregate not found: ${formatRef(aggregate)} has no stored events`,
    );
    this.aggregate = { name: aggregate.name, id: aggregate.id };
  }
}

/**
 * The aggregate is soft-deleted: its last delete/restore event is a delete event (goes'
 * `ErrDeleted`). Also when that event is older than the snapshot the aggregate was loaded from.
 *
 * @example
 * ```ts
 * if (isAggregateDeletedError(error)) return notFound(error.aggregate);
 * ```
 */
export class AggregateDeletedError extends GoesError {
  readonly aggregate: AggregateRef;
  readonly version: number;

  constructor(aggregate: AggregateRef, version: number) {
    super('AGGREGATE_DELETED', `${formatRef(aggregate)} is soft-deleted (at version ${version})`);
    this.aggregate = { name: aggregate.name, id: aggregate.id };
    this.version = version;
  }
}

/**
 * `fetchVersion` asked for a version the aggregate does not have (goes' `ErrVersionNotFound`);
 * `actual` is the highest version found.
 *
 * @example
 * ```ts
 * await products.fetchVersion(id, 99); // VersionNotFoundError { version: 99, actual: 3 }
 * ```
 */
export class VersionNotFoundError extends GoesError {
  readonly aggregate: AggregateRef;
  readonly version: number;
  readonly actual: number;

  constructor(aggregate: AggregateRef, version: number, actual: number) {
    super(
      'VERSION_NOT_FOUND',
      `${formatRef(aggregate)} has no version ${version} (its highest version is ${actual})`,
    );
    this.aggregate = { name: aggregate.name, id: aggregate.id };
    this.version = version;
    this.actual = actual;
  }
}

/**
 * `delete` kept finding new events of the aggregate (concurrent writers appending while it
 * deleted). What it deleted stays deleted; call it again once the writers stopped.
 *
 * @example
 * ```ts
 * if (isGoesError(error, 'DELETE_INCOMPLETE')) await repository.delete(ref);
 * ```
 */
export class DeleteIncompleteError extends GoesError {
  readonly aggregate: AggregateRef;

  constructor(aggregate: AggregateRef, rounds: number) {
    super(
      'DELETE_INCOMPLETE',
      `could not delete ${formatRef(aggregate)}: new events kept arriving during ${rounds} rounds of deletion`,
    );
    this.aggregate = { name: aggregate.name, id: aggregate.id };
  }
}

/**
 * True for an {@link AggregateNotFoundError} (checked by code).
 *
 * @example
 * ```ts
 * if (isAggregateNotFoundError(error)) return 404;
 * ```
 */
export function isAggregateNotFoundError(error: unknown): error is AggregateNotFoundError {
  return isGoesError(error, 'AGGREGATE_NOT_FOUND');
}

/**
 * True for an {@link AggregateDeletedError} (checked by code).
 *
 * @example
 * ```ts
 * if (isAggregateDeletedError(error)) return 410;
 * ```
 */
export function isAggregateDeletedError(error: unknown): error is AggregateDeletedError {
  return isGoesError(error, 'AGGREGATE_DELETED');
}

/**
 * True for a {@link VersionNotFoundError} (checked by code).
 *
 * @example
 * ```ts
 * if (isVersionNotFoundError(error)) console.log(error.actual);
 * ```
 */
export function isVersionNotFoundError(error: unknown): error is VersionNotFoundError {
  return isGoesError(error, 'VERSION_NOT_FOUND');
}
