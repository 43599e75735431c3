import { type Codec, createRegistry } from '@goes/codec';
import { InvalidArgumentError, isUuid, type Nanos, nowNanos } from '@goes/event';
import type { Aggregate } from '../aggregate.js';
import {
  SnapshotCorruptError,
  SnapshotEncodeError,
  SnapshotUnsupportedError,
  UncommittedChangesError,
} from '../errors.js';
import { refOf } from '../ref.js';

/**
 * A snapshot of an aggregate's state at a committed version (goes' `snapshot.Snapshot`).
 * `state` is the text the snapshot codec made of the aggregate's `snapshotState()`;
 * `softDeleted` is the aggregate's soft-delete flag at that version, so a delete event older than
 * the snapshot still counts when the aggregate is loaded from it (goes bug 10).
 *
 * @example
 * ```ts
 * const snapshot: Snapshot = createSnapshot(product);
 * await snapshots.save(snapshot);
 * ```
 */
export interface Snapshot {
  readonly aggregateName: string;
  readonly aggregateId: string;
  readonly version: number;
  /** When the snapshot was taken, in nanoseconds since the epoch. */
  readonly time: Nanos;
  readonly state: string;
  readonly softDeleted: boolean;
}

/**
 * What an aggregate implements to be snapshotted (goes' `snapshot.Marshaler`/`Unmarshaler`):
 * `snapshotState()` returns the state to keep (encoded by the snapshot codec, JSON by default),
 * and `restoreSnapshot(state)` replaces the aggregate's whole state with a decoded one. An
 * aggregate without them is never snapshotted silently: asking for it is a
 * {@link SnapshotUnsupportedError}.
 *
 * @example
 * ```ts
 * class Product extends AggregateRoot<ProductEvents> implements SnapshotHooks<{ sku: string; cents: number }> {
 *   snapshotState() { return { sku: this.sku, cents: this.cents }; }
 *   restoreSnapshot(state: { sku: string; cents: number }) { this.sku = state.sku; this.cents = state.cents; }
 * }
 * ```
 */
export interface SnapshotHooks<S = unknown> {
  snapshotState(): S;
  restoreSnapshot(state: S): void;
}

/**
 * Options of {@link createSnapshot} and {@link applySnapshot}.
 *
 * @example
 * ```ts
 * const codec = createRegistry().register('product', { schema: productStateSchema });
 * createSnapshot(product, { codec });
 * ```
 */
export interface SnapshotCodecOptions {
  /**
   * Encodes and decodes states, keyed by aggregate name; a registered Standard Schema validates
   * decoded states. Default: a JSON registry.
   */
  readonly codec?: Codec | undefined;
}

const defaultCodec: Codec = createRegistry();

/**
 * True when the aggregate implements {@link SnapshotHooks}.
 *
 * @example
 * ```ts
 * if (supportsSnapshots(aggregate)) await snapshots.save(createSnapshot(aggregate));
 * ```
 */
export function supportsSnapshots<A extends Aggregate>(
  aggregate: A,
): aggregate is A & SnapshotHooks {
  const hooks = aggregate as Partial<SnapshotHooks>;
  return typeof hooks.snapshotState === 'function' && typeof hooks.restoreSnapshot === 'function';
}

/**
 * Takes a snapshot of an aggregate at its committed version (goes' `snapshot.New`). The time
 * defaults to now, moved after the aggregate's last event when the clock is behind it.
 *
 * @throws {@link UncommittedChangesError} when the aggregate has changes (the state would be
 * ahead of the version), {@link SnapshotUnsupportedError} without {@link SnapshotHooks},
 * {@link SnapshotEncodeError} when the codec cannot encode the state.
 * @example
 * ```ts
 * await snapshots.save(createSnapshot(product));
 * ```
 */
export function createSnapshot(
  aggregate: Aggregate,
  options: SnapshotCodecOptions & { readonly time?: Nanos | undefined } = {},
): Snapshot {
  const ref = refOf(aggregate);
  if (aggregate.changes.length > 0) {
    throw new UncommittedChangesError(ref, aggregate.changes.length, 'take a snapshot of');
  }
  if (!supportsSnapshots(aggregate)) throw new SnapshotUnsupportedError(ref);
  let state: string;
  try {
    state = (options.codec ?? defaultCodec).encode(
      aggregate.aggregateName,
      aggregate.snapshotState(),
    );
  } catch (error) {
    throw new SnapshotEncodeError(ref, error);
  }
  return {
    aggregateName: aggregate.aggregateName,
    aggregateId: aggregate.id,
    version: aggregate.version,
    time: options.time ?? snapshotTime(aggregate.lastEventTime),
    state,
    softDeleted: aggregate.softDeleted,
  };
}

