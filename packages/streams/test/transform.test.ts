import { describe, expect, it } from '@jest/globals';
import { before, drain, fanIn, filter, fromArray, map, take, withSignal } from '../src/index.js';
import { trackedSource } from './helpers.js';

describe('filter and map', () => {
  it('filter keeps matching values', async () => {
    expect(await drain(filter(fromArray([1, 2, 3, 4]), (n) => n % 2 === 0))).toEqual([2, 4]);
  });

  it('map transforms values, also with async functions', async () => {
    expect(await drain(map(fromArray([1, 2]), async (n) => n * 10))).toEqual([10, 20]);
  });

  it('closing the result closes the source', async () => {
    const { iterable, state } = trackedSource([1, 2, 3, 4]);
    expect(
      await take(
        map(iterable, (n) => n),
        1,
      ),
    ).toEqual([1]);
    expect(state.closed).toBe(true);
  });

  it('an aborted signal stops a transformer and closes its source', async () => {
    const { iterable, state } = trackedSource([1], { hangAt: 1 });
    const controller = new AbortController();
    const result = drain(filter(iterable, () => true, { signal: controller.signal }));
    setTimeout(() => controller.abort(new Error('stop')), 5);
    await expect(result).rejects.toThrow('stop');
    expect(state.closed).toBe(true);
  });
});

describe('before', () => {
  it('emits the injected values ahead of each value', async () => {
    const result = await drain(before(fromArray([1, 2]), (n) => (n === 2 ? [20, 21] : [])));
    expect(result).toEqual([1, 20, 21, 2]);
  });
});

describe('fanIn', () => {
  it('merges all values and keeps per-source order', async () => {
    const merged = await drain(
      fanIn<number | string>([fromArray([1, 2, 3]), fromArray(['a', 'b'])]),
    );
    expect(merged).toHaveLength(5);
    expect(merged.filter((v) => typeof v === 'number')).toEqual([1, 2, 3]);
    expect(merged.filter((v) => typeof v === 'string')).toEqual(['a', 'b']);
  });

  it('ends at once with zero sources', async () => {
    expect(await drain(fanIn([]))).toEqual([]);
  });

  it('closes every open source when the consumer stops', async () => {
    const a = trackedSource([1, 2, 3]);
    const b = trackedSource([4], { hangAt: 1 });
    await take(fanIn([a.iterable, b.iterable]), 2);
    expect(a.state.closed).toBe(true);
    expect(b.state.closed).toBe(true);
  });

  it('throws the error of a source and closes the others', async () => {
    const a = trackedSource([1], { failAt: 1 });
    const b = trackedSource([2], { hangAt: 1 });
    await expect(drain(fanIn([a.iterable, b.iterable]))).rejects.toThrow('boom at 1');
    expect(b.state.closed).toBe(true);
  });
});

describe('withSignal', () => {
  it('returns the source unchanged without a signal', () => {
    const source = fromArray([1]);
    expect(withSignal(source, undefined)).toBe(source);
  });
});
