import { matches } from '@goes/event';
import { describe, expect, it } from '@jest/globals';
import { conflictingWrite, queries, storeQueryAndSubscribe } from '../src/events.js';

describe('docs/guides/events.md', () => {
  it('stores, queries and receives order events', async () => {
    const result = await storeQueryAndSubscribe();
    expect(result.history).toEqual(['placed for 4200 cents', 'paid 4200 cents']);
    expect(result.received).toBe('order.paid');
  });

  it('reports a version conflict with expected and actual versions', async () => {
    expect(await conflictingWrite()).toBe('expected 0, actual 1');
  });

  it('builds the queries shown', () => {
    const { placedSince, oneOrder, afterCheckpoint } = queries();
    expect(placedSince.times?.min).toBe(1_700_000_000_000_000_001n);
    expect(oneOrder.sort).toEqual([{ by: 'aggregateVersion', dir: 'desc' }]);
    expect(
      matches(afterCheckpoint, { id: '', name: 'order.paid', time: 0n, data: {}, position: 1_001 }),
    ).toBe(true);
  });
});
