import { describe, expect, it } from '@jest/globals';
import { demo } from '../src/streams.js';

describe('docs/guides/streams.md', () => {
  it('walks, merges, takes and cancels', async () => {
    expect(await demo()).toEqual({
      total: 350,
      names: ['order.paid', 'order.paid', 'order.paid'],
      aborted: true,
    });
  });
});
