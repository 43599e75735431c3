/**
 * The write protocol under failure: writers that died after inserting a whole batch or half of
 * one (simulated by writing their documents directly), conflicts with such batches, and what
 * readers see meanwhile.
 */
import { type Event, eventsEqual, isGoesError, query, uuidv7 } from '@goes/event';
import { drain } from '@goes/streams';
import { expectEventsInOrder, expectSameEvents, namespace } from '@goes/testing';
import { afterAll, describe, expect, it } from '@jest/globals';
import type { MongoEventStore } from '../src/index.js';
import { formatPosition, toDocument, tombstone } from '../src/internal/documents.js';
import { EventLog } from '../src/internal/event-log.js';
import { Meta } from '../src/internal/meta.js';
import { Versions } from '../src/internal/versions.js';
import { storeFixture } from './support.js';

const fixture = storeFixture('protocol');
const { open } = fixture;
const events = fixture.events;

afterAll(() => fixture.cleanUp());

/**
 * Writes what a writer that died mid-protocol leaves behind: its batch's documents at the next
 * free positions, without a commit marker. With `stored < batch.length` the batch is
 * half-written (its last documents are missing).
 */
async function crashedWriter(store: MongoEventStore, batch: Event[], stored = batch.length) {
  const [last] = await events(store).find({}).sort({ _id: -1 }).limit(1).toArray();
  const start = last ? Number(last._id) + 1 : 1;
  const end = start + batch.length - 1;
  const docs = batch
    .slice(0, stored)
    .map((event, i) => toDocument(event, JSON.stringify(event.data), start + i, start, end));
  await events(store).insertMany(docs);
  return { start, end };
}

const notFound = async (store: MongoEventStore, id: string) =>
  isGoesError(await store.find(id).catch((e: unknown) => e), 'EVENT_NOT_FOUND');

describe('a writer that died after storing its whole batch', () => {
  it('leaves the batch out of queries until the next insert commits it, in position order', async () => {
    const store = open();
    const ns = namespace();
    const before = await store.insert([ns.event('e')]);
    const orphan = ns.history('agg', 3);
    await crashedWriter(store, orphan);
    expect(await drain(store.query(query().name(ns.name('foo'))))).toEqual([]);
    // A complete batch is final, so find shows it at once; queries by position wait for the
    // commit, which the next insert makes.
    expect(eventsEqual(await store.find((orphan[0] as Event).id), orphan[0] as Event)).toBe(true);

    const after = await store.insert([ns.event('e')]);
    const all = await drain(store.query(query().name(ns.name('e'), ns.name('foo'))));
    expectEventsInOrder(all, [...before, ...orphan, ...after]);
    expect(eventsEqual(await store.find((orphan[2] as Event).id), orphan[2] as Event)).toBe(true);
  });

  it('counts its versions: the next append of that aggregate follows them', async () => {
    const store = open();
    const ns = namespace();
    const orphan = ns.history('agg', 2) as [Event, Event];
    const ref = orphan[0].aggregate as { name: string; id: string };
    await crashedWriter(store, orphan);
    const conflict = await store
      .insert([ns.event('x', { aggregate: { ...ref, version: 1 } })])
      .catch((e: unknown) => e);
    expect(conflict).toMatchObject({ code: 'VERSION_CONFLICT', expected: 0, actual: 2 });
    await store.insert([ns.event('x', { aggregate: { ...ref, version: 3 } })]);
    expect(
      (await drain(store.query(query().aggregate(ref.name, ref.id)))).map(
        (e) => e.aggregate?.version,
      ),
    ).toEqual([1, 2, 3]);
  });
});

