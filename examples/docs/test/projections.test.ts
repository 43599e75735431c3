import { describe, expect, it } from '@jest/globals';
import { lookup, readPath } from '../src/projections.js';

describe('docs/guides/projections.md', () => {
  it('projects stored events continuously into a target and per-order models', async () => {
    const result = await readPath();
    expect(result.revenue).toBe(4_200);
    expect(result.position).toBe(result.placed?.position);
    expect(result.summary).toMatchObject({ status: 'placed', totalCents: 4_200 });
  });

  it('looks customers up by e-mail', async () => {
    const result = await lookup();
    expect(result.id).toBe(result.customerId);
    expect(result.email).toBe('ada@example.com');
  });
});
