import {
  type AggregateQuery,
  type AggregateSortOption,
  type AggregateVersionRef,
  aggregateComparator,
  eventQueryOf,
  type History,
  histories,
  matchesAggregate,
} from '@goes/aggregate';
import type { EventQuery, EventStore } from '@goes/event';
import type { HistoryQueryOptions, RepositoryOptions } from './options.js';

/**
 * True when results must be collected before they can be sorted: a version key comes before
 * name and id both fixed the aggregate. Name and id keys alone are served by the event query's
 * own order, so results stream.
 */
function needsBuffer(sort: readonly AggregateSortOption[]): boolean {
  let name = false;
  let id = false;
  for (const { by } of sort) {
    if (by === 'name') name = true;
    else if (by === 'id') id = true;
    else if (!(name && id)) return true;
  }
  return false;
}

const view = (history: History): AggregateVersionRef => ({
  aggregateName: history.aggregate.name,
  id: history.aggregate.id,
  version: history.version,
});

/**
 * Runs an aggregate query against an event store: the event query of {@link eventQueryOf}
 * (changed by the repository's `modifyQuery`), a grouped and sorted history stream, then the
 * version filter and the sort. The caller validated the query.
 *
 * @internal
 */
export function queryHistories(
  store: EventStore,
  q: AggregateQuery,
  modifyQuery: RepositoryOptions['modifyQuery'],
  options: HistoryQueryOptions,
): AsyncIterable<History> {
  const { signal } = options;
  const modifiers = (
    modifyQuery === undefined ? [] : Array.isArray(modifyQuery) ? modifyQuery : [modifyQuery]
  ) as readonly ((eventQuery: EventQuery, aggregateQuery: AggregateQuery) => EventQuery)[];
  const sort = q.sort ?? [];
  const buffer = needsBuffer(sort);
  const versions = q.versions ? { versions: q.versions } : undefined;
  return {
    async *[Symbol.asyncIterator]() {
      signal?.throwIfAborted();
      let eventQuery = eventQueryOf(q);
      for (const modify of modifiers) eventQuery = modify(eventQuery, q);
      const stream = histories(store.query(eventQuery, { signal }), {
        grouped: true,
        sorted: true,
        signal,
        softDelete: options.softDelete,
        includeSoftDeleted: options.includeSoftDeleted,
        onError: options.onError,
      });
      const collected: History[] = [];
      for await (const history of stream) {
        if (versions && !matchesAggregate(versions, view(history))) continue;
        if (buffer) collected.push(history);
        else yield history;
      }
      if (buffer) {
        const compare = aggregateComparator([
          ...sort,
          { by: 'name', dir: 'asc' },
          { by: 'id', dir: 'asc' },
        ]);
        collected.sort((a, b) => compare(view(a), view(b)));
        yield* collected;
      }
    },
  };
}
