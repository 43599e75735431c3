import {
  createEvent,
  type Event,
  eventsEqual,
  isGoesError,
  isVersionConflictError,
  matches,
  query,
  type SortOption,
  sortEvents,
  uuidv7,
} from '@goes/event';
import { drain } from '@goes/streams';
import { expectEventsInOrder, expectSameEvents, namespace } from '@goes/testing';
import { afterAll, describe, expect, it } from '@jest/globals';
import type { CommandStartedEvent, Document } from 'mongodb';
import { createMongoEventStore } from '../src/index.js';
import { type EventDocument, tombstone } from '../src/internal/documents.js';
import { storeFixture, testClient } from './support.js';

const fixture = storeFixture('store');
const { client, database, open } = fixture;
const raw = fixture.events;

afterAll(() => fixture.cleanUp());

describe('storage layout', () => {
  it('stores one document per event, with the data as the codec text and the position as _id', async () => {
    const store = open();
    const ns = namespace();
    const [a, b] = ns.history('order', 2) as [Event, Event];
    const loose = ns.event('note');
    const stored = await store.insert([a, b, loose]);
    const docs = await raw(store).find({}).sort({ _id: 1 }).toArray();
    expect(docs).toHaveLength(3);
    expect(docs.map((doc) => doc._id)).toEqual(
      stored.map((event) => String(event.position).padStart(16, '0')),
    );
    expect(docs[0]).toMatchObject({
      id: a.id,
      name: a.name,
      aggregateName: a.aggregate?.name,
      aggregateId: a.aggregate?.id,
      aggregateVersion: 1,
      data: JSON.stringify(a.data),
    });
    // Events without an aggregate sort as if their aggregate were "" at version 0.
    expect(docs[2]).toMatchObject({ aggregateName: '', aggregateId: '', aggregateVersion: 0 });
  });

  it('keeps $-prefixed and dotted names and data keys as plain values, never as operators', async () => {
    const store = open();
    const id = uuidv7();
    const hostile = [
      createEvent('$where', { $set: { 'a.b': 1 }, $gt: '' }),
      createEvent('a.b', { $: 1 }, { aggregate: { name: '$in', id, version: 1 } }),
      createEvent('$gt', { x: 1 }, { aggregate: { name: 'x.y', id, version: 1 } }),
      createEvent('plain', {}, { aggregate: { name: '$ne', id: uuidv7(), version: 1 } }),
    ] as Event[];
    await store.insert(hostile);
    for (const event of hostile) expect(eventsEqual(await store.find(event.id), event)).toBe(true);
    expectSameEvents(await drain(store.query(query().name('$gt'))), [hostile[2] as Event]);
    expectSameEvents(await drain(store.query(query().name('$where', 'a.b'))), hostile.slice(0, 2));
    expectSameEvents(await drain(store.query(query().aggregateName('$ne'))), [hostile[3] as Event]);
    expectSameEvents(await drain(store.query(query().aggregate('$in', id))), [hostile[1] as Event]);
    expect(await drain(store.query(query().aggregateName('$exists')))).toEqual([]);
  });

  it('refuses names MongoDB cannot store unchanged and times beyond 64 bits, storing nothing', async () => {
    const store = open();
    const ns = namespace();
    const good = ns.event('good');
    const cases: [Event, string][] = [
      [createEvent('lone\uD800', {}), 'surrogate'],
      [
        createEvent('ok', {}, { aggregate: { name: 'agg\uDC00', id: uuidv7(), version: 1 } }),
        'surrogate',
      ],
      [createEvent('late', {}, { time: 2n ** 63n }), '64-bit'],
      [createEvent('early', {}, { time: -(2n ** 63n) - 1n }), '64-bit'],
    ];
    for (const [bad, mention] of cases) {
      const error = await store.insert([good, bad]).catch((e: unknown) => e);
      expect(isGoesError(error, 'INVALID_EVENT')).toBe(true);
      expect(String((error as Error).message)).toContain(mention);
    }
    expect(isGoesError(await store.find(good.id).catch((e: unknown) => e), 'EVENT_NOT_FOUND')).toBe(
      true,
    );
    const extremes = [
      createEvent(ns.name('t'), {}, { time: 2n ** 63n - 1n }),
      createEvent(ns.name('t'), {}, { time: -(2n ** 63n) }),
    ];
    await store.insert(extremes);
    for (const event of extremes) expect((await store.find(event.id)).time).toBe(event.time);
  });
});

