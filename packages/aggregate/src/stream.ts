import {
  type AggregateRef,
  compareBy,
  type Event,
  InvalidEventError,
  refKey,
  type SignalOptions,
} from '@goes/event';
import type { Aggregate, SoftDeletePolicy } from './aggregate.js';
import { ConsistencyChecker } from './consistency.js';
import { applyHistory } from './history.js';
import { isSoftDeleted } from './soft-delete.js';

/**
 * The events of one aggregate, ready to be applied (goes' `aggregate.History`). `events` are
 * sorted by version and, when the stream validated them, a consistent history from version 1.
 *
 * @example
 * ```ts
 * for await (const history of histories(events)) {
 *   const product = new Product(history.aggregate.id);
 *   history.apply(product);
 * }
 * ```
 */
export interface History {
  readonly aggregate: AggregateRef;
  readonly events: readonly Event[];
  /** The version of the last event (the aggregate's version after applying). */
  readonly version: number;
  /** True when the stream's soft-delete policy says the aggregate is soft-deleted. */
  readonly softDeleted: boolean;
  /**
   * Applies the events with {@link applyHistory} (validated unless the stream did not validate).
   * Unlike goes, which ignored the error, this throws.
   */
  apply(aggregate: Aggregate): void;
}

/**
 * Options of {@link histories} (goes' `aggregate/stream` options).
 *
 * @example
 * ```ts
 * histories(events, { grouped: true, sorted: true, onError: (e) => log.warn(e) });
 * ```
 */
export interface HistoriesOptions extends SignalOptions {
  /**
   * The input is grouped by aggregate (all events of one aggregate follow each other), so each
   * history is emitted as soon as the next aggregate starts. Default false: histories are
   * emitted when the input ends (everything is held in memory until then).
   */
  readonly grouped?: boolean | undefined;
  /** The events of each aggregate arrive sorted by version; otherwise they are sorted. Default false. */
  readonly sorted?: boolean | undefined;
  /** Validate each history (ids, names, consecutive versions from 1). Default true. */
  readonly validate?: boolean | undefined;
  /** Validate that times increase too. Default false (see {@link applyHistory}). */
  readonly checkTime?: boolean | undefined;
  /** Drops input events for which any filter returns false. */
  readonly filter?:
    | ((event: Event) => boolean)
    | readonly ((event: Event) => boolean)[]
    | undefined;
  /** Which events soft-delete and restore aggregates; without it no aggregate counts as deleted. */
  readonly softDelete?: SoftDeletePolicy | undefined;
  /** Also emit soft-deleted aggregates (with `softDeleted: true`). Default false. */
  readonly includeSoftDeleted?: boolean | undefined;
  /**
   * Receives the error of an aggregate whose history is invalid (or an input event without an
   * aggregate); the stream then skips it and goes on, as goes did. Without `onError`, the first
   * such error ends the stream: it is thrown from the iteration.
   */
  readonly onError?: ((error: unknown) => void) | undefined;
}

/**
 * Turns a flat event stream into per-aggregate histories (goes' `aggregate/stream.New`).
 * An error of the input stream ends the iteration with that error; breaking out of the loop or
 * aborting the signal closes the input.
 *
 * @example
 * ```ts
 * const events = store.query(eventQueryOf({ names: ['product'] }));
 * for await (const history of histories(events, { grouped: true, sorted: true })) {
 *   const product = new Product(history.aggregate.id);
 *   history.apply(product);
 * }
 * ```
 */
export function histories(
  events: AsyncIterable<Event>,
  options: HistoriesOptions = {},
): AsyncIterable<History> {
  const filters =
    options.filter === undefined
      ? []
      : typeof options.filter === 'function'
        ? [options.filter]
        : [...options.filter];
  const build = historyBuilder(options);
  const { signal } = options;
  return {
    async *[Symbol.asyncIterator]() {
      signal?.throwIfAborted();
      const groups = new Map<string, { ref: AggregateRef; events: Event[] }>();
      let current: { ref: AggregateRef; events: Event[] } | undefined;
      for await (const event of events) {
        if (signal?.aborted) throw signal.reason;
        if (filters.length > 0 && !filters.every((keep) => keep(event))) continue;
        const aggregate = event.aggregate;
        if (!aggregate) {
          const error = new InvalidEventError(
            `event ${event.id} "${event.name}" has no aggregate; histories are built from aggregate events only`,
          );
          if (!options.onError) throw error;
          options.onError(error);
          continue;
        }
        if (options.grouped) {
          if (!current || current.ref.name !== aggregate.name || current.ref.id !== aggregate.id) {
            if (current) {
              const history = build(current.ref, current.events);
              if (history) yield history;
            }
            current = { ref: { name: aggregate.name, id: aggregate.id }, events: [] };
          }
          current.events.push(event);
          continue;
        }
        const key = refKey(aggregate);
        let group = groups.get(key);
        if (!group) {
          group = { ref: { name: aggregate.name, id: aggregate.id }, events: [] };
          groups.set(key, group);
        }
        group.events.push(event);
      }
      if (current) {
        const history = build(current.ref, current.events);
        if (history) yield history;
      }
      for (const group of groups.values()) {
        const history = build(group.ref, group.events);
        if (history) yield history;
      }
    },
  };
}

/** Finishes one aggregate's events into a history, or reports it and returns undefined. */
function historyBuilder(
  options: HistoriesOptions,
): (ref: AggregateRef, events: Event[]) => History | undefined {
  const validate = options.validate ?? true;
  const checkTime = options.checkTime ?? false;
  return (ref, events) => {
    if (!options.sorted) events.sort((a, b) => compareBy('aggregateVersion', a, b));
    if (validate) {
      try {
        const checker = new ConsistencyChecker(ref, 0, checkTime);
        for (const event of events) checker.check(event);
      } catch (error) {
        if (!options.onError) throw error;
        options.onError(error);
        return undefined;
      }
    }
    const softDeleted = options.softDelete ? isSoftDeleted(events, options.softDelete) : false;
    if (softDeleted && !options.includeSoftDeleted) return undefined;
    const last = events[events.length - 1];
    return {
      aggregate: ref,
      events,
      version: last?.aggregate?.version ?? 0,
      softDeleted,
      apply(aggregate: Aggregate) {
        applyHistory(aggregate, events, { validate, checkTime });
      },
    };
  };
}
