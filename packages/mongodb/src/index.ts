/**
 * The MongoDB backend of goes: an event store with one document per event that needs no
 * transactions and no replica set, tested on MongoDB and on FerretDB.
 *
 * @packageDocumentation
 */
export { MongoStoreError } from './errors.js';
export { createMongoEventStore, type MongoEventStore } from './mongo-event-store.js';
export type { MongoConnectionOptions, MongoEventStoreOptions } from './options.js';