describe('a writer that died halfway through its batch', () => {
  it('never shows any of it; the next insert turns it into tombstones', async () => {
    const store = open();
    const ns = namespace();
    const half = [ns.event('h'), ns.event('h'), ns.event('h')];
    const { start } = await crashedWriter(store, half, 2);
    expect(await drain(store.query(query().name(ns.name('h'))))).toEqual([]);
    const [next] = await store.insert([ns.event('n')]);
    // The half-written batch's positions stay taken: nothing can ever appear there.
    expect((next as Event).position).toBe(start + 2);
    expect(await drain(store.query(query().name(ns.name('h'))))).toEqual([]);
    for (const event of half) expect(await notFound(store, event.id)).toBe(true);
    const docs = await events(store)
      .find({ _id: { $in: [formatPosition(start), formatPosition(start + 1)] } })
      .toArray();
    expect(docs.map((doc) => doc.deleted)).toEqual([true, true]);
    // Its events can be stored again: the tombstones released their ids.
    await store.insert(half);
    expectSameEvents(await drain(store.query(query().name(ns.name('h')))), half);
  });

  it('does not block its aggregate: an append of the same version wins', async () => {
    const store = open();
    const ns = namespace();
    const [v1] = await store.insert(ns.history('agg', 1));
    const ref = (v1 as Event).aggregate as { name: string; id: string };
    const half = [2, 3].map((version) => ns.event('h', { aggregate: { ...ref, version } }));
    await crashedWriter(store, half, 1);
    const v2 = ns.event('x', { aggregate: { ...ref, version: 2 } });
    await store.insert([v2]);
    expectEventsInOrder(await drain(store.query(query().aggregate(ref.name, ref.id))), [
      v1 as Event,
      v2,
    ]);
  });

  it('does not hold its event ids: the same events can be inserted', async () => {
    const store = open();
    const ns = namespace();
    const batch = [ns.event('h'), ns.event('h')];
    await crashedWriter(store, batch, 1);
    await store.insert(batch);
    expectSameEvents(await drain(store.query(query().name(ns.name('h')))), batch);
  });
});

describe('settling a range that holds tombstones', () => {
  /** A second store on the same collection: it knows nothing, so its insert settles the log. */
  const secondStore = (store: MongoEventStore) => {
    const other = open({ collection: store.names.events });
    return other;
  };

  it('keeps a complete uncommitted batch one of whose events was deleted', async () => {
    const store = open();
    const ns = namespace();
    const orphan = ns.history('agg', 3) as [Event, Event, Event];
    const ref = orphan[0].aggregate as { name: string; id: string };
    const { start, end } = await crashedWriter(store, orphan);
    expect([start, end]).toEqual([1, 3]);
    // A middle version: no poison placeholder, so nothing settles the log during the delete.
    await store.delete([orphan[1]]);
    const [next] = await secondStore(store).insert([ns.event('n')]);
    expect((next as Event).position).toBe(4);
    expectEventsInOrder(await drain(store.query(query().aggregate(ref.name, ref.id))), [
      orphan[0],
      orphan[2],
    ]);
    for (const event of [orphan[0], orphan[2]]) {
      expect(eventsEqual(await store.find(event.id), event)).toBe(true);
    }
    // The deleted version keeps its slot: settling did not replace its tombstone.
    const middle = await events(store).findOne({ _id: formatPosition(2) });
    expect(middle).toMatchObject({ deleted: true, aggregateVersion: 2, slot: '' });
  });

  it('keeps a complete uncommitted batch whose last event was deleted', async () => {
    const store = open();
    const ns = namespace();
    const orphan = [ns.event('o'), ns.event('o'), ns.event('o')] as [Event, Event, Event];
    await crashedWriter(store, orphan);
    await store.delete([orphan[2]]);
    await secondStore(store).insert([ns.event('n')]);
    expectEventsInOrder(await drain(store.query(query().name(ns.name('o')))), [
      orphan[0],
      orphan[1],
    ]);
  });

  it('tells every kind of tombstone apart: deleted events, placeholders and rolled-back batches', async () => {
    const store = open();
    const ns = namespace();
    const [a1, a2, a3] = ns.history('agg', 3) as [Event, Event, Event];
    const ref = a1.aggregate as { name: string; id: string };
    const [dead1, dead2, dead3] = [ns.event('h'), ns.event('h'), ns.event('h')];
    const doc = (event: Event, position: number, batchStart: number, batchEnd: number) =>
      toDocument(event, JSON.stringify(event.data), position, batchStart, batchEnd);
    await events(store).insertMany([
      // 1…3: a complete batch (no settled flag, no marker) whose version 2 was deleted.
      doc(a1, 1, 1, 3),
      tombstone(2, doc(a2, 2, 1, 3), true),
      doc(a3, 3, 1, 3),
      // 4: the poison placeholder a delete of version 4 would leave (a batch of one).
      tombstone(
        4,
        {
          aggregateName: ref.name,
          aggregateId: ref.id,
          aggregateVersion: 4,
          slot: 'i9',
          batchStart: 4,
          batchEnd: 4,
        },
        true,
      ),
      // 5: a seal placeholder (a batch of one).
      tombstone(5, { batchStart: 5, batchEnd: 5 }),
      // 6…8: a batch rolled back after 6 and 7 were stored; its writer died before turning 7
      // into a tombstone (8 was never written).
      tombstone(6, { batchStart: 6, batchEnd: 8 }),
      doc(dead2, 7, 6, 8),
    ]);
    const [next] = await secondStore(store).insert([ns.event('n')]);
    expect((next as Event).position).toBe(8);
    expectEventsInOrder(await drain(store.query(query().aggregate(ref.name, ref.id))), [a1, a3]);
    expect(await drain(store.query(query().name(ns.name('h'))))).toEqual([]);
    for (const event of [dead1, dead2, dead3]) expect(await notFound(store, event.id)).toBe(true);
    const docs = await events(store).find({}).sort({ _id: 1 }).toArray();
    expect(docs.map((d) => [Number(d._id), d.deleted === true])).toEqual([
      [1, false],
      [2, true],
      [3, false],
      [4, true],
      [5, true],
      [6, true],
      [7, true],
      [8, false],
    ]);
    // Tombstones that hold version slots still hold them.
    expect(docs[1]).toMatchObject({ aggregateVersion: 2, slot: '' });
    expect(docs[3]).toMatchObject({ aggregateVersion: 4, slot: 'i9' });
  });
});

