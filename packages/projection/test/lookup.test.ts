import {
  createEvent,
  createMemoryEventBus,
  createMemoryEventStore,
  type Event,
  isGoesError,
  uuidv7,
  withBus,
} from '@goes/event';
import { afterEach, describe, expect, it } from '@jest/globals';
import { createLookup, type Lookup } from '../src/index.js';
import { insertAll, names, tick } from './helpers.js';

const opened: Lookup[] = [];
afterEach(async () => {
  for (const lookup of opened.splice(0)) await lookup.close();
});

type UserEvents = {
  registered: { email: string; alias?: string };
  renamed: { alias: string };
  deleted: Record<string, never>;
};

function setup() {
  const ns = names();
  const bus = createMemoryEventBus();
  const store = withBus(createMemoryEventStore(), bus);
  const user = ns.name('user');
  const n = {
    registered: ns.name('registered'),
    renamed: ns.name('renamed'),
    deleted: ns.name('deleted'),
  };
  const versions = new Map<string, number>();
  const event = <K extends keyof UserEvents>(kind: K, id: string, data: UserEvents[K]): Event => {
    const version = (versions.get(id) ?? 0) + 1;
    versions.set(id, version);
    return createEvent(n[kind], data, { aggregate: { name: user, id, version } });
  };
  const lookup = createLookup<Record<string, unknown>>(store, bus, {
    [n.registered]: (e: Event, table) => {
      const data = e.data as UserEvents['registered'];
      table.provide('email', data.email);
      if (data.alias) table.provide('alias', data.alias);
    },
    [n.renamed]: (e: Event, table) =>
      table.provide('alias', (e.data as UserEvents['renamed']).alias),
    [n.deleted]: (_: Event, table) => table.remove('email', 'alias'),
  });
  opened.push(lookup);
  return { store, bus, user, event, lookup };
}

const within = () => ({ signal: AbortSignal.timeout(10_000) });

