import { describe, expect, it } from '@jest/globals';
import { drain, first, forEach, fromArray, take, walk } from '../src/index.js';
import { trackedSource } from './helpers.js';

describe('walk', () => {
  it('calls fn for every value in order', async () => {
    const seen: number[] = [];
    await walk(fromArray([1, 2, 3]), (n) => {
      seen.push(n);
    });
    expect(seen).toEqual([1, 2, 3]);
  });

  it('stops at the first error of fn and closes the source', async () => {
    const { iterable, state } = trackedSource([1, 2, 3]);
    await expect(
      walk(iterable, (n) => {
        if (n === 2) throw new Error('stop');
      }),
    ).rejects.toThrow('stop');
    expect(state.closed).toBe(true);
  });

  it('rethrows an error of the source', async () => {
    const { iterable } = trackedSource([1, 2], { failAt: 1 });
    await expect(walk(iterable, () => {})).rejects.toThrow('boom at 1');
  });

  it('rejects with the abort reason while the source hangs, and closes it', async () => {
    const { iterable, state } = trackedSource([1], { hangAt: 1 });
    const controller = new AbortController();
    const done = walk(iterable, () => {}, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('cancelled')), 5);
    await expect(done).rejects.toThrow('cancelled');
    expect(state.closed).toBe(true);
  });

  it('rejects at once for an already aborted signal without reading', async () => {
    const { iterable, state } = trackedSource([1]);
    await expect(walk(iterable, () => {}, { signal: AbortSignal.abort() })).rejects.toBeDefined();
    expect(state.pulled).toBe(0);
  });
});

describe('drain', () => {
  it('collects all values', async () => {
    expect(await drain(fromArray(['a', 'b']))).toEqual(['a', 'b']);
  });
});

describe('take', () => {
  it('takes n values and closes the source', async () => {
    const { iterable, state } = trackedSource([1, 2, 3, 4]);
    expect(await take(iterable, 2)).toEqual([1, 2]);
    expect(state.closed).toBe(true);
    expect(state.pulled).toBe(2);
  });

  it('returns fewer values when the source ends first', async () => {
    expect(await take(fromArray([1]), 5)).toEqual([1]);
  });

  it('reads nothing for n <= 0', async () => {
    const { iterable, state } = trackedSource([1]);
    expect(await take(iterable, 0)).toEqual([]);
    expect(state.pulled).toBe(0);
  });
});

describe('first', () => {
  it('returns the first value and closes the source', async () => {
    const { iterable, state } = trackedSource(['x', 'y']);
    expect(await first(iterable)).toBe('x');
    expect(state.closed).toBe(true);
  });

  it('returns undefined for an empty source', async () => {
    expect(await first(fromArray([]))).toBeUndefined();
  });

  it('throws the error of the source (goes Await: value or error)', async () => {
    const { iterable } = trackedSource([1], { failAt: 0 });
    await expect(first(iterable)).rejects.toThrow('boom at 0');
  });
});

describe('forEach', () => {
  it('passes errors of fn to onError and continues', async () => {
    const errors: unknown[] = [];
    const seen: number[] = [];
    await forEach(
      fromArray([1, 2, 3]),
      (n) => {
        if (n === 2) throw new Error('two');
        seen.push(n);
      },
      (error) => errors.push(error),
    );
    expect(seen).toEqual([1, 3]);
    expect(errors).toHaveLength(1);
  });

  it('reports a source error to onError and ends', async () => {
    const errors: unknown[] = [];
    const { iterable } = trackedSource([1, 2], { failAt: 1 });
    await forEach(
      iterable,
      () => {},
      (error) => errors.push(error),
    );
    expect(String(errors[0])).toContain('boom at 1');
  });
});
