import {
  AGGREGATE_DELETED_EVENT,
  type BuiltinCommands,
  type CommandBus,
  type CommandContext,
  CommandError,
  type CommandHandlerRegistration,
  type CommandMap,
  DELETE_AGGREGATE_COMMAND,
  InvalidCommandError,
  requireAggregateTarget,
} from '@goes/command';
import {
  type AggregateRef,
  createEvent,
  type Event,
  type EventBus,
  type EventStore,
  formatRef,
  InvalidArgumentError,
  InvalidEventError,
  query,
  type SignalOptions,
  validateEvent,
} from '@goes/event';
import { first } from '@goes/streams';
import type { CommandBusFit } from './command-bus-fit.js';
import { AggregateNotFoundError } from './errors.js';
import type { Repository } from './repository.js';

/**
 * What the built-in delete-aggregate handler deleted: the aggregate and the version it had.
 *
 * @example
 * ```ts
 * const deleted: DeletedAggregate = { aggregate: { name: 'product', id }, version: 7 };
 * ```
 */
export interface DeletedAggregate {
  readonly aggregate: AggregateRef;
  readonly version: number;
}

/**
 * Where the delete-aggregate handler sends the event that records a deletion (goes'
 * `builtin.PublishEvents(bus, store)`). Give a store, a bus, or both: the event is inserted into
 * the store first (the source of truth), then published on the bus. To store and publish with
 * one insert, give the repository's `withBus` store alone.
 *
 * @example
 * ```ts
 * const publish: DeletedEventTargets = { store: withBus(store, eventBus) };
 * ```
 */
export interface DeletedEventTargets {
  /** Inserts the event here. It must be a version-0 event (see `handleBuiltinCommands`). */
  readonly store?: EventStore | undefined;
  /** Publishes the event here (after the insert, when there is a store). */
  readonly bus?: EventBus | undefined;
  /**
   * A publish that failed after the event was stored: the command still succeeds (the store is
   * the source of truth, as with `withBus`). Default: a `console.error` line.
   */
  readonly onPublishError?: ((error: unknown, event: Event) => void) | undefined;
}

/**
 * Options of {@link handleBuiltinCommands}.
 *
 * @example
 * ```ts
 * await handleBuiltinCommands(bus, repository, {
 *   publishEvents: { store: repository.store },
 *   aggregates: ['product', 'order'],
 * });
 * ```
 */
