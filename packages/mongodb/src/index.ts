/**
 * The MongoDB backend of goes: an event store with one document per event, a snapshot store and
 * a read-model repository, none of which needs transactions or a replica set; tested on MongoDB
 * and on FerretDB.
 *
 * @packageDocumentation
 */
export { MongoStoreError } from './errors.js';
export { createMongoEventStore, type MongoEventStore } from './mongo-event-store.js';
export {
  createMongoModelRepository,
  type MongoModelRepository,
  type MongoModelRepositoryOptions,
} from './mongo-model-repository.js';
export {
  createMongoSnapshotStore,
  type MongoSnapshotStore,
  type MongoSnapshotStoreOptions,
} from './mongo-snapshot-store.js';
export type { MongoConnectionOptions, MongoEventStoreOptions } from './options.js';
