import { type AggregateRef, type Event, formatRef, GoesError, isGoesError } from '@goes/event';

/**
 * What kind of rule an event broke (goes' `ConsistencyKind`):
 * - `id`: the event belongs to another aggregate id (or to no aggregate);
 * - `name`: the event belongs to another aggregate name;
 * - `version`: the version does not follow the previous one (it must be exactly previous + 1,
 *   starting at the aggregate's version + 1; goes accepted gaps, here a gap is an error);
 * - `time`: the event's time is not after the previous event's time (nanoseconds).
 *
 * @example
 * ```ts
 * if (isConsistencyError(error) && error.kind === 'version') console.log('gap or repeat');
 * ```
 */
export type ConsistencyKind = 'id' | 'name' | 'version' | 'time';

/**
 * Events do not form a consistent history of an aggregate (goes' `ConsistencyError`).
 * `index` is the offending event's index in the batch or history, `currentVersion` the version the
 * batch had to follow. Thrown by validation in `save` (before anything is stored), by
 * {@link applyHistory} and by {@link histories}.
 *
 * @example
 * ```ts
 * try { validateConsistency(ref, 0, events); } catch (e) {
 *   if (isConsistencyError(e)) console.log(e.kind, e.index, e.event.id);
 * }
 * ```
 */
export class ConsistencyError extends GoesError {
  readonly kind: ConsistencyKind;
  readonly aggregate: AggregateRef;
  readonly currentVersion: number;
  readonly index: number;
  readonly event: Event;

  constructor(
    kind: ConsistencyKind,
    aggregate: AggregateRef,
    currentVersion: number,
    index: number,
    event: Event,
    detail: string,
  ) {
    super(
      'AGGREGATE_INCONSISTENT',
      `inconsistent history of ${formatRef(aggregate)}: event #${index} "${event.name}" (${event.id}) ${detail}`,
    );
    this.kind = kind;
    this.aggregate = { name: aggregate.name, id: aggregate.id };
    this.currentVersion = currentVersion;
    this.index = index;
    this.event = event;
  }
}

/**
 * The aggregate has no applier for an event name: the event is not in the aggregate's event map,
 * or the aggregate never registered its appliers (`applyWith` in the constructor). goes ignored
 * such events silently, which hides missing handlers and foreign events.
 *
 * @example
 * ```ts
 * product.applyEvent(createEvent('order.placed', {})); // UnknownEventError naming "order.placed"
 * ```
 */
export class UnknownEventError extends GoesError {
  readonly aggregate: AggregateRef;
  readonly eventName: string;

  constructor(aggregate: AggregateRef, eventName: string, hint = '') {
    super(
      'UNKNOWN_EVENT',
      `${formatRef(aggregate)} has no applier for event "${eventName}"${hint ? `: ${hint}` : ''}`,
    );
    this.aggregate = { name: aggregate.name, id: aggregate.id };
    this.eventName = eventName;
  }
}

/**
 * The operation needs an aggregate without uncommitted changes: applying a history, fetching,
 * restoring or taking a snapshot would otherwise mix unsaved changes with stored state (goes
 * silently committed or dropped them).
 *
 * @example
 * ```ts
 * next(product, 'product.priced', { cents: 1 });
 * applyHistory(product, events); // UncommittedChangesError
 * ```
 */
export class UncommittedChangesError extends GoesError {
  readonly aggregate: AggregateRef;
  readonly changes: number;

  constructor(aggregate: AggregateRef, changes: number, operation: string) {
    super(
      'UNCOMMITTED_CHANGES',
      `cannot ${operation} ${formatRef(aggregate)}: it has ${changes} uncommitted change(s); save or discard the aggregate first`,
    );
    this.aggregate = { name: aggregate.name, id: aggregate.id };
    this.changes = changes;
  }
}

