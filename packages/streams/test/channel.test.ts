import { describe, expect, it } from '@jest/globals';
import { createChannel, drain, take } from '../src/index.js';

describe('createChannel', () => {
  it('delivers pushed values in order, then ends on close', async () => {
    const channel = createChannel<number>({ capacity: 4 });
    expect(channel.tryPush(1)).toBe(true);
    expect(channel.tryPush(2)).toBe(true);
    channel.close();
    expect(await drain(channel)).toEqual([1, 2]);
  });

  it('refuses values beyond its capacity with tryPush', () => {
    const channel = createChannel<number>({ capacity: 2 });
    expect(channel.tryPush(1)).toBe(true);
    expect(channel.tryPush(2)).toBe(true);
    expect(channel.tryPush(3)).toBe(false);
    expect(channel.size).toBe(2);
  });

  it('push waits for room (back-pressure) and resolves once the consumer reads', async () => {
    const channel = createChannel<number>({ capacity: 1 });
    channel.tryPush(1);
    let queued = false;
    const pushed = channel.push(2).then((ok) => {
      queued = ok;
    });
    await Promise.resolve();
    expect(queued).toBe(false);
    const iterator = channel[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toBe(1);
    await pushed;
    expect(queued).toBe(true);
    expect((await iterator.next()).value).toBe(2);
  });

  it('hands a value straight to a waiting consumer', async () => {
    const channel = createChannel<string>({ capacity: 1 });
    const next = channel[Symbol.asyncIterator]().next();
    expect(channel.tryPush('a')).toBe(true);
    expect(await next).toEqual({ done: false, value: 'a' });
  });

  it('fail delivers buffered values first, then throws', async () => {
    const channel = createChannel<number>();
    channel.tryPush(1);
    channel.fail(new Error('broken'));
    const iterator = channel[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toBe(1);
    await expect(iterator.next()).rejects.toThrow('broken');
  });

  it('the consumer stopping closes the channel, calls onClose and releases producers', async () => {
    let closes = 0;
    const channel = createChannel<number>({ capacity: 1, onClose: () => closes++ });
    channel.tryPush(1);
    const admitted = channel.push(2);
    const waiting = channel.push(3);
    expect(await take(channel, 1)).toEqual([1]);
    expect(await admitted).toBe(true);
    expect(await waiting).toBe(false);
    expect(channel.size).toBe(0);
    expect(channel.closed).toBe(true);
    expect(channel.tryPush(3)).toBe(false);
    expect(closes).toBe(1);
  });

  it('push rejects with the abort reason while it waits', async () => {
    const channel = createChannel<number>({ capacity: 1 });
    channel.tryPush(1);
    const controller = new AbortController();
    const waiting = channel.push(2, { signal: controller.signal });
    controller.abort(new Error('gave up'));
    await expect(waiting).rejects.toThrow('gave up');
    expect(channel.size).toBe(1);
  });

  it('has exactly one consumer', () => {
    const channel = createChannel<number>();
    channel[Symbol.asyncIterator]();
    expect(() => channel[Symbol.asyncIterator]()).toThrow(TypeError);
  });

  it('rejects a capacity below 1', () => {
    expect(() => createChannel({ capacity: 0 })).toThrow(RangeError);
  });
});