describe('duplicates', () => {
  it('answers DuplicateEventError for an id stored by a complete but uncommitted batch', async () => {
    const store = open();
    const ns = namespace();
    const orphan = [ns.event('o')];
    await crashedWriter(store, orphan);
    const error = await store.insert([orphan[0] as Event]).catch((e: unknown) => e);
    expect(isGoesError(error, 'DUPLICATE_EVENT')).toBe(true);
    expect(String((error as Error).message)).toContain((orphan[0] as Event).id);
  });

  it('stores nothing of a batch whose second event has a stored id', async () => {
    const store = open();
    const ns = namespace();
    const [stored] = await store.insert([ns.event('a')]);
    const fresh = ns.event('a');
    const error = await store.insert([fresh, stored as Event]).catch((e: unknown) => e);
    expect(isGoesError(error, 'DUPLICATE_EVENT')).toBe(true);
    expect(await notFound(store, fresh.id)).toBe(true);
    // The half-inserted attempt left only a tombstone behind.
    expect(await events(store).countDocuments({ id: fresh.id })).toBe(0);
  });

  it('stores nothing of a batch whose later event takes a stored version', async () => {
    const store = open();
    const ns = namespace();
    const id = uuidv7();
    const b = { name: ns.name('b'), id };
    await store.insert([ns.event('x', { aggregate: { ...b, version: 1 } })]);
    const writerA = open({ collection: store.names.events });
    // Version 1 of b passes the check before the insert (b is not blocked); the unique version
    // slot must catch it, after a1 was inserted.
    const a1 = ns.event('x', { aggregate: { name: ns.name('a'), id: uuidv7(), version: 1 } });
    const error = await writerA
      .insert([a1, ns.event('x', { aggregate: { ...b, version: 1 } })])
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'VERSION_CONFLICT', expected: 0, actual: 1 });
    expect(await notFound(store, a1.id)).toBe(true);
  });
});

describe('a delete racing a writer that dies', () => {
  it('keeps the slot after a deleted last version taken when a half-written batch held it first', async () => {
    const store = open();
    const ns = namespace();
    const history = ns.history('agg', 3);
    const ref = history[0]?.aggregate as { name: string; id: string };
    // `store` wrote version 3: it appends version 4 without reading (its cache).
    await store.insert(history);
    // The delete of another process, step by step, with a writer that dies in between: the
    // delete reads the last version...
    const raw = events(store);
    const log = new EventLog(
      raw,
      new Meta(fixture.client.db(fixture.database).collection(store.names.meta)),
      100,
    );
    const versions = new Versions(raw, log);
    const last = await versions.stored(ref);
    expect(last).toEqual({ version: 3, incarnation: 0 });
    // ...a writer stores the first half of versions 4 and 5 and dies...
    const half = [4, 5].map((version) => ns.event('h', { aggregate: { ...ref, version } }));
    await crashedWriter(store, half, 1);
    // ...the delete takes the slot after version 3 (held by the dead writer's version 4) and
    // replaces the versions.
    await versions.poison(ref, last);
    const doomed = await raw.find({ id: { $in: history.map((e) => e.id) } }).toArray();
    await log.tombstone(doomed, true);
    // Any insert settles the dead writer's batch, which releases the slots it held.
    await open({ collection: store.names.events }).insert([ns.event('n')]);
    // The aggregate is deleted: a writer that still believes in version 3 must be refused.
    const conflict = await store
      .insert([ns.event('x', { aggregate: { ...ref, version: 4 } })])
      .catch((e: unknown) => e);
    expect(conflict).toMatchObject({ code: 'VERSION_CONFLICT', expected: 3, actual: 0 });
    expect(await drain(store.query(query().aggregate(ref.name, ref.id)))).toEqual([]);
  });
});
