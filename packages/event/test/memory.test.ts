import { createRegistry } from '@goes/codec';
import { drain } from '@goes/streams';
import { describe, expect, it } from '@jest/globals';
import {
  createEvent,
  createMemoryEventBus,
  createMemoryEventStore,
  type Event,
  type EventBus,
  type EventQuery,
  isGoesError,
  query,
  uuidv7,
  withBus,
} from '../src/index.js';

describe('in-memory store specifics', () => {
  it('keeps data objects as given without a codec, and copies through the codec with one', async () => {
    const data = { n: 1 };
    const plain = createMemoryEventStore();
    const [stored] = await plain.insert([createEvent('x', data)]);
    expect((await plain.find((stored as Event).id)).data).toBe(data);

    const coded = createMemoryEventStore({ codec: createRegistry() });
    const [other] = await coded.insert([createEvent('x', data)]);
    const found = await coded.find((other as Event).id);
    expect(found.data).toEqual(data);
    expect(found.data).not.toBe(data);
  });

  it('refuses data the codec cannot encode and stores nothing', async () => {
    const store = createMemoryEventStore({ codec: createRegistry() });
    const error = await store
      .insert([createEvent('x', 1), createEvent('y', { big: 1n })])
      .catch((e: unknown) => e);
    expect(isGoesError(error, 'CODEC_ENCODE_FAILED')).toBe(true);
    expect(store.size).toBe(0);
  });

  it('stores a whole batch even when its codec cannot decode what it encoded', async () => {
    const codec = createRegistry().register('y', {
      decode: () => {
        throw new Error('cannot decode');
      },
    });
    const store = createMemoryEventStore({ codec });
    const data = { n: 2 };
    const stored = await store.insert([
      createEvent('x', 1),
      createEvent('y', data),
      createEvent('x', 3),
    ]);
    expect(stored.map((e) => e.data)).toEqual([1, data, 3]);
    expect(stored.map((e) => e.position)).toEqual([1, 2, 3]);
    expect(store.size).toBe(3);
    await expect(store.find((stored[1] as Event).id)).rejects.toThrow('cannot decode');
  });

  it('finds the events of one aggregate by version bounds through its version index', async () => {
    const store = createMemoryEventStore();
    const id = uuidv7();
    const ref = { name: 'counter', id };
    const at = (version: number) =>
      createEvent('counter.ticked', version, { aggregate: { ...ref, version } });
    await store.insert([at(1), at(2), at(3)]);
    await store.insert([createEvent('counter.marked', 0, { aggregate: { ...ref, version: 0 } })]);
    await store.insert([at(4), at(5)]);
    await store.insert([
      createEvent('other', 9, { aggregate: { name: 'counter', id: uuidv7(), version: 1 } }),
    ]);
    const versions = async (q: EventQuery) =>
      (await drain(store.query(q))).map((e) => e.aggregate?.version);
    const one = query().aggregate('counter', id);
    expect(await versions(one.versionMin(2))).toEqual([2, 3, 4, 5]);
    expect(await versions(one.versionMin(2).versionMax(4))).toEqual([2, 3, 4]);
    // Without a lower bound the version-0 event matches too (0 <= 2), as matches() says.
    expect(await versions(one.versionMax(2))).toEqual([1, 2, 0]);
    expect(await versions(one.versionMin(6))).toEqual([]);
    expect(await versions(one.versionMin(0))).toEqual([1, 2, 3, 0, 4, 5]);
    expect(await versions(one.versionMin(2).name('counter.marked'))).toEqual([]);
    const [, v2] = await drain(store.query(one));
    await store.delete([v2 as Event]);
    expect(await versions(one.versionMin(1))).toEqual([1, 3, 4, 5]);
    expect(await versions(query().aggregate('counter', uuidv7()).versionMin(1))).toEqual([]);
  });

  it('reports its size', async () => {
    const store = createMemoryEventStore();
    const stored = await store.insert([createEvent('x', 1), createEvent('x', 2)]);
    await store.delete(stored.slice(0, 1));
    expect(store.size).toBe(1);
  });

  it('a query sees the store as it was when the iteration started', async () => {
    const store = createMemoryEventStore();
    await store.insert([createEvent('x', 1)]);
    const results: Event[] = [];
    for await (const event of store.query(query().name('x'))) {
      results.push(event);
      if (results.length === 1) await store.insert([createEvent('x', 2)]);
    }
    expect(results).toHaveLength(1);
    expect(await drain(store.query(query().name('x')))).toHaveLength(2);
  });
});

