import {
  type AggregateRef,
  type Event,
  type EventMap,
  type EventOf,
  InvalidArgumentError,
  isUuid,
  type Nanos,
} from '@goes/event';
import { UncommittedChangesError, UnknownEventError } from './errors.js';

/**
 * The contract every layer above uses for an aggregate (goes' `aggregate.Aggregate` plus
 * `Committer`). {@link AggregateRoot} implements it; implement it yourself only if you cannot
 * extend the base class.
 *
 * The bookkeeping rules: `version` is the committed (stored) version; `changes` are the events
 * raised since, with versions `version + 1`, `version + 2`, …; `applyEvent` changes state only;
 * `recordChange` appends to `changes`; `commit` makes the changes committed.
 *
 * @example
 * ```ts
 * function describe(aggregate: Aggregate): string {
 *   return `${aggregate.aggregateName}(${aggregate.id}) v${aggregate.version} +${aggregate.changes.length}`;
 * }
 * ```
 */
export interface Aggregate<M extends EventMap = EventMap> {
  /**
   * Type-level only, never set: carries the event map so that {@link next} infers event names and
   * data from the aggregate it is given.
   */
  readonly '~events'?: M | undefined;
  /** The aggregate's name, e.g. `product`. Aggregates are identified by (name, id). */
  readonly aggregateName: string;
  /** The aggregate's id, a lowercase UUID. */
  readonly id: string;
  /** The committed version: the version of the last stored event applied (0 for none). */
  readonly version: number;
  /** The uncommitted changes, in the order they were raised. */
  readonly changes: readonly EventOf<M>[];
  /** True when the last delete/restore event applied was a delete event (soft delete). */
  readonly softDeleted: boolean;
  /**
   * The time of the last event applied (stored or raised), if any; after a snapshot restore
   * without later events, the snapshot's time. {@link next} raises after it.
   */
  readonly lastEventTime: Nanos | undefined;
  /**
   * Applies one event to the state. Throws {@link UnknownEventError} for a name the aggregate has
   * no applier for. Does not touch `version` or `changes`.
   */
  applyEvent(event: Event): void;
  /** Appends a raised event to `changes` (no validation, no apply; {@link next} does both). */
  recordChange(event: EventOf<M>): void;
  /** Makes the changes committed: `version` becomes the last change's version; `changes` empties. */
  commit(): void;
  /**
   * Sets the committed version after a history or snapshot was applied (framework bookkeeping).
   * @throws {@link UncommittedChangesError} when there are changes.
   */
  setVersion(version: number): void;
  /** Sets the soft-delete flag, when a snapshot is restored (framework bookkeeping). */
  setSoftDeleted(deleted: boolean): void;
  /**
   * Moves `lastEventTime` forward to `time` when it is earlier (or unset), when a snapshot is
   * restored (framework bookkeeping): the snapshot's time is not before its last event's, so
   * {@link next} raises after it. Optional for own implementations; without it, events raised
   * right after a snapshot use the clock alone.
   */
  setLastEventTime?(time: Nanos): void;
}

/**
 * One applier per event name of the event map: a missing name is a type error, and each
 * applier's `event.data` has the type the map gives that name.
 *
 * @example
 * ```ts
 * const appliers: EventAppliers<{ 'product.created': { sku: string } }> = {
 *   'product.created': (event) => console.log(event.data.sku),
 * };
 * ```
 */
export type EventAppliers<M extends EventMap> = {
  readonly [K in keyof M & string]: (event: EventOf<M, K>) => void;
};

/**
 * Which events soft-delete and restore an aggregate (goes' `SoftDeleter`/`SoftRestorer`, here
 * by event name because TypeScript data has no methods at runtime). After applying a history,
 * the aggregate is soft-deleted when the last of these events is a delete event.
 *
 * @example
 * ```ts
 * const policy: SoftDeletePolicy = { deleteEvents: ['product.discontinued'], restoreEvents: ['product.relisted'] };
 * ```
 */
export interface SoftDeletePolicy<N extends string = string> {
  readonly deleteEvents?: readonly N[] | undefined;
  readonly restoreEvents?: readonly N[] | undefined;
}

/**
 * Options of the {@link AggregateRoot} constructor.
 *
 * @example
 * ```ts
 * super('product', id, { softDelete: { deleteEvents: ['product.discontinued'] } });
 * ```
 */
export interface AggregateOptions<M extends EventMap> {
  /** Events that soft-delete and restore this aggregate; names are checked against the map. */
  readonly softDelete?: SoftDeletePolicy<keyof M & string> | undefined;
}

type Applier = (event: Event) => void;

