import type { Event, SignalOptions } from '@goes/event';
import type { Aggregate } from './aggregate.js';
import { ConsistencyChecker } from './consistency.js';
import { UncommittedChangesError } from './errors.js';

/**
 * Options of {@link applyHistory} and {@link applyHistoryStream}.
 *
 * @example
 * ```ts
 * applyHistory(product, events, { checkTime: true });
 * ```
 */
export interface ApplyHistoryOptions {
  /** Validate consistency (ids, names, consecutive versions). Default true. */
  readonly validate?: boolean | undefined;
  /**
   * Also check that times increase. Default false: a stored history is ordered by version, and
   * refusing to load an aggregate because two writers' clocks disagreed helps nobody. Times are
   * checked where events are made (on save).
   */
  readonly checkTime?: boolean | undefined;
}

/**
 * Applies stored events to an aggregate (goes' `ApplyHistory`): validates them against the
 * aggregate's version, applies each in order and sets the committed version to the last one.
 * The whole history is validated before anything is applied.
 *
 * Unlike goes, an aggregate with uncommitted changes is refused: goes committed those changes
 * as if they had been stored.
 *
 * @throws {@link UncommittedChangesError}, {@link ConsistencyError}, and what an applier throws
 * (e.g. {@link UnknownEventError}); after an applier error the aggregate is half-applied and
 * must be discarded.
 * @example
 * ```ts
 * const product = new Product(id);
 * applyHistory(product, await drain(store.query(query().aggregate('product', id))));
 * ```
 */
export function applyHistory(
  aggregate: Aggregate,
  events: readonly Event[],
  options: ApplyHistoryOptions = {},
): void {
  refuseChanges(aggregate);
  if (events.length === 0) return;
  if (options.validate ?? true) {
    const checker = new ConsistencyChecker(
      { name: aggregate.aggregateName, id: aggregate.id },
      aggregate.version,
      options.checkTime ?? false,
    );
    for (const event of events) checker.check(event);
  }
  for (const event of events) aggregate.applyEvent(event);
  const last = events[events.length - 1] as Event;
  aggregate.setVersion(last.aggregate?.version ?? aggregate.version + events.length);
}

/**
 * Applies a stream of stored events to an aggregate, validating each event as it arrives, so a
 * long history is never held in memory (goes' repository drained it into a slice first).
 * Resolves to the number of events applied; the committed version is set at the end.
 *
 * @throws like {@link applyHistory}; an error in the middle leaves the aggregate half-applied
 * (its version unchanged), so discard it. Aborting the signal stops the read.
 * @example
 * ```ts
 * await applyHistoryStream(product, store.query(query().aggregate('product', id)), { signal });
 * ```
 */
export async function applyHistoryStream(
  aggregate: Aggregate,
  events: AsyncIterable<Event>,
  options: ApplyHistoryOptions & SignalOptions = {},
): Promise<number> {
  refuseChanges(aggregate);
  const { signal } = options;
  signal?.throwIfAborted();
  const checker =
    (options.validate ?? true)
      ? new ConsistencyChecker(
          { name: aggregate.aggregateName, id: aggregate.id },
          aggregate.version,
          options.checkTime ?? false,
        )
      : undefined;
  let count = 0;
  let version = aggregate.version;
  for await (const event of events) {
    if (signal?.aborted) throw signal.reason;
    checker?.check(event);
    aggregate.applyEvent(event);
    version = event.aggregate?.version ?? version + 1;
    count++;
  }
  if (count > 0) aggregate.setVersion(version);
  return count;
}

function refuseChanges(aggregate: Aggregate): void {
  if (aggregate.changes.length > 0) {
    throw new UncommittedChangesError(
      { name: aggregate.aggregateName, id: aggregate.id },
      aggregate.changes.length,
      'apply a history to',
    );
  }
}