describe('in-memory bus overflow policies', () => {
  const publishMany = async (bus: EventBus, count: number) => {
    for (let i = 0; i < count; i++) await bus.publish([createEvent('tick', i)]);
  };

  it('fail: ends the slow subscription with SubscriberOverflowError after what it queued', async () => {
    const bus = createMemoryEventBus({ bufferSize: 4 });
    const subscription = await bus.subscribe(['tick']);
    await publishMany(bus, 10);
    const received: unknown[] = [];
    const error = await (async () => {
      for await (const event of subscription) received.push(event.data);
    })().catch((e: unknown) => e);
    expect(received).toEqual([0, 1, 2, 3]);
    expect(isGoesError(error, 'SUBSCRIBER_OVERFLOW')).toBe(true);
  });

  it('drop: drops for the slow subscriber only and reports each drop', async () => {
    const bus = createMemoryEventBus();
    const errors: unknown[] = [];
    const slow = await bus.subscribe(['tick'], {
      bufferSize: 2,
      overflow: 'drop',
      onError: (e) => errors.push(e),
    });
    await publishMany(bus, 5);
    await slow.close();
    expect(errors).toHaveLength(3);
    expect(errors.every((e) => isGoesError(e, 'SUBSCRIBER_OVERFLOW'))).toBe(true);
  });

  it('block: publish waits until the subscriber makes room', async () => {
    const bus = createMemoryEventBus();
    const subscription = await bus.subscribe(['tick'], { bufferSize: 1, overflow: 'block' });
    await bus.publish([createEvent('tick', 0)]);
    let published = false;
    const pending = bus.publish([createEvent('tick', 1)]).then(() => {
      published = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(published).toBe(false);
    const iterator = subscription[Symbol.asyncIterator]();
    expect((await iterator.next()).value?.data).toBe(0);
    await pending;
    expect(published).toBe(true);
    expect((await iterator.next()).value?.data).toBe(1);
  });

  it('refuses a bad buffer size', () => {
    expect(() => createMemoryEventBus({ bufferSize: 0 })).toThrow('bufferSize 0');
  });

  it('refuses to publish after close', async () => {
    const bus = createMemoryEventBus();
    await bus.close();
    expect(
      isGoesError(await bus.publish([createEvent('x', 1)]).catch((e: unknown) => e), 'CLOSED'),
    ).toBe(true);
  });
});

describe('withBus', () => {
  it('publishes the stored events (with positions) after insert', async () => {
    const bus = createMemoryEventBus();
    const store = withBus(createMemoryEventStore(), bus);
    const subscription = await bus.subscribe(['x']);
    const [stored] = await store.insert([createEvent('x', 1)]);
    const iterator = subscription[Symbol.asyncIterator]();
    const published = (await iterator.next()).value as Event;
    expect(published.id).toBe((stored as Event).id);
    expect(published.position).toBe((stored as Event).position);
  });

  it('a failed publish never makes a stored event look unsaved', async () => {
    const failures: unknown[] = [];
    const broken: EventBus = {
      publish: async () => {
        throw new Error('bus down');
      },
      subscribe: async () => {
        throw new Error('unused');
      },
      close: async () => {},
      [Symbol.asyncDispose]: async () => {},
    };
    const inner = createMemoryEventStore();
    const store = withBus(inner, broken, { onPublishError: (error) => failures.push(error) });
    const event = createEvent('x', 1);
    await expect(store.insert([event])).resolves.toHaveLength(1);
    expect((await inner.find(event.id)).id).toBe(event.id);
    expect(String(failures[0])).toContain('bus down');
  });

  it('publishes only what an insert stored', async () => {
    const bus = createMemoryEventBus();
    const published: Event[] = [];
    const subscription = await bus.subscribe(['x'], { overflow: 'drop' });
    const store = withBus(createMemoryEventStore(), bus);
    const event = createEvent('x', 1);
    await store.insert([event]);
    await expect(store.insert([event])).rejects.toBeDefined();
    await subscription.close();
    for await (const e of subscription) published.push(e);
    expect(published.map((e) => e.id)).toEqual([event.id]);
  });
});

describe('isGoesError', () => {
  it('recognises goes errors by brand and code, not any object with a string code', async () => {
    const { EventNotFoundError, isGoesError } = await import('../src/index.js');
    const { UnknownNameError } = await import('@goes/codec');
    expect(isGoesError(new EventNotFoundError('x'), 'EVENT_NOT_FOUND')).toBe(true);
    expect(isGoesError(new UnknownNameError('x'), 'CODEC_UNKNOWN_NAME')).toBe(true);
    const driverError = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(isGoesError(driverError)).toBe(false);
    expect(isGoesError({ code: 'EVENT_NOT_FOUND' })).toBe(false);
    // A copy of the error rebuilt elsewhere (another install) still carries the brand.
    const foreign = Object.assign(Object.create({ [Symbol.for('goes.error')]: true }), {
      code: 'CLOSED',
    });
    expect(isGoesError(foreign, 'CLOSED')).toBe(true);
  });
});
