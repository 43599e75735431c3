import { uuidv7 } from '@goes/event';
import { describe, expect, it } from '@jest/globals';
import { raise, rebuild, refusedHistory } from '../src/aggregates.js';
import { productSpecification } from '../src/testing-aggregates.js';

describe('docs/guides/aggregates.md', () => {
  it('raises events as uncommitted changes', () => {
    const product = raise();
    expect(product.priceCents).toBe(2_499);
    expect(product.version).toBe(0);
    expect(product.changes.map((e) => `${e.name} v${e.aggregate?.version}`)).toEqual([
      'product.created v1',
      'product.price_changed v2',
    ]);
  });

  it('rebuilds an aggregate from its history', () => {
    const original = raise();
    const copy = rebuild(original.changes, original.id);
    expect(copy.version).toBe(2);
    expect(copy.name).toBe('Wireless Mouse');
    expect(copy.priceCents).toBe(2_499);
  });

  it('refuses a history with a gap', () => {
    expect(refusedHistory(uuidv7())).toBe('version');
  });

  it('runs the given/when/then specification', async () => {
    await expect(productSpecification(uuidv7())).resolves.toBeUndefined();
  });
});