describe('lookup', () => {
  it('looks values up by aggregate and key, and aggregates up by value', async () => {
    const { store, user, event, lookup } = setup();
    const ada = uuidv7();
    const bob = uuidv7();
    await store.insert([
      event('registered', ada, { email: 'ada@example.com' }),
      event('registered', bob, { email: 'bob@example.com' }),
    ]);
    await lookup.start();
    expect(await lookup.get(user, 'email', ada, within())).toBe('ada@example.com');
    expect(await lookup.reverse(user, 'email', 'bob@example.com', within())).toBe(bob);
    expect(await lookup.reverse(user, 'email', 'nobody@example.com')).toBeUndefined();
    expect(await lookup.get(user, 'email', uuidv7())).toBeUndefined();
    expect(await lookup.contains(user, 'email', ada)).toBe(true);
    expect(
      await lookup.expect(user, 'email', ada, { check: (v): v is string => typeof v === 'string' }),
    ).toBe('ada@example.com');
  });

  it('keeps the reverse index per key: equal values under different keys do not collide (goes bug 11)', async () => {
    const { store, user, event, lookup } = setup();
    const ada = uuidv7();
    const bob = uuidv7();
    await store.insert([
      event('registered', ada, { email: 'same' }),
      event('registered', bob, { email: 'bob@example.com', alias: 'same' }),
    ]);
    await lookup.start();
    expect(await lookup.reverse(user, 'email', 'same', within())).toBe(ada);
    expect(await lookup.reverse(user, 'alias', 'same')).toBe(bob);
    expect(await lookup.reverse(`${user}.other`, 'email', 'same')).toBeUndefined();
  });

  it('removes values and their reverse entries, without touching a value another aggregate took', async () => {
    const { store, user, event, lookup } = setup();
    const ada = uuidv7();
    const bob = uuidv7();
    await store.insert([event('registered', ada, { email: 'x', alias: 'shared' })]);
    await store.insert([event('renamed', bob, { alias: 'shared' })]); // bob takes the alias
    await store.insert([event('deleted', ada, {})]);
    await lookup.start();
    await lookup.ready(within());
    expect(await lookup.get(user, 'email', ada)).toBeUndefined();
    expect(await lookup.reverse(user, 'email', 'x')).toBeUndefined();
    expect(await lookup.reverse(user, 'alias', 'shared')).toBe(bob);
    const error = await lookup.expect(user, 'email', ada).catch((e: unknown) => e);
    expect(isGoesError(error, 'LOOKUP_NOT_FOUND')).toBe(true);
  });

  it('keeps a value findable while any aggregate still holds it: the latest holder answers', async () => {
    const { store, user, event, lookup } = setup();
    const ada = uuidv7();
    const bob = uuidv7();
    const cy = uuidv7();
    await store.insert([event('registered', ada, { email: 'a@example.com', alias: 'shared' })]);
    await store.insert([event('renamed', bob, { alias: 'shared' })]); // bob holds it too
    await store.insert([event('deleted', bob, {})]); // bob lets go: ada still holds it
    await lookup.start();
    await lookup.ready(within());
    expect(await lookup.reverse(user, 'alias', 'shared')).toBe(ada);
    await store.insert([event('renamed', cy, { alias: 'shared' })]);
    await store.insert([event('renamed', ada, { alias: 'other' })]); // ada moves on: cy remains
    while ((await lookup.reverse(user, 'alias', 'other')) === undefined) await tick();
    expect(await lookup.reverse(user, 'alias', 'shared')).toBe(cy);
    await store.insert([event('deleted', cy, {})]);
    while ((await lookup.reverse(user, 'alias', 'shared')) !== undefined) await tick();
    expect(await lookup.get(user, 'alias', ada)).toBe('other');
  });

  it('becomes ready only after the initial replay, even when live events come first (goes bug 11)', async () => {
    const { store, user, event, lookup } = setup();
    const ids = Array.from({ length: 3_000 }, () => uuidv7());
    await insertAll(
      store,
      ids.map((id, i) => event('registered', id, { email: `user${i}@example.com` })),
    );
    expect(lookup.isReady).toBe(false);
    await lookup.start();
    const late = uuidv7();
    await store.insert([event('registered', late, { email: 'late@example.com' })]);
    await lookup.ready(within());
    expect(lookup.isReady).toBe(true);
    const table = lookup.snapshot().get(user);
    expect(table?.size).toBeGreaterThanOrEqual(3_000);
    expect(await lookup.reverse(user, 'email', 'user2999@example.com')).toBe(ids[2_999]);
    while (!(await lookup.contains(user, 'email', late))) await tick();
    expect(await lookup.reverse(user, 'email', 'late@example.com')).toBe(late);
  });

  it('follows live events after the replay', async () => {
    const { store, user, event, lookup } = setup();
    await lookup.start();
    await lookup.ready(within());
    const ada = uuidv7();
    await store.insert([event('registered', ada, { email: 'a@example.com' })]);
    while ((await lookup.get(user, 'email', ada)) === undefined) await tick();
    await store.insert([event('renamed', ada, { alias: 'ace' })]);
    while ((await lookup.reverse(user, 'alias', 'ace')) === undefined) await tick();
    expect(await lookup.get(user, 'alias', ada)).toBe('ace');
  });

  it('waits for readiness on reads, honouring the signal; closing before ready rejects', async () => {
    const { user, lookup } = setup();
    await expect(
      lookup.get(user, 'email', uuidv7(), { signal: AbortSignal.timeout(10) }),
    ).rejects.toThrow();
    const waiting = lookup.ready();
    await lookup.close();
    await expect(waiting).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(lookup.start()).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('closes when the signal given to start() aborts: reads waiting for the replay fail instead of hanging', async () => {
    const { bus, user } = setup();
    // A store whose reads always fail: the replay never succeeds, so the lookup never gets ready.
    const failing = createMemoryEventStore();
    failing.query = () => ({
      [Symbol.asyncIterator]: () => ({
        next: () => Promise.reject(new Error('store down')),
      }),
    });
    const lookup = createLookup(
      failing,
      bus,
      { [`${user}.registered`]: () => {} },
      {
        onError: () => {},
      },
    );
    opened.push(lookup);
    const controller = new AbortController();
    await lookup.start({ signal: controller.signal });
    const waiting = lookup.get(user, 'email', uuidv7()); // no signal of its own
    controller.abort(new Error('stop'));
    await expect(waiting).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(lookup.start()).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('checks types in expect, takes manual writes, and indexes only primitive values', async () => {
    const { user, lookup } = setup();
    await lookup.start();
    await lookup.ready(within());
    const id = uuidv7();
    const provider = lookup.provider(user, id);
    provider.provide('age', 42);
    provider.provide('profile', { city: 'Berlin' });
    const error = await lookup
      .expect(user, 'age', id, { check: (v): v is string => typeof v === 'string' })
      .catch((e: unknown) => e);
    expect(isGoesError(error, 'LOOKUP_WRONG_TYPE')).toBe(true);
    expect(await lookup.reverse(user, 'age', 42)).toBe(id);
    expect(await lookup.reverse(user, 'age', '42')).toBeUndefined(); // type-tagged
    expect(await lookup.reverse(user, 'profile', { city: 'Berlin' })).toBeUndefined();
    expect(await lookup.expect(user, 'profile', id)).toEqual({ city: 'Berlin' });
    expect(() => provider.provide('', 1)).toThrow(/lookup key ""/);
    expect(() => lookup.provider('', id)).toThrow(/aggregate name ""/);
  });

  it('refuses empty or invalid providers', () => {
    const bus = createMemoryEventBus();
    const store = createMemoryEventStore();
    expect(() => createLookup(store, bus, {})).toThrow(/at least one event/);
    expect(() => createLookup(store, bus, { a: 'nope' as never })).toThrow(
      /"a" must be a function/,
    );
  });
});
