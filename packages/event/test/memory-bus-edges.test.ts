import { getEventListeners } from 'node:events';
import { drain, take } from '@goes/streams';
import { describe, expect, it } from '@jest/globals';
import {
  createEvent,
  createMemoryEventBus,
  createMemoryEventStore,
  type Event,
  withBus,
} from '../src/index.js';

// Edge cases of the in-memory bus and withBus found in review: each failed before its fix.
describe('in-memory bus edge cases', () => {
  it('a subscription to a name and * receives each event once', async () => {
    const bus = createMemoryEventBus();
    const sub = await bus.subscribe(['a', '*']);
    await bus.publish([createEvent('a', 1), createEvent('b', 2)]);
    await sub.close();
    expect((await drain(sub)).map((e) => e.name)).toEqual(['a', 'b']);
  });

  it('a throwing onError of one subscriber does not keep others from the event', async () => {
    const bus = createMemoryEventBus();
    const bad = await bus.subscribe(['a'], {
      bufferSize: 1,
      overflow: 'drop',
      onError: () => {
        throw new Error('boom');
      },
    });
    const good = await bus.subscribe(['a']);
    await bus.publish([createEvent('a', 1)]);
    await bus.publish([createEvent('a', 2)]);
    expect((await take(good, 2)).map((e) => e.data)).toEqual([1, 2]);
    await bad.close();
  });

  it('a publish blocked by a full block subscriber rejects when its signal aborts', async () => {
    const bus = createMemoryEventBus();
    const sub = await bus.subscribe(['a'], { bufferSize: 1, overflow: 'block' });
    const controller = new AbortController();
    const publishing = bus.publish([createEvent('a', 1), createEvent('a', 2)], {
      signal: controller.signal,
    });
    controller.abort(new Error('gave up'));
    await expect(publishing).rejects.toThrow('gave up');
    await sub.close();
  });

  it('closing a subscription removes its abort listener', async () => {
    const bus = createMemoryEventBus();
    const controller = new AbortController();
    const sub = await bus.subscribe(['a'], { signal: controller.signal });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    await sub.close();
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('withBus: a throwing onPublishError does not make a stored insert reject', async () => {
    const bus = createMemoryEventBus();
    await bus.close();
    const store = withBus(createMemoryEventStore(), bus, {
      onPublishError: () => {
        throw new Error('logger down');
      },
    });
    const [stored] = await store.insert([createEvent('a', 1)]);
    expect((stored as Event).position).toBe(1);
  });
});
