/**
 * Aggregates for goes: the {@link AggregateRoot} base with typed event appliers, {@link next},
 * histories and consistency validation, soft delete, aggregate refs, queries and streams, and
 * snapshots with the {@link SnapshotStore} contract and an in-memory store.
 *
 * @packageDocumentation
 */

// goes' aggregate.Ref is event.AggregateRef; the ref helpers live with it in @goes/event.
export { type AggregateRef, formatRef, parseRef } from '@goes/event';
export {
  type Aggregate,
  type AggregateOptions,
  AggregateRoot,
  type EventAppliers,
  type SoftDeletePolicy,
} from './aggregate.js';
export { type ConsistencyOptions, validateConsistency } from './consistency.js';
export {
  ConsistencyError,
  type ConsistencyKind,
  isConsistencyError,
  isSnapshotNotFoundError,
  isUnknownEventError,
  SnapshotCorruptError,
  SnapshotEncodeError,
  SnapshotNotFoundError,
  SnapshotUnsupportedError,
  UncommittedChangesError,
  UnknownEventError,
} from './errors.js';
export { type ApplyHistoryOptions, applyHistory, applyHistoryStream } from './history.js';
export { type NextOptions, next, type RaisedEvent } from './next.js';
export {
  AggregateQueryBuilder,
  aggregateQuery,
  SnapshotQueryBuilder,
  snapshotQuery,
} from './query/builder.js';
export {
  eventQueryOf,
  matchesAggregate,
  matchesSnapshot,
  mergeAggregateQueries,
} from './query/matches.js';
export type { AggregateQuery, SnapshotQuery } from './query/types.js';
export { validateAggregateQuery } from './query/validate.js';
export { refIds, refIdsOf, refNames, refOf } from './ref.js';
export {
  cleanupSnapshots,
  type SnapshotCleanupJob,
  type SnapshotCleanupJobOptions,
  type SnapshotCleanupOptions,
  startSnapshotCleanup,
} from './snapshot/cleanup.js';
export { createMemorySnapshotStore } from './snapshot/memory-store.js';
export {
  type SnapshotEveryOptions,
  type SnapshotSchedule,
  snapshotEvery,
} from './snapshot/schedule.js';
export {
  applySnapshot,
  createSnapshot,
  type Snapshot,
  type SnapshotCodecOptions,
  type SnapshotHooks,
  supportsSnapshots,
  validateSnapshot,
} from './snapshot/snapshot.js';
export {
  type SnapshotKey,
  type SnapshotStore,
  validateSnapshotKey,
} from './snapshot/store.js';
export { isSoftDeleted } from './soft-delete.js';
export {
  type AggregateSortField,
  type AggregateSortOption,
  type AggregateVersionRef,
  aggregateComparator,
  compareAggregatesBy,
  sortAggregates,
} from './sort.js';
export { type HistoriesOptions, type History, histories } from './stream.js';
