/** Code of docs/backends/postgres.md, run by ../test/backends-databases.test.ts. */
// #region postgres
import { snapshotEvery } from '@goes/aggregate';
import { type EventBus, withBus } from '@goes/event';
import {
  createPostgresEventStore,
  createPostgresModelRepository,
  createPostgresSnapshotStore,
} from '@goes/postgres';
import { createRepository } from '@goes/repository';
import pg from 'pg';
import { OrderSummary } from './projections.js';

export function postgresBackends(url: string, schema: string, bus: EventBus) {
  const pool = new pg.Pool({ connectionString: url }); // one pool for all three; you end it
  const store = withBus(createPostgresEventStore({ pool, schema }), bus);
  const snapshots = createPostgresSnapshotStore({ pool, schema });
  const summaries = createPostgresModelRepository<OrderSummary>({
    pool,
    schema,
    table: 'order_summaries', // one table per model type, created on first use
    decode: (json) => Object.assign(new OrderSummary(''), JSON.parse(json)), // class instances
  });
  const repository = createRepository({
    store,
    snapshots: { store: snapshots, schedule: snapshotEvery(100) },
  });
  return { store, snapshots, summaries, repository, close: () => pool.end() };
}
// #endregion postgres