/**
 * Restores an aggregate from a snapshot (goes' `snapshot.Unmarshal`): decodes the state, hands
 * it to `restoreSnapshot`, and only then sets the committed version, the soft-delete flag and
 * the time `next` raises after (goes set the version first, so a failed restore left a wrong
 * version behind).
 *
 * @throws {@link InvalidArgumentError} when the snapshot is of another aggregate,
 * {@link UncommittedChangesError}, {@link SnapshotUnsupportedError}, and
 * {@link SnapshotCorruptError} when the state does not decode or `restoreSnapshot` throws.
 * @example
 * ```ts
 * const product = new Product(id);
 * applySnapshot(product, await snapshots.latest('product', id));
 * ```
 */
export function applySnapshot(
  aggregate: Aggregate,
  snapshot: Snapshot,
  options: SnapshotCodecOptions = {},
): void {
  const ref = refOf(aggregate);
  if (snapshot.aggregateName !== aggregate.aggregateName || snapshot.aggregateId !== aggregate.id) {
    throw new InvalidArgumentError(
      `the snapshot of ${snapshot.aggregateName}(${snapshot.aggregateId}) cannot restore ${aggregate.aggregateName}(${aggregate.id})`,
    );
  }
  if (aggregate.changes.length > 0) {
    throw new UncommittedChangesError(ref, aggregate.changes.length, 'restore a snapshot into');
  }
  if (!supportsSnapshots(aggregate)) throw new SnapshotUnsupportedError(ref);
  try {
    const state = (options.codec ?? defaultCodec).decode(aggregate.aggregateName, snapshot.state);
    aggregate.restoreSnapshot(state);
  } catch (error) {
    throw new SnapshotCorruptError(ref, snapshot.version, error);
  }
  aggregate.setVersion(snapshot.version);
  aggregate.setSoftDeleted(snapshot.softDeleted);
  aggregate.setLastEventTime?.(snapshot.time);
}

/**
 * Now, or just after the last event when that was written by a clock ahead of ours: a snapshot
 * is never older than the events it holds, so the time restored from it keeps {@link next}
 * raising after them.
 */
function snapshotTime(lastEventTime: Nanos | undefined): Nanos {
  const now = nowNanos();
  return lastEventTime !== undefined && now <= lastEventTime ? lastEventTime + 1n : now;
}

/**
 * Checks the shape of a snapshot before a store accepts it: a non-empty aggregate name, a UUID
 * aggregate id, a non-negative integer version, a `bigint` time, a string state and a boolean
 * soft-delete flag. Snapshot stores call it, so every backend refuses the same input.
 *
 * @throws {@link InvalidArgumentError} naming the offending value.
 * @example
 * ```ts
 * async save(snapshot) { validateSnapshot(snapshot); ... }
 * ```
 */
export function validateSnapshot(snapshot: Snapshot): void {
  if (typeof snapshot !== 'object' || snapshot === null) {
    throw new InvalidArgumentError(`expected a snapshot object, got ${String(snapshot)}`);
  }
  const where = `snapshot of ${String(snapshot.aggregateName)}(${String(snapshot.aggregateId)})`;
  if (typeof snapshot.aggregateName !== 'string' || snapshot.aggregateName.length === 0) {
    throw new InvalidArgumentError(`${where}: aggregate name must be a non-empty string`);
  }
  if (!isUuid(snapshot.aggregateId)) {
    throw new InvalidArgumentError(`${where}: aggregate id is not a lowercase UUID`);
  }
  if (!Number.isSafeInteger(snapshot.version) || snapshot.version < 0) {
    throw new InvalidArgumentError(
      `${where}: version ${String(snapshot.version)} must be a non-negative integer`,
    );
  }
  if (typeof snapshot.time !== 'bigint') {
    throw new InvalidArgumentError(
      `${where}: time ${String(snapshot.time)} must be a bigint of nanoseconds`,
    );
  }
  if (typeof snapshot.state !== 'string') {
    throw new InvalidArgumentError(`${where}: state must be a string (the encoded state)`);
  }
  if (typeof snapshot.softDeleted !== 'boolean') {
    throw new InvalidArgumentError(
      `${where}: softDeleted ${String(snapshot.softDeleted)} must be a boolean`,
    );
  }
}
