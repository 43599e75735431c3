import type { Codec } from '@goes/codec';
import { describe, expect, it } from '@jest/globals';
import {
  awaitEvent,
  createEvent,
  createMemoryEventBus,
  createMemoryEventStore,
  query,
} from '../src/index.js';

// Found in review: each failed before its fix.
describe('awaitEvent', () => {
  it('resolves once subscribed, before the event, and then delivers the event', async () => {
    const bus = createMemoryEventBus();
    const { event } = await awaitEvent(bus, ['order.placed']);
    const placed = createEvent('order.placed', { total: 1 });
    await bus.publish([createEvent('other', 0), placed]);
    expect((await event)?.id).toBe(placed.id);
    await bus.close();
  });
});

describe('in-memory query cursor', () => {
  it('rejects from next() instead of throwing at the call when data cannot be decoded', async () => {
    const undecodable: Codec = {
      encode: () => '{}',
      decode: () => {
        throw new Error('cannot decode');
      },
      validate: (_name, data) => data,
      has: () => true,
      names: () => [],
    };
    const store = createMemoryEventStore({ codec: undecodable });
    await store.insert([createEvent('a', 1), createEvent('b', 2)]);
    const cursor = store.query(query())[Symbol.asyncIterator]();
    let next: Promise<IteratorResult<unknown>> | undefined;
    expect(() => {
      next = cursor.next();
    }).not.toThrow();
    await expect(next).rejects.toThrow('cannot decode');
    await expect(cursor.next()).resolves.toEqual({ done: true, value: undefined });
  });
});
