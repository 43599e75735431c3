import type { Collection, Document, IndexDescription } from 'mongodb';

/**
 * The indexes of the events collection. Only unique indexes are needed for correctness; the
 * others serve the usual queries. None is partial, so every server builds them (FerretDB has no
 * partial indexes); `createIndexes` with the same names and keys is a no-op, so creating them
 * on every start is safe.
 *
 * @internal
 */
export const EVENT_INDEXES: IndexDescription[] = [
  { name: 'goes_id', key: { id: 1 }, unique: true },
  {
    // Version slots (see EventDocument.slot) and aggregate streams in version order.
    name: 'goes_aggregate_version',
    key: { aggregateName: 1, aggregateId: 1, aggregateVersion: 1, slot: 1 },
    unique: true,
  },
  // Catching up by event name from a position (projections), and by name in time order.
  { name: 'goes_name_position', key: { name: 1, _id: 1 } },
  { name: 'goes_name_time', key: { name: 1, time: 1 } },
];

/**
 * Creates indexes idempotently, one per command: FerretDB 1.24 panics (and drops the
 * connection) when one `createIndexes` command names several indexes that already exist.
 *
 * @internal
 */
export async function createIndexes<T extends Document>(
  collection: Collection<T>,
  indexes: readonly IndexDescription[],
): Promise<void> {
  for (const index of indexes) await collection.createIndexes([index]);
}