/**
 * The aggregate cannot be snapshotted or restored from a snapshot: it does not implement
 * {@link SnapshotHooks}. goes stored an empty state silently in this case and failed later.
 *
 * @example
 * ```ts
 * createSnapshot(aggregateWithoutHooks); // SnapshotUnsupportedError
 * ```
 */
export class SnapshotUnsupportedError extends GoesError {
  readonly aggregate: AggregateRef;

  constructor(aggregate: AggregateRef) {
    super(
      'SNAPSHOT_UNSUPPORTED',
      `${formatRef(aggregate)} does not support snapshots: implement snapshotState() and restoreSnapshot(state)`,
    );
    this.aggregate = { name: aggregate.name, id: aggregate.id };
  }
}

/**
 * The state of an aggregate could not be encoded into a snapshot (the codec refused it).
 *
 * @example
 * ```ts
 * createSnapshot(aggregateWithBigintState); // SnapshotEncodeError (JSON has no bigint)
 * ```
 */
export class SnapshotEncodeError extends GoesError {
  readonly aggregate: AggregateRef;

  constructor(aggregate: AggregateRef, cause: unknown) {
    super(
      'SNAPSHOT_ENCODE_FAILED',
      `cannot encode the snapshot state of ${formatRef(aggregate)}: ${describeCause(cause)}`,
      { cause },
    );
    this.aggregate = { name: aggregate.name, id: aggregate.id };
  }
}

/**
 * A stored snapshot cannot be used: its state does not decode, or the aggregate's
 * `restoreSnapshot` refused it. The aggregate's version is not changed.
 *
 * @example
 * ```ts
 * applySnapshot(product, { ...snapshot, state: '{oops' }); // SnapshotCorruptError
 * ```
 */
export class SnapshotCorruptError extends GoesError {
  readonly aggregate: AggregateRef;
  readonly version: number;

  constructor(aggregate: AggregateRef, version: number, cause: unknown) {
    super(
      'SNAPSHOT_CORRUPT',
      `the snapshot of ${formatRef(aggregate)} at version ${version} is unusable: ${describeCause(cause)}`,
      { cause },
    );
    this.aggregate = { name: aggregate.name, id: aggregate.id };
    this.version = version;
  }
}

/**
 * A snapshot store has no snapshot matching the request (`latest`, `version`, `limit`).
 * One error for every store, so callers need not know the backend (goes had two sentinels).
 *
 * @example
 * ```ts
 * await snapshots.latest('product', id).catch((e) => isSnapshotNotFoundError(e) ? undefined : Promise.reject(e));
 * ```
 */
export class SnapshotNotFoundError extends GoesError {
  readonly aggregate: AggregateRef;

  constructor(aggregate: AggregateRef, what: string) {
    super('SNAPSHOT_NOT_FOUND', `no snapshot of ${formatRef(aggregate)} (${what})`);
    this.aggregate = { name: aggregate.name, id: aggregate.id };
  }
}

/**
 * True for a {@link ConsistencyError} (checked by code).
 *
 * @example
 * ```ts
 * if (isConsistencyError(error)) console.log(error.kind);
 * ```
 */
export function isConsistencyError(error: unknown): error is ConsistencyError {
  return isGoesError(error, 'AGGREGATE_INCONSISTENT');
}

/**
 * True for an {@link UnknownEventError} (checked by code).
 *
 * @example
 * ```ts
 * if (isUnknownEventError(error)) console.log(error.eventName);
 * ```
 */
export function isUnknownEventError(error: unknown): error is UnknownEventError {
  return isGoesError(error, 'UNKNOWN_EVENT');
}

/**
 * True for a {@link SnapshotNotFoundError} (checked by code).
 *
 * @example
 * ```ts
 * const latest = await store.latest(name, id).catch((e) => (isSnapshotNotFoundError(e) ? undefined : Promise.reject(e)));
 * ```
 */
export function isSnapshotNotFoundError(error: unknown): error is SnapshotNotFoundError {
  return isGoesError(error, 'SNAPSHOT_NOT_FOUND');
}

function describeCause(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
