/**
 * PostgreSQL backend of goes: an event store with one round trip per append, aggregate versions
 * checked by the database, gap-free global positions in commit order, queries streamed through
 * server-side cursors, and a feed of every event from a position (woken by LISTEN/NOTIFY).
 *
 * @packageDocumentation
 */
export { isPostgresStoreError, PostgresStoreError, SchemaMismatchError } from './errors.js';
export type { EventFeed, FeedOptions } from './feed.js';
export type { PostgresConnectionOptions, PostgresEventStoreOptions } from './options.js';
export { createPostgresEventStore, type PostgresEventStore } from './postgres-event-store.js';
export {
  createPostgresModelRepository,
  type PostgresModelRepositoryOptions,
} from './postgres-model-repository.js';
export {
  createPostgresSnapshotStore,
  type PostgresSnapshotStoreOptions,
} from './postgres-snapshot-store.js';
