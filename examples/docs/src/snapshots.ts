/** Code of docs/guides/snapshots.md, run by ../test/snapshots.test.ts. */

// #region imports
import {
  cleanupSnapshots,
  createMemorySnapshotStore,
  type SnapshotHooks,
  snapshotEvery,
} from '@goes/aggregate';
import { createMemoryEventStore, uuidv7 } from '@goes/event';
import { createRepository } from '@goes/repository';
import { Product } from './aggregates.js';
// #endregion imports

// #region hooks
export interface ProductState {
  readonly name: string;
  readonly priceCents: number;
}

/** A product that can be snapshotted: it says what its state is, and how to restore it. */
export class SnapshottedProduct extends Product implements SnapshotHooks<ProductState> {
  snapshotState(): ProductState {
    return { name: this.name, priceCents: this.priceCents };
  }

  restoreSnapshot(state: ProductState): void {
    this.name = state.name;
    this.priceCents = state.priceCents;
  }
}
// #endregion hooks

export async function withSnapshots() {
  const store = createMemoryEventStore();
  const id = uuidv7();
  // #region repository
  const snapshots = createMemorySnapshotStore(); // or a database's SnapshotStore
  const repository = createRepository({
    store,
    snapshots: { store: snapshots, schedule: snapshotEvery(100) },
  });
  const products = repository.typed((id) => new SnapshottedProduct(id));

  await products.use(id, (product) => product.create('Wireless Mouse', 2_999));
  for (let cents = 1_000; cents < 1_150; cents++) {
    await products.use(id, (product) => product.changePrice(cents));
  }
  // Version 100 was snapshotted when it was saved; fetch loads the snapshot, then the 51
  // events after it.
  const product = await products.fetch(id);
  const latest = await snapshots.latest('product', id); // version 100
  // #endregion repository

  // #region cleanup
  // Snapshots are a cache: delete old ones, keeping the newest of every aggregate.
  const deleted = await cleanupSnapshots(snapshots, { maxAgeMs: 0, keepLatest: true });
  // #endregion cleanup
  return { version: product.version, price: product.priceCents, latest: latest.version, deleted };
}
