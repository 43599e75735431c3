import { describe, expect, it, jest } from '@jest/globals';

describe('README quick start', () => {
  it('places an order and projects the revenue', async () => {
    const log = jest.spyOn(console, 'log').mockImplementation(() => {});
    const { revenue } = await import('../src/quick-start.js');
    expect(revenue.total).toBe(4_200);
    expect(log).toHaveBeenCalledWith(4_200);
    log.mockRestore();
  });
});
