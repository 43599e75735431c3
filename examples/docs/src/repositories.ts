/** Code of docs/guides/repositories.md, run by ../test/repositories.test.ts. */
// #region imports
import { createMemoryEventStore, isVersionConflictError, uuidv7 } from '@goes/event';
import { createRepository, isAggregateNotFoundError } from '@goes/repository';
import { Product } from './aggregates.js';
// #endregion imports

export async function lifecycle() {
  // #region create
  const store = createMemoryEventStore(); // any EventStore: PostgreSQL, MongoDB, …
  const repository = createRepository({ store });
  const products = repository.typed((id) => new Product(id));
  // #endregion create

  // #region use
  const id = uuidv7();
  // use = fetch a fresh aggregate, run the function, save its changes in one atomic insert.
  // Nothing stored yet: the aggregate starts at version 0, so use() also creates.
  await products.use(id, (product) => product.create('Wireless Mouse', 2_999));
  // On a VersionConflictError (another writer stored a version first) it waits and runs the
  // function again on a newly fetched aggregate — never on the one it already changed.
  const saved = await products.use(id, (product) => product.changePrice(2_499), {
    retry: { maxAttempts: 5, backoff: { initialMs: 2, maxMs: 50 } },
  });
  saved.version; // 2
  // #endregion use

  // #region fetch
  const current = await products.fetch(id); // version 2, price 2499
  const original = await products.fetchVersion(id, 1); // as it was after version 1
  try {
    await products.fetch(uuidv7());
  } catch (error) {
    if (!isAggregateNotFoundError(error)) throw error; // typed fetch of an unknown id
  }
  // #endregion fetch

  // #region save
  // save() is the lower-level step use() builds on: it stores the changes of an aggregate you
  // fetched yourself, and refuses them if another writer got there first.
  const first = await products.fetch(id);
  const second = await products.fetch(id);
  first.changePrice(1_999);
  second.changePrice(2_999);
  await products.save(first);
  let conflict = '';
  try {
    await products.save(second); // it was fetched at version 2, but version 3 exists now
  } catch (error) {
    if (!isVersionConflictError(error)) throw error;
    conflict = `expected ${error.expected}, actual ${error.actual}`; // expected 2, actual 3
  }
  // #endregion save

  // #region query
  const names: string[] = [];
  for await (const product of products.query({ versions: { min: [2] } })) {
    names.push(`${product.name} v${product.version}`);
  }
  // #endregion query

  // #region delete
  await products.use(id, (product) => product.discontinue('end of line')); // soft delete
  // fetch and use now throw AggregateDeletedError; query leaves it out.
  await products.delete(id); // hard delete: every event of the aggregate, in one store call
  // #endregion delete

  const remaining = await store
    .query({ aggregateIds: [id] })
    [Symbol.asyncIterator]()
    .next();
  return { current, original, conflict, names, gone: remaining.done === true };
}
