import type { Codec } from '@goes/codec';
import {
  ALL_EVENTS,
  type Event,
  type EventQuery,
  type EventStore,
  eventsEqual,
  isGoesError,
  isVersionConflictError,
  matches,
  nowNanos,
  query,
  type SortOption,
  sortEvents,
  uuidv7,
} from '@goes/event';
import { drain, take } from '@goes/streams';
import { afterEach, describe, expect, it } from '@jest/globals';
import {
  createTestCodec,
  expectEventsInOrder,
  expectSameEvents,
  type Namespace,
  namespace,
} from './fixtures.js';
import { randomQuery, seededRandom } from './random.js';

/**
 * Makes the store under test. Called once per test; stores of one suite may share their
 * underlying table or database, since every test uses its own event and aggregate names.
 *
 * @example
 * ```ts
 * const factory: EventStoreFactory = ({ codec }) => createMemoryEventStore({ codec });
 * ```
 */
export type EventStoreFactory = (context: {
  readonly codec: Codec;
}) => EventStore | Promise<EventStore>;

/**
 * Options of {@link eventStoreConformance}.
 *
 * @example
 * ```ts
 * eventStoreConformance('postgres', factory, { concurrentWriters: 16 });
 * ```
 */
export interface EventStoreConformanceOptions {
  /** Writers in the concurrent-append test. Default 8. */
  readonly concurrentWriters?: number | undefined;
  /** Randomized queries compared with `matches()`. Default 60. */
  readonly randomQueries?: number | undefined;
  /** Called after each test with the store (after the suite closed it). */
  readonly teardown?: ((store: EventStore) => void | Promise<void>) | undefined;
}

/**
 * The event store conformance suite: every case of goes' `eventstoretest` plus what goes did not
 * check — version conflicts under concurrent writers, atomic batches, global positions, query
 * results equal to {@link matches} on a randomized event set, nanosecond times, cancellation,
 * hostile strings and bad input answered with typed errors. Run it from a jest test file of any
 * {@link EventStore} implementation; it registers its own `describe` blocks.
 *
 * @example
 * ```ts
 * import { createMemoryEventStore } from '@goes/event';
 * import { eventStoreConformance } from '@goes/testing';
 *
 * eventStoreConformance('in-memory', ({ codec }) => createMemoryEventStore({ codec }));
 * ```
 */
