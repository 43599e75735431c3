import { describe, expect, it } from '@jest/globals';
import { lifecycle } from '../src/repositories.js';

describe('docs/guides/repositories.md', () => {
  it('creates, changes, fetches, queries and deletes aggregates', async () => {
    const result = await lifecycle();
    expect(result.current.version).toBe(2);
    expect(result.current.priceCents).toBe(2_499);
    expect(result.original.priceCents).toBe(2_999);
    expect(result.conflict).toBe('expected 2, actual 3');
    expect(result.names).toEqual(['Wireless Mouse v3']);
    expect(result.gone).toBe(true);
  });
});
