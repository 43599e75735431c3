import { describe, expect, it } from '@jest/globals';
import { before, createChannel, drain, fanIn, filter, fromArray, map, take } from '../src/index.js';
import { trackedSource } from './helpers.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

// Found in review: each failed before its fix.
describe('closing sources early and fan-in fairness', () => {
  it.each([
    ['filter', <T>(s: AsyncIterable<T>) => filter(s, () => true)],
    ['map', <T>(s: AsyncIterable<T>) => map(s, (v) => v)],
    ['before', <T>(s: AsyncIterable<T>) => before(s, () => [])],
  ])('%s closes a source that never produces when fanIn gives up on it', async (_, wrap) => {
    const { iterable, state } = trackedSource<number>([], { hangAt: 0 });
    const got = await take(fanIn([wrap(iterable), fromArray([1])]), 1);
    expect(got).toEqual([1]);
    await tick();
    expect(state.closed).toBe(true);
  });

  it('fanIn does not starve a source while another one is always ready', async () => {
    const a = fromArray(Array.from({ length: 100 }, () => 'a'));
    const b = fromArray(Array.from({ length: 100 }, () => 'b'));
    const firstTen = await take(fanIn([a, b]), 10);
    expect(firstTen).toContain('b');
  });

  it('fanIn closes the sources it opened when a later one cannot be iterated', async () => {
    const { iterable, state } = trackedSource<number>([1]);
    const channel = createChannel<number>();
    const consumer = channel[Symbol.asyncIterator](); // the channel's only consumer is taken
    await expect(drain(fanIn([iterable, channel]))).rejects.toThrow(TypeError);
    expect(state.closed).toBe(true);
    await consumer.return?.();
  });

  it('fanIn closes the other sources when a next() throws synchronously', async () => {
    const { iterable, state } = trackedSource<number>([], { hangAt: 0 });
    const broken: AsyncIterable<number> = {
      [Symbol.asyncIterator]: () => ({
        next: () => {
          throw new Error('sync');
        },
      }),
    };
    await expect(drain(fanIn([iterable, broken]))).rejects.toThrow('sync');
    expect(state.closed).toBe(true);
  });
});
