/** The given/when/then example of docs/guides/aggregates.md, run by ../test/aggregates.test.ts. */
// #region given-when-then
import { given } from '@goes/testing';
import { Product } from './aggregates.js';

export async function productSpecification(id: string): Promise<void> {
  const created = { name: 'product.created', data: { name: 'Mouse', priceCents: 2_999 } } as const;

  await given(() => new Product(id), created)
    .when((product) => product.changePrice(2_499))
    .thenRaised({ name: 'product.price_changed', data: { priceCents: 2_499 } });

  await given(() => new Product(id), created)
    .when((product) => product.changePrice(2_999))
    .thenNothing(); // the same price raises nothing

  await given(() => new Product(id), created)
    .when((product) => product.changePrice(-1))
    .thenThrew(RangeError); // and leaves no change behind
}
// #endregion given-when-then
