/** Code of docs/backends/mongodb.md, run by ../test/backends-databases.test.ts. */
// #region mongodb
import { snapshotEvery } from '@goes/aggregate';
import { type EventBus, withBus } from '@goes/event';
import {
  createMongoEventStore,
  createMongoModelRepository,
  createMongoSnapshotStore,
} from '@goes/mongodb';
import { createRepository } from '@goes/repository';
import { MongoClient } from 'mongodb';
import { OrderSummary } from './projections.js';

export function mongoBackends(url: string, database: string, bus: EventBus) {
  const client = new MongoClient(url); // one client for all three; you close it
  const store = withBus(createMongoEventStore({ client, database }), bus);
  const snapshots = createMongoSnapshotStore({ client, database });
  const summaries = createMongoModelRepository<OrderSummary>({
    client,
    database,
    collection: 'order_summaries',
    decode: (text) => Object.assign(new OrderSummary(''), JSON.parse(text)), // class instances
  });
  const repository = createRepository({
    store,
    snapshots: { store: snapshots, schedule: snapshotEvery(100) },
  });
  return { store, snapshots, summaries, repository, close: () => client.close() };
}
// #endregion mongodb
