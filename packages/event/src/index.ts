/**
 * The event layer of goes: events, the query builder with its reference semantics
 * ({@link matches}), the {@link EventStore} and {@link EventBus} contracts, and their in-memory
 * implementations.
 *
 * @packageDocumentation
 */
export { type AwaitingEvent, awaitEvent } from './await-event.js';
export { dateToNanos, formatNanos, type Nanos, nanosToDate, nowNanos } from './clock.js';
export type {
  EventBus,
  EventStore,
  OverflowPolicy,
  SignalOptions,
  SubscribeOptions,
  Subscription,
} from './contracts.js';
export {
  ClosedError,
  ConnectionError,
  DuplicateEventError,
  EventNotFoundError,
  GoesError,
  type GoesErrorCode,
  InvalidArgumentError,
  InvalidEventError,
  InvalidQueryError,
  isGoesError,
  isVersionConflictError,
  SubscriberOverflowError,
  VersionConflictError,
} from './errors.js';
export {
  type AggregateRef,
  type AggregateVersion,
  ALL_EVENTS,
  type CreateEventOptions,
  createEvent,
  type Event,
  type EventMap,
  type EventOf,
  eventsEqual,
  formatRef,
  isAggregateEvent,
  parseRef,
  refKey,
} from './event.js';
export { createMemoryEventBus, type MemoryEventBusOptions } from './memory-bus.js';
export {
  createMemoryEventStore,
  type MemoryEventStore,
  type MemoryEventStoreOptions,
} from './memory-store.js';
export { QueryBuilder, query } from './query/builder.js';
export { type JsonQuery, queryFromJson, queryToJson } from './query/json.js';
export { compileQuery, type EventPredicate, matches } from './query/matches.js';
export { mergeQueries } from './query/merge.js';
export { compareBy, compareCodePoints, eventComparator, sortEvents } from './query/sort.js';
export type {
  AggregateFilter,
  EventQuery,
  PositionConstraints,
  SortDirection,
  SortField,
  SortOption,
  TimeConstraints,
  VersionConstraints,
} from './query/types.js';
export {
  validateQuery,
  validateStringList,
  validateTimeConstraints,
  validateUuidList,
  validateVersionConstraints,
} from './query/validate.js';
export { isUuid, NIL_UUID, uuidv7 } from './uuid.js';
export { validateEvent } from './validate-event.js';
export { type WithBusOptions, withBus } from './with-bus.js';