describe('query translation', () => {
  it('answers time bounds beyond the 64-bit range like matches()', async () => {
    const store = open();
    const ns = namespace();
    const events = [ns.event('a', { time: 5n }), ns.event('a', { time: 2n ** 62n })];
    await store.insert(events);
    const huge = 2n ** 70n;
    const queries = [
      query().name(ns.name('a')).timeMin(huge),
      query().name(ns.name('a')).timeMax(huge),
      query().name(ns.name('a')).timeMin(-huge),
      query().name(ns.name('a')).timeMax(-huge),
      query().name(ns.name('a')).timeExact(huge, 5n),
      query().name(ns.name('a')).timeExact(huge),
      query().name(ns.name('a')).timeRange(-huge, 6n),
      query()
        .name(ns.name('a'))
        .timeRange(huge, huge + 1n),
    ];
    for (const q of queries) {
      expectSameEvents(
        await drain(store.query(q)),
        events.filter((e) => matches(q, e)),
      );
    }
  });

  it('matches version filters only on aggregate events, version 0 included', async () => {
    const store = open();
    const ns = namespace();
    const id = uuidv7();
    const events = [
      ns.event('e'),
      ns.event('e', { aggregate: { name: ns.name('agg'), id, version: 0 } }),
      ns.event('e', { aggregate: { name: ns.name('agg'), id, version: 1 } }),
    ];
    await store.insert(events);
    for (const q of [
      query().name(ns.name('e')).versionMin(0),
      query().name(ns.name('e')).versionExact(0),
      query().name(ns.name('e')).versionMax(0),
      query().name(ns.name('e')).versionRange(0, 5),
    ]) {
      expectSameEvents(
        await drain(store.query(q)),
        events.filter((e) => matches(q, e)),
      );
    }
  });

  it('sorts like sortEvents() on every key and direction, events without aggregate and version 0 included', async () => {
    const store = open();
    const ns = namespace();
    const ids = [uuidv7(), uuidv7()];
    const events: Event[] = [];
    const times = [30n, 10n, 20n, 10n, 40n, 20n, 30n, 10n];
    const aggregates = [
      undefined,
      { name: ns.name('b'), id: ids[0] as string, version: 1 },
      { name: ns.name('a'), id: ids[1] as string, version: 1 },
      undefined,
      { name: ns.name('b'), id: ids[0] as string, version: 0 },
      { name: ns.name('a'), id: ids[1] as string, version: 2 },
      { name: ns.name('b'), id: ids[0] as string, version: 2 },
      { name: ns.name('a'), id: ids[1] as string, version: 0 },
    ];
    for (const [i, aggregate] of aggregates.entries()) {
      const event = ns.event('s', {
        time: times[i] as bigint,
        ...(aggregate ? { aggregate } : {}),
      });
      events.push(...(await store.insert([event])));
    }
    const fields: SortOption['by'][] = [
      'time',
      'aggregateName',
      'aggregateId',
      'aggregateVersion',
      'position',
    ];
    const sorts: SortOption[][] = [];
    for (const by of fields) {
      for (const dir of ['asc', 'desc'] as const) {
        sorts.push([{ by, dir }]);
        for (const then of fields)
          if (then !== by)
            sorts.push([
              { by, dir },
              { by: then, dir: 'desc' },
            ]);
      }
    }
    sorts.push([
      { by: 'time', dir: 'asc' },
      { by: 'time', dir: 'desc' },
      { by: 'aggregateVersion', dir: 'desc' },
    ]);
    for (const sort of sorts) {
      const result = await drain(store.query({ names: [ns.name('s')], sort }));
      expectEventsInOrder(result, sortEvents(events, sort));
    }
  });
});