export function eventStoreConformance(
  name: string,
  factory: EventStoreFactory,
  options: EventStoreConformanceOptions = {},
): void {
  const writers = options.concurrentWriters ?? 8;
  const randomQueries = options.randomQueries ?? 60;
  const opened: EventStore[] = [];
  const open = async (): Promise<EventStore> => {
    const store = await factory({ codec: createTestCodec() });
    opened.push(store);
    return store;
  };

  describe(`event store conformance: ${name}`, () => {
    afterEach(async () => {
      for (const store of opened.splice(0)) {
        await store.close();
        await options.teardown?.(store);
      }
    });

    describe('insert', () => {
      it('stores an event and refuses another with the same id', async () => {
        const store = await open();
        const ns = namespace();
        const [event] = ns.history('agg', 1);
        const stored = await store.insert([event as Event]);
        expect(stored).toHaveLength(1);
        expect(eventsEqual(stored[0] as Event, event as Event)).toBe(true);
        const again = ns.event('bar', { id: (event as Event).id });
        const error = await store.insert([again]).catch((e: unknown) => e);
        expect(isGoesError(error, 'DUPLICATE_EVENT')).toBe(true);
        expect(String((error as Error).message)).toContain((event as Event).id);
      });

      it('stores several events in one call', async () => {
        const store = await open();
        const ns = namespace();
        const events = [ns.event('foo'), ns.event('foo'), ns.event('foo')];
        await store.insert(events);
        expectSameEvents(await drain(store.query(query().name(ns.name('foo')))), events);
      });

      it('treats an empty batch as a no-op', async () => {
        const store = await open();
        expect(await store.insert([])).toEqual([]);
      });

      it('refuses a batch with a repeated version or id and stores none of it (goes InvalidMultiInsert)', async () => {
        const store = await open();
        const ns = namespace();
        const id = uuidv7();
        const eventId = uuidv7();
        const agg = (version: number, eventIdOverride?: string) =>
          ns.event('foo', {
            aggregate: { name: ns.name('agg'), id, version },
            id: eventIdOverride,
          });
        const batch = [agg(1), agg(2), agg(2), agg(3, eventId), agg(4, eventId)];
        await expect(store.insert(batch)).rejects.toBeDefined();
        expect(await drain(store.query(query().name(ns.name('foo'))))).toEqual([]);
        const duplicateIds = [ns.event('bar', { id: eventId }), ns.event('bar', { id: eventId })];
        const error = await store.insert(duplicateIds).catch((e: unknown) => e);
        expect(isGoesError(error, 'DUPLICATE_EVENT')).toBe(true);
        expect(await drain(store.query(query().name(ns.name('bar'))))).toEqual([]);
      });

      it('returns the stored events with strictly increasing positions', async () => {
        const store = await open();
        const ns = namespace();
        const first = await store.insert([ns.event('foo'), ns.event('foo')]);
        const second = await store.insert(ns.history('agg', 3));
        const positions = [...first, ...second].map((e) => e.position);
        for (const position of positions) expect(Number.isSafeInteger(position)).toBe(true);
        for (let i = 1; i < positions.length; i++)
          expect(positions[i] as number).toBeGreaterThan(positions[i - 1] as number);
      });

      it('keeps nanosecond times, unicode and hostile strings exactly', async () => {
        const store = await open();
        const ns = namespace();
        const hostile = {
          quote: "'; DROP TABLE events; --",
          operator: { $where: 'sleep(1000)', 'dotted.key': 1, $gt: '' },
          unicode: 'Grüße 👋 \u2028 \t\n',
          nested: [{ deep: [1, 2.5, null, true] }],
        };
        const times = [1_700_000_000_123_456_789n, 1n, 4_102_444_800_000_000_001n];
        const events = times.map((time) => ({ ...ns.event('foo', { time }), data: hostile }));
        await store.insert(events);
        for (const event of events)
          expect(eventsEqual(await store.find(event.id), event)).toBe(true);
      });
    });

    describe('find', () => {
      it('answers EventNotFoundError for an unknown id', async () => {
        const store = await open();
        const unknown = uuidv7();
        const error = await store.find(unknown).catch((e: unknown) => e);
        expect(isGoesError(error, 'EVENT_NOT_FOUND')).toBe(true);
        expect(String((error as Error).message)).toContain(unknown);
      });

      it('finds a stored event equal to the inserted one', async () => {
        const store = await open();
        const ns = namespace();
        const events = [ns.event('foo'), ...ns.history('agg', 2)];
        await store.insert(events);
        for (const event of events) {
          const found = await store.find(event.id);
          expect(eventsEqual(found, event)).toBe(true);
          expect(found.position).toBeDefined();
        }
      });
    });

    describe('delete', () => {
      it('deletes events: they are no longer found, others stay', async () => {
        const store = await open();
        const ns = namespace();
        const foo = ns.event('foo');
        const bar = ns.event('bar');
        await store.insert([foo]);
        await store.insert([bar]);
        await store.delete([foo]);
        expect(
          isGoesError(await store.find(foo.id).catch((e: unknown) => e), 'EVENT_NOT_FOUND'),
        ).toBe(true);
        expect(eventsEqual(await store.find(bar.id), bar)).toBe(true);
      });

      it('ignores unknown ids', async () => {
        const store = await open();
        await expect(store.delete([{ id: uuidv7() }])).resolves.toBeUndefined();
      });

      it('lets a deleted aggregate be created again from version 1', async () => {
        const store = await open();
        const ns = namespace();
        const history = ns.history('agg', 3);
        await store.insert(history);
        await store.delete(history);
        const ref = history[0]?.aggregate as { name: string; id: string };
        const recreated = ns.event('foo', { aggregate: { ...ref, version: 1 } });
        await store.insert([recreated]);
        expectSameEvents(await drain(store.query(query().aggregate(ref.name, ref.id))), [
          recreated,
        ]);
      });

      it('never reuses positions after a delete', async () => {
        const store = await open();
        const ns = namespace();
        const [a] = await store.insert([ns.event('foo')]);
        await store.delete([a as Event]);
        const [b] = await store.insert([ns.event('foo')]);
        expect((b as Event).position as number).toBeGreaterThan((a as Event).position as number);
      });
    });

    describe('concurrency', () => {
      it('handles 30 concurrent inserts', async () => {
        const store = await open();
        const ns = namespace();
        const events = Array.from({ length: 30 }, () => ns.event('foo'));
        await Promise.all(events.map((event) => store.insert([event])));
        expectSameEvents(await drain(store.query(query().name(ns.name('foo')))), events);
      });

      it('handles 30 concurrent finds', async () => {
        const store = await open();
        const ns = namespace();
        const event = ns.event('foo');
        await store.insert([event]);
        const found = await Promise.all(Array.from({ length: 30 }, () => store.find(event.id)));
        for (const f of found) expect(eventsEqual(f, event)).toBe(true);
      });

      it('handles 30 concurrent deletes', async () => {
        const store = await open();
        const ns = namespace();
        const events = Array.from({ length: 30 }, () => ns.event('foo'));
        await store.insert(events);
        await Promise.all(events.map((event) => store.delete([event])));
        expect(await drain(store.query(query().name(ns.name('foo'))))).toEqual([]);
      });
    });

    describe('versions', () => {
      it('refuses an append that does not follow the stored version with VersionConflictError', async () => {
        const store = await open();
        const ns = namespace();
        const [v1, v2, v3] = ns.history('agg', 3) as [Event, Event, Event];
        const ref = { name: v1.aggregate?.name as string, id: v1.aggregate?.id as string };
        await store.insert([v1]);

        const repeat = await store
          .insert([{ ...ns.event('foo'), aggregate: { ...ref, version: 1 } }])
          .catch((e: unknown) => e);
        expect(isVersionConflictError(repeat)).toBe(true);
        expect(repeat).toMatchObject({
          code: 'VERSION_CONFLICT',
          aggregate: ref,
          expected: 0,
          actual: 1,
        });

        const gap = await store.insert([v3]).catch((e: unknown) => e);
        expect(isVersionConflictError(gap)).toBe(true);
        expect(gap).toMatchObject({ aggregate: ref, expected: 2, actual: 1 });

        await store.insert([v2, v3]);
        expectEventsInOrder(await drain(store.query(query().aggregate(ref.name, ref.id))), [
          v1,
          v2,
          v3,
        ]);
      });

      it('refuses a new aggregate that does not start at version 1', async () => {
        const store = await open();
        const ns = namespace();
        const event = ns.event('foo', {
          aggregate: { name: ns.name('agg'), id: uuidv7(), version: 2 },
        });
        const error = await store.insert([event]).catch((e: unknown) => e);
        expect(error).toMatchObject({ code: 'VERSION_CONFLICT', expected: 1, actual: 0 });
      });

      it('stores a batch atomically: a conflict on one aggregate stores nothing of the batch', async () => {
        const store = await open();
        const ns = namespace();
        const [a1] = ns.history('a', 1) as [Event];
        const [b1, b2] = ns.history('b', 2) as [Event, Event];
        await store.insert([b1]);
        const conflicting = {
          ...b2,
          aggregate: {
            name: b1.aggregate?.name as string,
            id: b1.aggregate?.id as string,
            version: 5,
          },
        };
        const error = await store.insert([a1, conflicting]).catch((e: unknown) => e);
        expect(isVersionConflictError(error)).toBe(true);
        expect(
          isGoesError(await store.find(a1.id).catch((e: unknown) => e), 'EVENT_NOT_FOUND'),
        ).toBe(true);
      });

      it('allows several version-0 events of an aggregate (they take no version)', async () => {
        const store = await open();
        const ns = namespace();
        const [v1] = ns.history('agg', 1) as [Event];
        const ref = v1.aggregate as { name: string; id: string };
        await store.insert([v1]);
        const marks = [0, 0].map(() =>
          ns.event('mark', { aggregate: { name: ref.name, id: ref.id, version: 0 } }),
        );
        await store.insert([marks[0] as Event]);
        await store.insert([marks[1] as Event]);
        const v2 = ns.event('foo', { aggregate: { name: ref.name, id: ref.id, version: 2 } });
        await store.insert([v2]);
        expect(await drain(store.query(query().aggregate(ref.name, ref.id)))).toHaveLength(4);
      });

      it(`lets exactly one of ${writers} concurrent writers win each version; losers get VersionConflictError, nothing is lost`, async () => {
        const store = await open();
        const ns = namespace();
        const ref = { name: ns.name('counter'), id: uuidv7() };
        const perWriter = 5;

        // Round 1: everyone appends version 1 at once.
        const firstRound = await Promise.allSettled(
          Array.from({ length: writers }, (_, w) =>
            store.insert([ns.event(`w${w}`, { aggregate: { ...ref, version: 1 } })]),
          ),
        );
        expect(firstRound.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        for (const loss of firstRound.filter((r) => r.status === 'rejected')) {
          expect(isVersionConflictError((loss as PromiseRejectedResult).reason)).toBe(true);
        }

        // Then every writer appends its events, re-reading the version after each conflict.
        const currentVersion = async () => {
          let version = 0;
          for await (const e of store.query(query().aggregate(ref.name, ref.id)))
            version = Math.max(version, e.aggregate?.version ?? 0);
          return version;
        };
        let conflicts = 0;
        const written: Event[] = [];
        await Promise.all(
          Array.from({ length: writers }, async (_, w) => {
            for (let n = 0; n < perWriter; ) {
              const event = ns.event(`w${w}`, {
                aggregate: { ...ref, version: (await currentVersion()) + 1 },
              });
              try {
                await store.insert([event]);
                written.push(event);
                n++;
              } catch (error) {
                if (!isVersionConflictError(error)) throw error;
                conflicts++;
              }
            }
          }),
        );
        const stored = await drain(
          store.query(query().aggregate(ref.name, ref.id).sortBy('aggregateVersion')),
        );
        const total = writers * perWriter + 1;
        expect(stored.map((e) => e.aggregate?.version)).toEqual(
          Array.from({ length: total }, (_, i) => i + 1),
        );
        for (const event of written) expect(stored.some((s) => s.id === event.id)).toBe(true);
        expect(conflicts).toBeGreaterThanOrEqual(0);
      });
    });

    describe('positions', () => {
      it('returns events in position (insert) order when the query does not sort', async () => {
        const store = await open();
        const ns = namespace();
        const inserted: Event[] = [];
        for (let i = 0; i < 5; i++)
          inserted.push(
            ...(await store.insert([ns.event('foo', { time: BigInt(1000 - i) }), ns.event('bar')])),
          );
        const result = await drain(store.query(query().name(ns.name('foo'), ns.name('bar'))));
        expectEventsInOrder(result, inserted);
        expect(result.map((e) => e.position)).toEqual(inserted.map((e) => e.position));
      });

      it('filters and sorts by position', async () => {
        const store = await open();
        const ns = namespace();
        const stored = await store.insert([
          ns.event('foo'),
          ns.event('foo'),
          ns.event('foo'),
          ns.event('foo'),
        ]);
        const p = stored.map((e) => e.position as number);
        const after = await drain(
          store.query(
            query()
              .name(ns.name('foo'))
              .afterPosition(p[1] as number),
          ),
        );
        expectEventsInOrder(after, stored.slice(2));
        const window = await drain(
          store.query(
            query()
              .name(ns.name('foo'))
              .positionMin(p[1] as number)
              .positionMax(p[2] as number),
          ),
        );
        expectEventsInOrder(window, stored.slice(1, 3));
        const desc = await drain(
          store.query(query().name(ns.name('foo')).sortBy('position', 'desc')),
        );
        expectEventsInOrder(desc, [...stored].reverse());
      });
    });

    describe('query (goes eventstoretest)', () => {
      it('by name', async () => {
        const store = await open();
        const ns = namespace();
        const events = [
          ns.event('foo'),
          ...ns.history('a', 1),
          ...ns.history('b', 2),
          ns.event('bar'),
        ];
        await store.insert(events);
        expectSameEvents(
          await drain(store.query(query().name(ns.name('foo')))),
          events.slice(0, 4),
        );
      });

      it('by id', async () => {
        const store = await open();
        const ns = namespace();
        const events = [ns.event('foo'), ns.event('bar'), ns.event('baz')];
        await store.insert(events);
        const [e0, , e2] = events as [Event, Event, Event];
        expectSameEvents(await drain(store.query(query().id(e0.id, e2.id))), [e0, e2]);
      });

      it('by time (inclusive bounds)', async () => {
        const store = await open();
        const ns = namespace();
        const now = nowNanos();
        const month = 30n * 24n * 3600n * 1_000_000_000n;
        const events = [
          ns.event('foo', { time: now }),
          ns.event('bar', { time: now + month }),
          ns.event('baz', { time: now + 12n * month }),
        ];
        await store.insert(events);
        const q = query()
          .name(ns.name('foo'), ns.name('bar'), ns.name('baz'))
          .timeMin(now + month)
          .timeMax(now + 12n * month);
        expectSameEvents(await drain(store.query(q)), events.slice(1));
        const exact = query().name(ns.name('foo'), ns.name('bar'), ns.name('baz')).timeExact(now);
        expectSameEvents(await drain(store.query(exact)), events.slice(0, 1));
        const ranged = query()
          .name(ns.name('foo'), ns.name('bar'), ns.name('baz'))
          .timeRange(now - 1n, now)
          .timeRange(now + 12n * month, now + 12n * month);
        expectSameEvents(await drain(store.query(ranged)), [
          events[0] as Event,
          events[2] as Event,
        ]);
      });

      it('by aggregate name (non-aggregate events excluded)', async () => {
        const store = await open();
        const ns = namespace();
        const events = [
          ns.event('foo'),
          ...ns.history('agg', 1),
          ...ns.history('agg', 2),
          ...ns.history('other', 1),
        ];
        await store.insert(events);
        expectSameEvents(
          await drain(store.query(query().aggregateName(ns.name('agg')))),
          events.slice(1, 4),
        );
      });

      it('by aggregate id', async () => {
        const store = await open();
        const ns = namespace();
        const [a, b, c] = [ns.history('agg', 2), ns.history('agg', 1), ns.history('agg', 3)];
        await store.insert([...(a as Event[]), ...(b as Event[]), ...(c as Event[])]);
        const ids = [a, c].map((h) => (h[0] as Event).aggregate?.id as string);
        expectSameEvents(await drain(store.query(query().aggregateId(...ids))), [...a, ...c]);
      });

      it('by aggregate version (min 5, max 16 over histories of 2..32 events)', async () => {
        const store = await open();
        const ns = namespace();
        const events = [2, 4, 8, 16, 32].flatMap((n) => ns.history('agg', n));
        await store.insert(events);
        const q = query().aggregateName(ns.name('agg')).versionMin(5).versionMax(16);
        const result = await drain(store.query(q));
        expectSameEvents(
          result,
          events.filter(
            (e) => (e.aggregate?.version ?? 0) >= 5 && (e.aggregate?.version ?? 0) <= 16,
          ),
        );
        const exact = await drain(
          store.query(query().aggregateName(ns.name('agg')).versionExact(3, 30)),
        );
        expect(exact.map((e) => e.aggregate?.version).sort((x, y) => (x ?? 0) - (y ?? 0))).toEqual([
          3, 3, 3, 3, 30,
        ]);
        const ranges = await drain(
          store.query(
            query().aggregateName(ns.name('agg')).versionRange(1, 1).versionRange(32, 40),
          ),
        );
        expect(ranges).toHaveLength(6);
      });

      it('by aggregate refs (an id-less ref matches every aggregate of that name)', async () => {
        const store = await open();
        const ns = namespace();
        const id = uuidv7();
        const at = (name: string, aggregateId: string) =>
          ns.event('foo', { aggregate: { name: ns.name(name), id: aggregateId, version: 1 } });
        const events = [
          at('foo', uuidv7()),
          at('foo', id),
          at('bar', uuidv7()),
          at('bar', id),
          at('baz', uuidv7()),
          at('baz', id),
        ];
        await store.insert(events);
        const [, e1, , e3, e4, e5] = events as Event[];
        expectSameEvents(
          await drain(
            store.query(query().aggregate(ns.name('foo'), id).aggregate(ns.name('bar'), id)),
          ),
          [e1 as Event, e3 as Event],
        );
        expectSameEvents(
          await drain(store.query(query().aggregate(ns.name('foo'), id).aggregate(ns.name('baz')))),
          [e1 as Event, e4 as Event, e5 as Event],
        );
      });

      describe('sorting', () => {
        const hour = 3_600_000_000_000n;
        const cases: [
          string,
          SortOption[],
          ((ns: Namespace, events: Event[]) => EventQuery) | undefined,
        ][] = [
          ['time asc', [{ by: 'time', dir: 'asc' }], undefined],
          ['time desc', [{ by: 'time', dir: 'desc' }], undefined],
          [
            'time range + time asc',
            [{ by: 'time', dir: 'asc' }],
            (ns, e) => ({
              names: [ns.name('foo')],
              times: { min: (e[0] as Event).time, max: (e[4] as Event).time },
            }),
          ],
          [
            'time range + time desc',
            [{ by: 'time', dir: 'desc' }],
            (ns, e) => ({
              names: [ns.name('foo')],
              times: { min: (e[0] as Event).time, max: (e[4] as Event).time },
            }),
          ],
          ['aggregate name asc', [{ by: 'aggregateName', dir: 'asc' }], undefined],
          ['aggregate name desc', [{ by: 'aggregateName', dir: 'desc' }], undefined],
          ['aggregate id asc', [{ by: 'aggregateId', dir: 'asc' }], undefined],
          ['aggregate id desc', [{ by: 'aggregateId', dir: 'desc' }], undefined],
          ['aggregate version asc', [{ by: 'aggregateVersion', dir: 'asc' }], undefined],
          ['aggregate version desc', [{ by: 'aggregateVersion', dir: 'desc' }], undefined],
          [
            'aggregate name desc + version asc',
            [
              { by: 'aggregateName', dir: 'desc' },
              { by: 'aggregateVersion', dir: 'asc' },
            ],
            undefined,
          ],
        ];
        it.each(cases)('%s', async (_label, sort, filter) => {
          const store = await open();
          const ns = namespace();
          const now = nowNanos();
          const offsets = [12n, 1n, 48n, 0n, 24n];
          const events: Event[] = [];
          for (let i = 0; i < 5; i++) {
            const history = ns.history(`foo${i + 1}`, [3, 2, 5, 1, 4][i] as number);
            const last = history[history.length - 1] as Event;
            events.push({ ...last, time: now + (offsets[i] as bigint) * hour });
            await store.insert(
              history.slice(0, -1).map((e, v) => ({
                ...e,
                name: ns.name('prefix'),
                time: now - BigInt(v) - 10n * hour,
              })),
            );
          }
          await store.insert(events);
          const base: EventQuery = filter ? filter(ns, events) : { names: [ns.name('foo')] };
          const result = await drain(store.query({ ...base, sort }));
          expectEventsInOrder(
            result,
            sortEvents(
              events.filter((e) => matches(base, e)),
              sort,
            ),
          );
        });

        it('sorts aggregate names by code point, characters beyond U+FFFF last (byte order)', async () => {
          const store = await open();
          const ns = namespace();
          const events = ['\u{1F600}', '\uFFFD', 'z', '\uE000', 'é', '\u{10FFFF}'].map((suffix) =>
            ns.event('foo', { aggregate: { name: ns.name(suffix), id: uuidv7(), version: 1 } }),
          );
          await store.insert(events);
          for (const dir of ['asc', 'desc'] as const) {
            const sort: SortOption[] = [{ by: 'aggregateName', dir }];
            const result = await drain(store.query({ names: [ns.name('foo')], sort }));
            expectEventsInOrder(result, sortEvents(events, sort));
          }
        });

        it('sorts events without an aggregate first in ascending aggregate order', async () => {
          const store = await open();
          const ns = namespace();
          const events = [...ns.history('agg', 1), ns.event('foo')];
          await store.insert(events);
          const result = await drain(
            store.query({ names: [ns.name('foo')], sort: [{ by: 'aggregateName', dir: 'asc' }] }),
          );
          expect(result.map((e) => e.aggregate === undefined)).toEqual([true, false]);
        });
      });

      it(`returns exactly what matches() selects, for ${randomQueries} randomized queries`, async () => {
        const store = await open();
        const ns = namespace();
        const random = seededRandom(0x5eed);
        const names = ['foo', 'bar', 'baz', 'foobar'].map((n) => ns.name(n));
        const aggregates = ['a', 'b'].map((n) => ns.name(n));
        const inserted: Event[] = [];
        const base = nowNanos();
        for (let i = 0; i < 12; i++) {
          const aggregate = aggregates[i % 2] as string;
          const id = uuidv7();
          const count = 1 + Math.floor(random() * 8);
          const history = Array.from({ length: count }, (_, v) => ({
            ...ns.event('x', { aggregate: { name: aggregate, id, version: v + 1 } }),
            name: names[Math.floor(random() * names.length)] as string,
            time: base + BigInt(Math.floor(random() * 1000)) * 1_000_000n,
          }));
          inserted.push(...(await store.insert(history)));
          const loose = {
            ...ns.event('x'),
            name: names[Math.floor(random() * names.length)] as string,
            time: base + BigInt(Math.floor(random() * 1000)) * 1_000_000n,
          };
          inserted.push(...(await store.insert([loose])));
        }
        for (let i = 0; i < randomQueries; i++) {
          const q = randomQuery(random, { names, aggregates, events: inserted });
          const result = await drain(store.query(q));
          const expected = inserted.filter((e) => matches(q, e));
          if (q.sort && q.sort.length > 0)
            expectEventsInOrder(result, sortEvents(expected, q.sort));
          else expectEventsInOrder(result, expected);
        }
      });
    });

    describe('cancellation', () => {
      it('rejects with the abort reason when the signal aborts mid-stream', async () => {
        const store = await open();
        const ns = namespace();
        await store.insert(Array.from({ length: 300 }, () => ns.event('foo')));
        const controller = new AbortController();
        const reason = new Error('stop reading');
        let read = 0;
        const consume = async () => {
          for await (const _ of store.query(query().name(ns.name('foo')), {
            signal: controller.signal,
          })) {
            if (++read === 10) controller.abort(reason);
          }
        };
        await expect(consume()).rejects.toBe(reason);
        expect(read).toBe(10);
      });

      it('closes the cursor on break, so many abandoned queries do not exhaust the store', async () => {
        const store = await open();
        const ns = namespace();
        await store.insert(Array.from({ length: 300 }, () => ns.event('foo')));
        for (let i = 0; i < 40; i++)
          expect(await take(store.query(query().name(ns.name('foo'))), 3)).toHaveLength(3);
        expect(await drain(store.query(query().name(ns.name('foo'))))).toHaveLength(300);
      });

      it('refuses work for an already aborted signal and stores nothing', async () => {
        const store = await open();
        const ns = namespace();
        const event = ns.event('foo');
        await expect(store.insert([event], { signal: AbortSignal.abort() })).rejects.toBeDefined();
        expect(
          isGoesError(await store.find(event.id).catch((e: unknown) => e), 'EVENT_NOT_FOUND'),
        ).toBe(true);
      });
    });

    describe('bad input', () => {
      const badEvents: [string, (ns: Namespace) => unknown, string][] = [
        [
          'an id that is not a UUID',
          (ns) => ({ ...ns.event('foo'), id: 'not-a-uuid' }),
          'not-a-uuid',
        ],
        ['an upper-case id', (ns) => ({ ...ns.event('foo'), id: uuidv7().toUpperCase() }), 'UUID'],
        ['an empty name', (ns) => ({ ...ns.event('foo'), name: '' }), 'name'],
        ['a time that is not a bigint', (ns) => ({ ...ns.event('foo'), time: 5 }), 'time'],
        [
          'an aggregate id that is not a UUID',
          (ns) => ({
            ...ns.event('foo'),
            aggregate: { name: ns.name('a'), id: 'x-1', version: 1 },
          }),
          'x-1',
        ],
        [
          'an empty aggregate name',
          (ns) => ({ ...ns.event('foo'), aggregate: { name: '', id: uuidv7(), version: 1 } }),
          'aggregate name',
        ],
        [
          'a negative version',
          (ns) => ({
            ...ns.event('foo'),
            aggregate: { name: ns.name('a'), id: uuidv7(), version: -1 },
          }),
          '-1',
        ],
        [
          'a fractional version',
          (ns) => ({
            ...ns.event('foo'),
            aggregate: { name: ns.name('a'), id: uuidv7(), version: 1.5 },
          }),
          '1.5',
        ],
      ];
      it.each(badEvents)(
        'refuses %s with InvalidEventError and stores nothing of the batch',
        async (_label, make, mention) => {
          const store = await open();
          const ns = namespace();
          const good = ns.event('good');
          const error = await store.insert([good, make(ns) as Event]).catch((e: unknown) => e);
          expect(isGoesError(error, 'INVALID_EVENT')).toBe(true);
          expect(String((error as Error).message)).toContain(mention);
          expect(
            isGoesError(await store.find(good.id).catch((e: unknown) => e), 'EVENT_NOT_FOUND'),
          ).toBe(true);
        },
      );

      const badQueries: [string, unknown, string][] = [
        ['an id that is not a UUID', { ids: ['nope'] }, 'nope'],
        ['an aggregate id that is not a UUID', { aggregateIds: ['0190'] }, '0190'],
        ['an empty name', { names: [''] }, 'names[0]'],
        ['a time that is not a bigint', { times: { min: 5 } }, 'times.min'],
        ['a negative version', { aggregateVersions: { min: [-3] } }, '-3'],
        ['a reversed range', { aggregateVersions: { ranges: [[5, 2]] } }, 'starts after it ends'],
        ['an unknown sort field', { sort: [{ by: 'color', dir: 'asc' }] }, 'color'],
        ['an unknown field', { colour: ['red'] }, 'colour'],
        ['an aggregate filter without name', { aggregates: [{ id: uuidv7() }] }, 'aggregates[0]'],
      ];
      it.each(badQueries)(
        'refuses a query with %s by throwing InvalidQueryError at call',
        async (_label, q, mention) => {
          const store = await open();
          let error: unknown;
          try {
            store.query(q as EventQuery);
          } catch (e) {
            error = e;
          }
          expect(isGoesError(error, 'INVALID_QUERY')).toBe(true);
          expect(String((error as Error).message)).toContain(mention);
        },
      );

      it('answers ClosedError after close', async () => {
        const store = await open();
        await store.close();
        const error = await store.insert([namespace().event('foo')]).catch((e: unknown) => e);
        expect(isGoesError(error, 'CLOSED')).toBe(true);
      });
    });

    it('does not treat the wildcard name specially in queries', async () => {
      const store = await open();
      const ns = namespace();
      await store.insert([ns.event('foo')]);
      expect(
        await drain(store.query({ names: [ALL_EVENTS], aggregateNames: [ns.name('none')] })),
      ).toEqual([]);
    });
  });
}