export interface BuiltinCommandsOptions extends SignalOptions {
  /**
   * Record every deletion with an event (by default `goes.command.aggregate.deleted`
   * `{ version }`); without this option no event is made (as in goes).
   */
  readonly publishEvents?: DeletedEventTargets | undefined;
  /**
   * Makes the event that records a deletion, instead of `goes.command.aggregate.deleted`
   * (goes' `builtin.DeleteEvent`; switch on `deleted.aggregate.name` for per-aggregate events).
   * When the event goes to a store it must be a version-0 event of the deleted aggregate or have
   * no aggregate.
   */
  readonly deleteEvent?: ((deleted: DeletedAggregate) => Event) | undefined;
  /**
   * The aggregate names the command may delete; others are refused with `INVALID_COMMAND`.
   * Default: every name (as in goes). Any service that can dispatch commands can otherwise delete
   * any aggregate.
   */
  readonly aggregates?: readonly string[] | undefined;
  /** How many delete commands run at once. Default 1. */
  readonly concurrency?: number | undefined;
  /** Failures of asynchronously dispatched commands (the bus's `onError` by default). */
  readonly onError?: ((error: unknown) => void) | undefined;
  /** Aborting it closes the registration, like `close()`. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * The code of the `CommandError` a delete command fails with when the aggregate was deleted but
 * the event recording it could not be stored (or, without a store, published). Its details are
 * the {@link DeletedAggregate}.
 *
 * @example
 * ```ts
 * if (isCommandError(error, DELETED_EVENT_FAILED)) log.error('deleted without a record', error.details);
 * ```
 */
export const DELETED_EVENT_FAILED = 'AGGREGATE_DELETED_EVENT_FAILED';

/**
 * The default event recording a deletion: `goes.command.aggregate.deleted` `{ version }`, a
 * version-0 event of the deleted aggregate (goes' `builtin.AggregateDeleted`). Version 0 takes no
 * version slot, so the aggregate can be created again under its id; the repository's `fetch` and
 * `query` leave version-0 events out.
 *
 * @example
 * ```ts
 * const event = aggregateDeletedEvent({ aggregate: { name: 'product', id }, version: 7 });
 * event.aggregate; // { name: 'product', id, version: 0 }
 * ```
 */
export function aggregateDeletedEvent(
  deleted: DeletedAggregate,
): Event<typeof AGGREGATE_DELETED_EVENT, { readonly version: number }> {
  const { name, id } = deleted.aggregate;
  return createEvent(
    AGGREGATE_DELETED_EVENT,
    { version: deleted.version },
    { aggregate: { name, id, version: 0 } },
  );
}

/**
 * Registers the handlers of the built-in commands on a command bus (goes' `builtin.Handle`):
 * `goes.command.aggregate.delete` (see `deleteAggregateCommand` of `@goes/command`) deletes the
 * target aggregate through the repository — snapshots, then all its events — and, with
 * `publishEvents`, records the deletion with `goes.command.aggregate.deleted` `{ version }`.
 *
 * - **Where the event is stored.** It is a version-0 event of the deleted aggregate (or what
 *   `deleteEvent` makes, which must have version 0 or no aggregate when stored): it takes no
 *   version slot, so the aggregate can be created again at version 1, and `fetch`/`query` ignore
 *   it. A later delete of the re-created aggregate removes it with the rest of the aggregate's
 *   events and stores a new one.
 * - **Unknown aggregates.** An aggregate without stored versions (never created, or deleted
 *   already) is refused with `AggregateNotFoundError` (code `AGGREGATE_NOT_FOUND`): nothing is
 *   deleted and no event is made, so a repeated delete keeps the first one's record (goes
 *   published a deleted event for aggregates that never existed).
 * - **Order.** Version read, event made and checked, delete, then insert and publish. Once the
 *   aggregate is deleted the event is written even if the dispatcher gave up meanwhile; if it
 *   cannot be, the command fails with `CommandError` {@link DELETED_EVENT_FAILED}.
 *
 * @throws {@link InvalidArgumentError} for bad options; what `bus.handle` throws.
 * @example
 * ```ts
 * const eventBus = createMemoryEventBus();
 * const store = withBus(createMemoryEventStore(), eventBus);
 * const repository = createRepository({ store });
 * const bus = createLocalCommandBus<ProductCommands & BuiltinCommands>();
 * await using deletes = await handleBuiltinCommands(bus, repository, { publishEvents: { store } });
 * await bus.dispatch(deleteAggregateCommand({ name: 'product', id }), { sync: true });
 * ```
 */
export async function handleBuiltinCommands<B extends CommandMap>(
  bus: CommandBus<B> & CommandBusFit<B, BuiltinCommands>,
  repository: Repository,
  options: BuiltinCommandsOptions = {},
): Promise<CommandHandlerRegistration> {
  if (typeof (bus as { handle?: unknown } | undefined)?.handle !== 'function') {
    throw new InvalidArgumentError('handleBuiltinCommands needs a command bus');
  }
  if (typeof (repository as { delete?: unknown } | undefined)?.delete !== 'function') {
    throw new InvalidArgumentError('handleBuiltinCommands needs a repository');
  }
  const targets = checkTargets(options.publishEvents);
  if (options.deleteEvent !== undefined && typeof options.deleteEvent !== 'function') {
    throw new InvalidArgumentError(
      `options.deleteEvent must be a function (deleted) => event, got ${typeof options.deleteEvent}`,
    );
  }
  const allowed = checkAggregates(options.aggregates);
  const makeEvent = options.deleteEvent ?? aggregateDeletedEvent;

  const deleteAggregate = async (context: CommandContext): Promise<void> => {
    const ref = requireAggregateTarget(context);
    if (allowed && !allowed.has(ref.name)) {
      throw new InvalidCommandError(
        `${DELETE_AGGREGATE_COMMAND} may not delete "${ref.name}" aggregates here (allowed: ${[
          ...allowed,
        ]
          .map((name) => JSON.stringify(name))
          .join(', ')})`,
      );
    }
    const { signal } = context;
    const version = await storedVersion(repository.store, ref, signal);
    if (version === 0) throw new AggregateNotFoundError(ref);
    const deleted: DeletedAggregate = { aggregate: ref, version };
    // Made and checked before deleting: a bad custom event must not leave a deletion unrecorded.
    const event = targets ? checkedEvent(makeEvent(deleted), deleted, targets) : undefined;
    await repository.delete(ref, { signal });
    if (targets && event) await record(event, deleted, targets);
  };

  return (bus as unknown as CommandBus).handle(DELETE_AGGREGATE_COMMAND, deleteAggregate, {
    concurrency: options.concurrency,
    onError: options.onError,
    signal: options.signal,
  });
}

/** The highest stored version of the aggregate (0 when it has none). */
async function storedVersion(
  store: EventStore,
  ref: AggregateRef,
  signal: AbortSignal | undefined,
): Promise<number> {
  const latest = await first(
    store.query(
      query().aggregate(ref.name, ref.id).versionMin(1).sortBy('aggregateVersion', 'desc'),
      { signal },
    ),
  );
  return latest?.aggregate?.version ?? 0;
}

function checkTargets(targets: DeletedEventTargets | undefined): DeletedEventTargets | undefined {
  if (targets === undefined) return undefined;
  if (typeof targets !== 'object' || targets === null) {
    throw new InvalidArgumentError(
      'options.publishEvents must be { store?, bus? } (an event store, an event bus, or both)',
    );
  }
  const { store, bus } = targets;
  if (store !== undefined && typeof store?.insert !== 'function') {
    throw new InvalidArgumentError('options.publishEvents.store must be an event store');
  }
  if (bus !== undefined && typeof bus?.publish !== 'function') {
    throw new InvalidArgumentError('options.publishEvents.bus must be an event bus');
  }
  if (store === undefined && bus === undefined) {
    throw new InvalidArgumentError(
      'options.publishEvents needs a store, a bus, or both; leave the option out to record no event',
    );
  }
  return targets;
}

function checkAggregates(names: readonly string[] | undefined): ReadonlySet<string> | undefined {
  if (names === undefined) return undefined;
  if (!Array.isArray(names) || names.length === 0) {
    throw new InvalidArgumentError(
      'options.aggregates must be a non-empty list of aggregate names; leave it out to allow every name',
    );
  }
  names.forEach((name, i) => {
    if (typeof name !== 'string' || name.length === 0) {
      throw new InvalidArgumentError(
        `options.aggregates[${i}] ${JSON.stringify(name)} must be a non-empty string`,
      );
    }
  });
  return new Set(names);
}

/** Checks the event that will record a deletion, before anything is deleted. */
function checkedEvent(
  event: Event,
  deleted: DeletedAggregate,
  targets: DeletedEventTargets,
): Event {
  validateEvent(event);
  if (targets.store && event.aggregate && event.aggregate.version !== 0) {
    throw new InvalidEventError(
      `the event recording the deletion of ${formatRef(deleted.aggregate)} ("${event.name}", ${event.id}) has aggregate version ${event.aggregate.version}; a stored deletion event must have version 0 (or no aggregate), so that it takes no version slot and the aggregate can be created again`,
    );
  }
  return event;
}

/**
 * Stores and publishes the event. The aggregate is deleted by now, so this ignores the command's
 * signal: the record is written even if the dispatcher gave up.
 */
async function record(
  event: Event,
  deleted: DeletedAggregate,
  targets: DeletedEventTargets,
): Promise<void> {
  const { store, bus } = targets;
  let stored: readonly Event[] = [event];
  if (store) {
    try {
      stored = await store.insert([event]);
    } catch (error) {
      throw recordFailed(event, deleted, 'stored', error);
    }
  }
  if (!bus) return;
  try {
    await bus.publish(stored);
  } catch (error) {
    if (!store) throw recordFailed(event, deleted, 'published', error);
    const report =
      targets.onPublishError ??
      ((e: unknown, failed: Event) =>
        console.error(
          `goes: the "${failed.name}" event recording the deletion of ${formatRef(deleted.aggregate)} is stored, but could not be published:`,
          e,
        ));
    report(error, event);
  }
}

function recordFailed(
  event: Event,
  deleted: DeletedAggregate,
  what: 'stored' | 'published',
  error: unknown,
): CommandError<DeletedAggregate> {
  const reason = error instanceof Error ? error.message : String(error);
  return new CommandError(
    DELETED_EVENT_FAILED,
    `${formatRef(deleted.aggregate)} was deleted at version ${deleted.version}, but the "${event.name}" event recording it could not be ${what}: ${reason}`,
    {
      details: { aggregate: { ...deleted.aggregate }, version: deleted.version },
      cause: error,
    },
  );
}
