import { drain } from '@goes/streams';
import { describe, expect, it } from '@jest/globals';
import {
  createEvent,
  createMemoryEventStore,
  type Event,
  matches,
  query,
  uuidv7,
} from '../src/index.js';

// Edge cases of the in-memory store found in review: each failed before its fix.
describe('in-memory store edge cases', () => {
  it('versionMax-only query returns the version-0 events matches() selects', async () => {
    const store = createMemoryEventStore();
    const id = uuidv7();
    const ref = { name: 'order', id };
    await store.insert([
      createEvent('a', 1, { aggregate: { ...ref, version: 1 } }),
      createEvent('note', 2, { aggregate: { ...ref, version: 0 } }),
      createEvent('b', 3, { aggregate: { ...ref, version: 2 } }),
    ]);
    const q = query().aggregate('order', id).versionMax(5);
    const all = await drain(store.query(query()));
    const expected = all.filter((e) => matches(q, e)).map((e) => e.id);
    expect((await drain(store.query(q))).map((e) => e.id)).toEqual(expected);
    expect(expected).toHaveLength(3);
  });

  it('deleting the latest event of a huge aggregate keeps the store consistent', async () => {
    const store = createMemoryEventStore();
    const id = uuidv7();
    const events: Event[] = [];
    for (let v = 1; v <= 200_000; v++)
      events.push({
        id: uuidv7(),
        name: 'x',
        time: 1n,
        data: null,
        aggregate: { name: 'big', id, version: v },
      });
    await store.insert(events);
    await store.delete([events[events.length - 1] as Event]);
    expect(store.size).toBe(199_999);
    await store.insert([
      createEvent('x', null, { aggregate: { name: 'big', id, version: 200_000 } }),
    ]);
  });

  it('a delete batch with a malformed entry deletes nothing', async () => {
    const store = createMemoryEventStore();
    const [stored] = await store.insert([createEvent('a', 1)]);
    const batch = [stored as Event, null] as unknown as { id: string }[];
    await expect(store.delete(batch)).rejects.toThrow(TypeError);
    expect(store.size).toBe(1);
  });
});