describe('versions and delete', () => {
  it('lets a deleted aggregate start again at version 1 (goes bug 5)', async () => {
    const store = open();
    const ns = namespace();
    const history = ns.history('agg', 3);
    const ref = history[0]?.aggregate as { name: string; id: string };
    await store.insert(history);
    await store.delete(history);
    const again = ns.history('agg', 2).map((e) => ({
      ...e,
      aggregate: { ...ref, version: e.aggregate?.version as number },
    }));
    await store.insert(again);
    expectEventsInOrder(await drain(store.query(query().aggregate(ref.name, ref.id))), again);
    // The new life is incarnation 1: its versions do not collide with the deleted ones' slots.
    const slots = await raw(store)
      .find({ aggregateId: ref.id, deleted: { $exists: false } })
      .toArray();
    expect(slots.map((doc) => doc.slot)).toEqual(['i1', 'i1']);
    // Deleting it again and creating it once more moves on to incarnation 2.
    await store.delete(again);
    const third = ns.history('agg', 1).map((e) => ({ ...e, aggregate: { ...ref, version: 1 } }));
    await store.insert(third);
    expectEventsInOrder(await drain(store.query(query().aggregate(ref.name, ref.id))), third);
  });

  it('after deleting the last version, the previous one is current again', async () => {
    const store = open();
    const ns = namespace();
    const history = ns.history('agg', 3) as [Event, Event, Event];
    const ref = history[0].aggregate as { name: string; id: string };
    await store.insert(history);
    await store.delete([history[2]]);
    const error = await store
      .insert([ns.event('x', { aggregate: { ...ref, version: 4 } })])
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'VERSION_CONFLICT', expected: 3, actual: 2 });
    await store.insert([ns.event('x', { aggregate: { ...ref, version: 3 } })]);
  });

  it('refuses version 1 while later versions remain after version 1 was deleted', async () => {
    const store = open();
    const ns = namespace();
    const history = ns.history('agg', 3) as [Event, Event, Event];
    const ref = history[0].aggregate as { name: string; id: string };
    await store.insert(history);
    await store.delete([history[0], history[1]]);
    const error = await store
      .insert([ns.event('x', { aggregate: { ...ref, version: 1 } })])
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'VERSION_CONFLICT', expected: 0, actual: 3 });
    await store.insert([ns.event('x', { aggregate: { ...ref, version: 4 } })]);
  });

  it('notices appends by other stores: the unique version slot refuses the stale one', async () => {
    const a = open();
    const b = open({ collection: a.names.events });
    const ns = namespace();
    const history = ns.history('agg', 2) as [Event, Event];
    const ref = history[0].aggregate as { name: string; id: string };
    await a.insert(history);
    await b.insert([ns.event('x', { aggregate: { ...ref, version: 3 } })]);
    const conflict = await a
      .insert([ns.event('x', { aggregate: { ...ref, version: 3 } })])
      .catch((e: unknown) => e);
    expect(isVersionConflictError(conflict)).toBe(true);
    expect(conflict).toMatchObject({ expected: 2, actual: 3 });
    await a.insert([ns.event('x', { aggregate: { ...ref, version: 4 } })]);
  });

  it('takes the slot after a deleted last version before it replaces the versions', async () => {
    // In the other order a writer that still believes in the last version could append after
    // it between the two writes.
    const monitored = testClient({ monitorCommands: true });
    const store = createMongoEventStore({
      client: monitored,
      database,
      collection: 'events_monitored',
    });
    try {
      const ns = namespace();
      const history = ns.history('agg', 3);
      const ref = history[0]?.aggregate as { name: string; id: string };
      await store.insert(history);
      const writes: string[] = [];
      monitored.on('commandStarted', (event: CommandStartedEvent) => {
        const command = event.command;
        if (command.insert === store.names.events) {
          const docs = command.documents as Document[];
          writes.push(docs.map((doc) => `insert v${doc.aggregateVersion} ${doc.deleted}`).join());
        } else if (command.update === store.names.events) {
          writes.push(`update ${(command.updates as Document[]).length}`);
        }
      });
      await store.delete(history);
      expect(writes).toEqual(['insert v4 true', 'update 3']);
      const again = ns.event('again', { aggregate: { ...ref, version: 1 } });
      await store.insert([again]);
      expectEventsInOrder(await drain(store.query(query().aggregate(ref.name, ref.id))), [again]);
    } finally {
      await store.close();
      await monitored.close();
    }
  });

  it('keeps an aggregate usable when a delete stopped after taking the slot after the last version', async () => {
    const store = open();
    const other = open({ collection: store.names.events });
    const ns = namespace();
    const history = ns.history('agg', 3);
    const ref = history[0]?.aggregate as { name: string; id: string };
    await store.insert(history);
    // What the delete of all three leaves when it stops after its first write: the poison
    // placeholder at the next position, and the versions not yet replaced.
    const [last] = await raw(store).find({}).sort({ _id: -1 }).limit(1).toArray();
    const position = Number(last?._id) + 1;
    await client
      .db(database)
      .collection<EventDocument>(store.names.events)
      .insertOne(
        tombstone(
          position,
          {
            aggregateName: ref.name,
            aggregateId: ref.id,
            aggregateVersion: 4,
            slot: '',
            batchStart: position,
            batchEnd: position,
            settled: true,
          },
          true,
        ),
      );
    // The store that wrote version 3 tries slot 4 of the first incarnation, collides, and
    // appends in the next one; a store that knows nothing follows it there.
    const v4 = ns.event('x', { aggregate: { ...ref, version: 4 } });
    await store.insert([v4]);
    const v5 = ns.event('x', { aggregate: { ...ref, version: 5 } });
    await other.insert([v5]);
    expectEventsInOrder(await drain(store.query(query().aggregate(ref.name, ref.id))), [
      ...history,
      v4,
      v5,
    ]);
    const conflict = await other
      .insert([ns.event('x', { aggregate: { ...ref, version: 5 } })])
      .catch((e: unknown) => e);
    expect(conflict).toMatchObject({ code: 'VERSION_CONFLICT', expected: 4, actual: 5 });
    // Its life spans two incarnations now; created again after a delete, it needs one where no
    // tombstone blocks any version of the new batch (1…6 crosses both old lives).
    await store.delete([...history, v4, v5]);
    const again = [1, 2, 3, 4, 5, 6].map((version) =>
      ns.event('y', { aggregate: { ...ref, version } }),
    );
    await other.insert(again);
    expectEventsInOrder(await drain(store.query(query().aggregate(ref.name, ref.id))), again);
    await store.insert([ns.event('z', { aggregate: { ...ref, version: 7 } })]);
  });

  it('notices deletes by other stores: an append after a deleted version is refused', async () => {
    const a = open();
    const b = open({ collection: a.names.events });
    const ns = namespace();
    const history = ns.history('agg', 3);
    const ref = history[0]?.aggregate as { name: string; id: string };
    await a.insert(history);
    await b.delete(history);
    const conflict = await a
      .insert([ns.event('x', { aggregate: { ...ref, version: 4 } })])
      .catch((e: unknown) => e);
    expect(conflict).toMatchObject({ code: 'VERSION_CONFLICT', expected: 3, actual: 0 });
    await a.insert([ns.event('x', { aggregate: { ...ref, version: 1 } })]);
  });
});
