import { describe, expect, it } from '@jest/globals';
import { withSnapshots } from '../src/snapshots.js';

describe('docs/guides/snapshots.md', () => {
  it('loads an aggregate from its snapshot and the events after it', async () => {
    expect(await withSnapshots()).toEqual({
      version: 151,
      price: 1_149,
      latest: 100,
      deleted: 0,
    });
  });
});