/**
 * The aggregate base class (goes' `aggregate.Base`): name, id, committed version, uncommitted
 * changes, typed event appliers and soft-delete tracking. Subclasses register one applier per
 * event of their {@link EventMap} with `applyWith` in the constructor and raise events with
 * {@link next}.
 *
 * @example
 * ```ts
 * type ProductEvents = {
 *   'product.created': { sku: string };
 *   'product.priced': { cents: number };
 * };
 *
 * class Product extends AggregateRoot<ProductEvents> {
 *   sku = '';
 *   cents = 0;
 *
 *   constructor(id: string) {
 *     super('product', id);
 *     this.applyWith({
 *       'product.created': (event) => { this.sku = event.data.sku; },
 *       'product.priced': (event) => { this.cents = event.data.cents; },
 *     });
 *   }
 *
 *   create(sku: string) { next(this, 'product.created', { sku }); }
 *   price(cents: number) { next(this, 'product.priced', { cents }); }
 * }
 * ```
 */
export class AggregateRoot<M extends EventMap> implements Aggregate<M> {
  declare readonly '~events'?: M | undefined;
  readonly aggregateName: string;
  readonly id: string;
  #version = 0;
  #changes: EventOf<M>[] = [];
  #appliers: Map<string, Applier> | undefined;
  #deleteEvents: ReadonlySet<string> | undefined;
  #restoreEvents: ReadonlySet<string> | undefined;
  #softDeleted = false;
  #lastEventTime: Nanos | undefined;

  /**
   * @param aggregateName - the aggregate's name, e.g. `product`
   * @param id - the aggregate's id, a lowercase UUID
   * @throws {@link InvalidArgumentError} for an empty name or an id that is not a UUID
   */
  constructor(aggregateName: string, id: string, options: AggregateOptions<M> = {}) {
    if (typeof aggregateName !== 'string' || aggregateName.length === 0) {
      throw new InvalidArgumentError(
        `aggregate name ${JSON.stringify(aggregateName)} must be a non-empty string`,
      );
    }
    if (!isUuid(id)) {
      throw new InvalidArgumentError(
        `aggregate id ${JSON.stringify(id)} of "${aggregateName}" is not a lowercase UUID`,
      );
    }
    this.aggregateName = aggregateName;
    this.id = id;
    const { deleteEvents, restoreEvents } = options.softDelete ?? {};
    if (deleteEvents && deleteEvents.length > 0) this.#deleteEvents = new Set(deleteEvents);
    if (restoreEvents && restoreEvents.length > 0) this.#restoreEvents = new Set(restoreEvents);
  }

  get version(): number {
    return this.#version;
  }

  get changes(): readonly EventOf<M>[] {
    return this.#changes;
  }

  get softDeleted(): boolean {
    return this.#softDeleted;
  }

  get lastEventTime(): Nanos | undefined {
    return this.#lastEventTime;
  }

  /** The aggregate's ref `{ name, id }`. */
  get ref(): AggregateRef {
    return { name: this.aggregateName, id: this.id };
  }

  /** The version including uncommitted changes (goes' `CurrentVersion`). */
  get currentVersion(): number {
    const last = this.#changes.at(-1);
    return last?.aggregate ? last.aggregate.version : this.#version + this.#changes.length;
  }

  /**
   * Registers the appliers: exactly one per event name of the map (a missing one is a type
   * error). Call it once, in the constructor.
   *
   * @throws {@link InvalidArgumentError} when called a second time.
   */
  protected applyWith(appliers: EventAppliers<M>): void {
    if (this.#appliers) {
      throw new InvalidArgumentError(
        `the appliers of ${this.aggregateName}(${this.id}) are already registered; call applyWith() once`,
      );
    }
    const table = new Map<string, Applier>();
    for (const [name, applier] of Object.entries(appliers) as [string, Applier][]) {
      if (typeof applier !== 'function') {
        throw new InvalidArgumentError(
          `the applier of "${name}" on ${this.aggregateName} must be a function`,
        );
      }
      table.set(name, applier);
    }
    this.#appliers = table;
  }

  applyEvent(event: Event): void {
    const applier = this.#appliers?.get(event.name);
    if (!applier) {
      throw new UnknownEventError(
        this.ref,
        event.name,
        this.#appliers ? '' : 'no appliers are registered (call applyWith() in the constructor)',
      );
    }
    applier(event);
    if (this.#deleteEvents?.has(event.name)) this.#softDeleted = true;
    else if (this.#restoreEvents?.has(event.name)) this.#softDeleted = false;
    this.#lastEventTime = event.time;
  }

  recordChange(event: EventOf<M>): void {
    this.#changes.push(event);
  }

  commit(): void {
    if (this.#changes.length === 0) return;
    this.#version = this.currentVersion;
    this.#changes = [];
  }

  setVersion(version: number): void {
    if (this.#changes.length > 0) {
      throw new UncommittedChangesError(this.ref, this.#changes.length, 'set the version of');
    }
    if (!Number.isSafeInteger(version) || version < 0) {
      throw new InvalidArgumentError(
        `version ${String(version)} of ${this.aggregateName}(${this.id}) must be a non-negative integer`,
      );
    }
    this.#version = version;
  }

  setSoftDeleted(deleted: boolean): void {
    this.#softDeleted = deleted;
  }

  setLastEventTime(time: Nanos): void {
    if (this.#lastEventTime === undefined || this.#lastEventTime < time) this.#lastEventTime = time;
  }
}
