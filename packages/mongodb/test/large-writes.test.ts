/**
 * Writes of many documents at once: deletes and rollbacks replace each document by a tombstone,
 * and FerretDB 1.24 never answers an update command of 100 statements or more, so the store
 * must split them. The client gives up on a silent socket, so a hang fails the test instead of
 * stalling the run.
 */
import { type Event, isGoesError, query } from '@goes/event';
import { drain } from '@goes/streams';
import { expectEventsInOrder, namespace } from '@goes/testing';
import { afterAll, describe, expect, it } from '@jest/globals';
import { storeFixture } from './support.js';

const fixture = storeFixture('large', { socketTimeoutMS: 20_000 });
const { open } = fixture;
const events = fixture.events;

afterAll(() => fixture.cleanUp());

/** Above FerretDB's limit of 99 update statements per command, and above one insert chunk. */
const MANY = 150;

describe('writes of more than 99 documents', () => {
  it('deletes 150 events in one call', async () => {
    const store = open();
    const ns = namespace();
    const history = ns.history('agg', MANY);
    const ref = history[0]?.aggregate as { name: string; id: string };
    const other = ns.event('other');
    await store.insert([...history, other]);
    await store.delete(history);
    expect(await drain(store.query(query().aggregate(ref.name, ref.id)))).toEqual([]);
    expectEventsInOrder(await drain(store.query(query().name(ns.name('other')))), [other]);
    expect(await events(store).countDocuments({ aggregateId: ref.id, deleted: true })).toBe(
      // The deleted versions and the poison placeholder after the last one.
      MANY + 1,
    );
    const again = ns.event('again', { aggregate: { ...ref, version: 1 } });
    await store.insert([again]);
    expectEventsInOrder(await drain(store.query(query().aggregate(ref.name, ref.id))), [again]);
  });

  it('rolls back a batch whose 150th event has a stored id', async () => {
    const store = open();
    const ns = namespace();
    const [stored] = (await store.insert([ns.event('first')])) as [Event];
    const fresh = Array.from({ length: MANY - 1 }, () => ns.event('fresh'));
    const error = await store.insert([...fresh, stored]).catch((e: unknown) => e);
    expect(isGoesError(error, 'DUPLICATE_EVENT')).toBe(true);
    expect(await events(store).countDocuments({ deleted: true })).toBe(MANY - 1);
    expect(await events(store).countDocuments({ name: ns.name('fresh') })).toBe(0);
    const [next] = (await store.insert([ns.event('next')])) as [Event];
    expect(next.position).toBe(MANY + 1);
    expect(await drain(store.query(query().name(ns.name('fresh'))))).toEqual([]);
  });

  it('rolls back a batch whose 150th event takes a stored version', async () => {
    const store = open();
    const ns = namespace();
    const [v1] = (await store.insert(ns.history('agg', 1))) as [Event];
    const ref = v1.aggregate as { name: string; id: string };
    // Another store appends without reading: version 1 of a new aggregate in its view.
    const writer = open({ collection: store.names.events });
    const fresh = Array.from({ length: MANY - 1 }, () => ns.event('fresh'));
    const error = await writer
      .insert([...fresh, ns.event('late', { aggregate: { ...ref, version: 1 } })])
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'VERSION_CONFLICT', expected: 0, actual: 1 });
    expect(await events(store).countDocuments({ deleted: true })).toBe(MANY - 1);
    expect(await drain(store.query(query().name(ns.name('fresh'))))).toEqual([]);
    expectEventsInOrder(await drain(store.query(query().aggregate(ref.name, ref.id))), [v1]);
  });
});
