import {
  AggregateRoot,
  type AggregateSortOption,
  aggregateComparator,
  createSnapshot,
  isSnapshotNotFoundError,
  matchesSnapshot,
  type Snapshot,
  type SnapshotQuery,
  type SnapshotStore,
} from '@goes/aggregate';
import { isGoesError, nowNanos, uuidv7 } from '@goes/event';
import { drain, take } from '@goes/streams';
import { afterEach, describe, expect, it } from '@jest/globals';
import { type Namespace, namespace } from './fixtures.js';
import { seededRandom } from './random.js';

/**
 * Makes the snapshot store under test. Called once per test; stores of one suite may share their
 * table or collection, since every test uses its own aggregate names.
 *
 * @example
 * ```ts
 * const factory: SnapshotStoreFactory = () => createMemorySnapshotStore();
 * ```
 */
export type SnapshotStoreFactory = () => SnapshotStore | Promise<SnapshotStore>;

/**
 * Options of {@link snapshotStoreConformance}.
 *
 * @example
 * ```ts
 * snapshotStoreConformance('postgres', factory, { randomQueries: 20 });
 * ```
 */
export interface SnapshotStoreConformanceOptions {
  /** Randomized queries compared with `matchesSnapshot()`. Default 40. */
  readonly randomQueries?: number | undefined;
  /** Called after each test with the store (after the suite closed it). */
  readonly teardown?: ((store: SnapshotStore) => void | Promise<void>) | undefined;
}

/** The aggregate of goes' storetest: a counter whose state is `{ Foo }`. */
class Snapshotter extends AggregateRoot<{ 'snapshotter.set': { Foo: number } }> {
  foo = 0;

  constructor(name: string, id: string, version = 0, foo = 0) {
    super(name, id);
    this.applyWith({
      'snapshotter.set': (event) => {
        this.foo = event.data.Foo;
      },
    });
    this.setVersion(version);
    this.foo = foo;
  }

  snapshotState(): { Foo: number } {
    return { Foo: this.foo };
  }

  restoreSnapshot(state: { Foo: number }): void {
    this.foo = state.Foo;
  }
}

/** A snapshot of aggregate `name`/`id` at `version`, taken `ageNanos` ago. */
function snap(name: string, id: string, version: number, ageNanos = 0n): Snapshot {
  return createSnapshot(new Snapshotter(name, id, version, version * 10), {
    time: nowNanos() - ageNanos,
  });
}

const keyOf = (s: Snapshot) => `${s.aggregateName}/${s.aggregateId}/${s.version}`;

function expectSnapshotEqual(actual: Snapshot, expected: Snapshot): void {
  expect({ ...actual, time: String(actual.time) }).toEqual({
    ...expected,
    time: String(expected.time),
  });
}

/** Asserts the same snapshots in the same order (compared by key, then every field). */
function expectSnapshotsInOrder(actual: readonly Snapshot[], expected: readonly Snapshot[]): void {
  expect(actual.map(keyOf)).toEqual(expected.map(keyOf));
  actual.forEach((snapshot, i) => {
    expectSnapshotEqual(snapshot, expected[i] as Snapshot);
  });
}

const TIE_BREAK: AggregateSortOption[] = [
  { by: 'name', dir: 'asc' },
  { by: 'id', dir: 'asc' },
  { by: 'version', dir: 'asc' },
];

/** The order the contract promises: the query's keys, then name, id and version ascending. */
function contractOrder(snapshots: readonly Snapshot[], sort: readonly AggregateSortOption[] = []) {
  const compare = aggregateComparator([...sort, ...TIE_BREAK]);
  return [...snapshots].sort((a, b) =>
    compare(
      { aggregateName: a.aggregateName, id: a.aggregateId, version: a.version },
      { aggregateName: b.aggregateName, id: b.aggregateId, version: b.version },
    ),
  );
}

/**
 * The snapshot store conformance suite: every case of goes' `aggregate/snapshot/storetest`
 * (save, latest, version, limit, query by name/id/version/time, sorting, delete) plus what goes
 * did not check — equality of everything stored (nanosecond time, state, soft-delete flag),
 * replacement on save, isolation by (name, id), query results equal to `matchesSnapshot()` on
 * randomized queries, the default order, bad input, cancellation and close. Run it from a jest
 * test file of any {@link SnapshotStore}; it registers its own `describe` blocks.
 *
 * @example
 * ```ts
 * import { createMemorySnapshotStore } from '@goes/aggregate';
 * import { snapshotStoreConformance } from '@goes/testing';
 *
 * snapshotStoreConformance('in-memory', () => createMemorySnapshotStore());
 * ```
 */
export function snapshotStoreConformance(
  name: string,
  factory: SnapshotStoreFactory,
  options: SnapshotStoreConformanceOptions = {},
): void {
  const randomQueries = options.randomQueries ?? 40;
  const opened: SnapshotStore[] = [];
  const open = async (): Promise<SnapshotStore> => {
    const store = await factory();
    opened.push(store);
    return store;
  };
  const saveAll = async (store: SnapshotStore, snapshots: readonly Snapshot[]) => {
    for (const snapshot of snapshots) await store.save(snapshot);
  };
  const notFound = async (promise: Promise<Snapshot>) => {
    const error = await promise.then(
      (value) => ({ unexpected: value }),
      (e: unknown) => e,
    );
    expect(isSnapshotNotFoundError(error)).toBe(true);
    return error as Error;
  };

  describe(`snapshot store conformance: ${name}`, () => {
    afterEach(async () => {
      for (const store of opened.splice(0)) {
        await store.close();
        await options.teardown?.(store);
      }
    });

    describe('save and latest', () => {
      it('saves a snapshot and returns it equal from latest (goes Save, Latest)', async () => {
        const store = await open();
        const ns = namespace();
        const snapshot = snap(ns.name('foo'), uuidv7(), 3);
        await store.save(snapshot);
        expectSnapshotEqual(
          await store.latest(snapshot.aggregateName, snapshot.aggregateId),
          snapshot,
        );
      });

      it('keeps the nanosecond time, the state text exactly and the soft-delete flag', async () => {
        const store = await open();
        const ns = namespace();
        const state = JSON.stringify({
          quote: "'; DROP TABLE snapshots; --",
          unicode: 'Grüße 👋 \u2028',
          $gt: '',
        });
        const snapshot: Snapshot = {
          aggregateName: ns.name('foo'),
          aggregateId: uuidv7(),
          version: 7,
          time: 1_700_000_000_123_456_789n,
          state,
          softDeleted: true,
        };
        await store.save(snapshot);
        expectSnapshotEqual(
          await store.latest(snapshot.aggregateName, snapshot.aggregateId),
          snapshot,
        );
        const empty = { ...snapshot, version: 8, state: '', softDeleted: false };
        await store.save(empty);
        expectSnapshotEqual(await store.version(empty.aggregateName, empty.aggregateId, 8), empty);
      });

      it('returns the highest version, whatever the save order (goes Latest multiple available)', async () => {
        const store = await open();
        const ns = namespace();
        const id = uuidv7();
        const v10 = snap(ns.name('foo'), id, 10);
        const v20 = snap(ns.name('foo'), id, 20);
        await store.save(v20);
        await store.save(v10);
        expectSnapshotEqual(await store.latest(ns.name('foo'), id), v20);
      });

      it('replaces a snapshot saved again at the same version, every field of it', async () => {
        const store = await open();
        const ns = namespace();
        const first = snap(ns.name('foo'), uuidv7(), 5);
        // Every stored field changes, so an upsert that forgets one (e.g. the soft-delete flag)
        // is caught, in both directions of the flag.
        const second = {
          ...first,
          state: JSON.stringify({ Foo: 99 }),
          time: first.time + 1n,
          softDeleted: !first.softDeleted,
        };
        await store.save(first);
        await store.save(second);
        expectSnapshotEqual(await store.latest(first.aggregateName, first.aggregateId), second);
        await store.save(first);
        expectSnapshotEqual(await store.latest(first.aggregateName, first.aggregateId), first);
        expect(await drain(store.query({ names: [first.aggregateName] }))).toHaveLength(1);
      });

      it('answers SnapshotNotFoundError when there is none (goes Latest not found)', async () => {
        const store = await open();
        const ns = namespace();
        const id = uuidv7();
        const error = await notFound(store.latest(ns.name('foo'), id));
        expect(error.message).toContain(id);
      });

      it('keeps aggregates apart by name and id', async () => {
        const store = await open();
        const ns = namespace();
        const id = uuidv7();
        const foo = snap(ns.name('foo'), id, 1);
        const bar = snap(ns.name('bar'), id, 9);
        const other = snap(ns.name('foo'), uuidv7(), 30);
        await saveAll(store, [foo, bar, other]);
        expectSnapshotEqual(await store.latest(ns.name('foo'), id), foo);
        expectSnapshotEqual(await store.latest(ns.name('bar'), id), bar);
        await notFound(store.latest(ns.name('baz'), id));
      });
    });

    describe('version and limit', () => {
      it('returns the snapshot at an exact version (goes Version)', async () => {
        const store = await open();
        const ns = namespace();
        const id = uuidv7();
        const v10 = snap(ns.name('foo'), id, 10);
        await saveAll(store, [v10, snap(ns.name('foo'), id, 20)]);
        expectSnapshotEqual(await store.version(ns.name('foo'), id, 10), v10);
        await notFound(store.version(ns.name('foo'), id, 15));
      });

      it('answers SnapshotNotFoundError for an unknown aggregate (goes Version not found)', async () => {
        const store = await open();
        await notFound(store.version(namespace().name('foo'), uuidv7(), 10));
      });

      it('returns the highest version at or below the limit (goes Limit/Basic)', async () => {
        const store = await open();
        const ns = namespace();
        const id = uuidv7();
        const snaps = [1, 5, 10, 20].map((v) => snap(ns.name('foo'), id, v));
        await saveAll(store, snaps);
        expectSnapshotEqual(await store.limit(ns.name('foo'), id, 19), snaps[2] as Snapshot);
        expectSnapshotEqual(await store.limit(ns.name('foo'), id, 20), snaps[3] as Snapshot);
        expectSnapshotEqual(await store.limit(ns.name('foo'), id, 1_000), snaps[3] as Snapshot);
        expectSnapshotEqual(await store.limit(ns.name('foo'), id, 1), snaps[0] as Snapshot);
      });

      it('answers SnapshotNotFoundError below the lowest version (goes Limit/NotFound)', async () => {
        const store = await open();
        const ns = namespace();
        const id = uuidv7();
        await saveAll(
          store,
          [10, 20].map((v) => snap(ns.name('foo'), id, v)),
        );
        await notFound(store.limit(ns.name('foo'), id, 9));
      });
    });

    describe('query', () => {
      it('by name (goes Query/Name)', async () => {
        const store = await open();
        const ns = namespace();
        const foos = Array.from({ length: 5 }, () => snap(ns.name('foo'), uuidv7(), 1));
        const bars = Array.from({ length: 5 }, () => snap(ns.name('bar'), uuidv7(), 1));
        await saveAll(store, [...foos, ...bars]);
        expectSnapshotsInOrder(
          await drain(store.query({ names: [ns.name('foo')] })),
          contractOrder(foos),
        );
      });

      it('by id (goes Query/ID)', async () => {
        const store = await open();
        const ns = namespace();
        const snaps = Array.from({ length: 5 }, () => snap(ns.name('foo'), uuidv7(), 1));
        await saveAll(store, snaps);
        const [s0, , , , s4] = snaps as [Snapshot, Snapshot, Snapshot, Snapshot, Snapshot];
        const result = await drain(store.query({ ids: [s0.aggregateId, s4.aggregateId] }));
        expectSnapshotsInOrder(result, contractOrder([s0, s4]));
      });

      it('by version (goes Query/Version, exact 1 and 10)', async () => {
        const store = await open();
        const ns = namespace();
        const snaps = [1, 5, 10].map((v) => snap(ns.name('foo'), uuidv7(), v));
        await saveAll(store, snaps);
        const result = await drain(
          store.query({ names: [ns.name('foo')], versions: { exact: [1, 10] } }),
        );
        expectSnapshotsInOrder(result, contractOrder([snaps[0] as Snapshot, snaps[2] as Snapshot]));
        const ranged = await drain(
          store.query({ names: [ns.name('foo')], versions: { min: [2], max: [10] } }),
        );
        expectSnapshotsInOrder(ranged, contractOrder([snaps[1] as Snapshot, snaps[2] as Snapshot]));
      });

      it('by time (goes Query/Time: after now-1s excludes a snapshot back-dated one minute)', async () => {
        const store = await open();
        const ns = namespace();
        const minute = 60_000_000_000n;
        const snaps = [0n, 0n, minute].map((age) => snap(ns.name('foo'), uuidv7(), 1, age));
        await saveAll(store, snaps);
        const result = await drain(
          store.query({
            names: [ns.name('foo')],
            times: { min: nowNanos() - 1_000_000_000n + 1n },
          }),
        );
        expectSnapshotsInOrder(result, contractOrder(snaps.slice(0, 2)));
        const old = await drain(
          store.query({ names: [ns.name('foo')], times: { max: (snaps[2] as Snapshot).time } }),
        );
        expectSnapshotsInOrder(old, [snaps[2] as Snapshot]);
      });

      describe('sorting (goes Query/Sorting)', () => {
        const sortCases: [string, AggregateSortOption[]][] = [
          ['name asc', [{ by: 'name', dir: 'asc' }]],
          ['name desc', [{ by: 'name', dir: 'desc' }]],
          ['id asc', [{ by: 'id', dir: 'asc' }]],
          ['id desc', [{ by: 'id', dir: 'desc' }]],
          ['version asc', [{ by: 'version', dir: 'asc' }]],
          ['version desc', [{ by: 'version', dir: 'desc' }]],
          [
            'name desc, version asc',
            [
              { by: 'name', dir: 'desc' },
              { by: 'version', dir: 'asc' },
            ],
          ],
        ];
        it.each(sortCases)('%s', async (_label, sort) => {
          const store = await open();
          const ns = namespace();
          const ids = Array.from({ length: 9 }, () => uuidv7()).sort();
          const names = ['bar1', 'bar2', 'bar3', 'baz1', 'baz2', 'baz3', 'foo1', 'foo2', 'foo3'];
          const snaps = names.map((n, i) => snap(ns.name(n), ids[i] as string, i + 1));
          await saveAll(store, [...snaps].reverse());
          const result = await drain(store.query({ names: names.map(ns.name), sort }));
          expectSnapshotsInOrder(result, contractOrder(snaps, sort));
          if (sort.length === 1 && sort[0]?.dir === 'desc') {
            expect(result.map(keyOf)).toEqual([...snaps].reverse().map(keyOf));
          }
        });

        it('orders by name, id and version ascending without sort keys, and breaks ties that way', async () => {
          const store = await open();
          const ns = namespace();
          const ids = [uuidv7(), uuidv7()].sort();
          const snaps = [
            snap(ns.name('b'), ids[0] as string, 2),
            snap(ns.name('a'), ids[1] as string, 1),
            snap(ns.name('a'), ids[0] as string, 3),
            snap(ns.name('a'), ids[0] as string, 1),
          ];
          await saveAll(store, snaps);
          const names = [ns.name('a'), ns.name('b')];
          const expected = [snaps[3], snaps[2], snaps[1], snaps[0]] as Snapshot[];
          expectSnapshotsInOrder(await drain(store.query({ names })), expected);
          const byVersion = await drain(
            store.query({ names, sort: [{ by: 'version', dir: 'desc' }] }),
          );
          expectSnapshotsInOrder(byVersion, [snaps[2], snaps[0], snaps[3], snaps[1]] as Snapshot[]);
        });
      });

      it(`returns exactly what matchesSnapshot() selects, for ${randomQueries} randomized queries`, async () => {
        const store = await open();
        const ns = namespace();
        const random = seededRandom(2_026);
        const names = ['a', 'b', 'c'].map(ns.name);
        const ids = Array.from({ length: 6 }, () => uuidv7());
        const base = nowNanos();
        const snaps: Snapshot[] = [];
        for (const id of ids) {
          const aggregateName = names[Math.floor(random() * names.length)] as string;
          for (let version = 1; version <= 5; version++) {
            if (random() < 0.35) continue;
            snaps.push({
              ...snap(aggregateName, id, version),
              time: base - BigInt(Math.floor(random() * 1_000)) * 1_000_000n,
            });
          }
        }
        await saveAll(store, snaps);
        const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
        for (let i = 0; i < randomQueries; i++) {
          const q: { -readonly [K in keyof SnapshotQuery]: SnapshotQuery[K] } = {
            names: names.filter(() => random() < 0.7),
          };
          if ((q.names ?? []).length === 0) q.names = [pick(names)];
          if (random() < 0.3) q.ids = ids.filter(() => random() < 0.4);
          if (random() < 0.4) {
            const lo = 1 + Math.floor(random() * 5);
            q.versions =
              random() < 0.5
                ? { min: [lo], max: [lo + 2] }
                : random() < 0.5
                  ? { exact: [lo, 5] }
                  : { ranges: [[lo, 5]] };
          }
          if (random() < 0.4) {
            const a = pick(snaps).time;
            const b = pick(snaps).time;
            const [lo, hi] = a < b ? [a, b] : [b, a];
            q.times = random() < 0.5 ? { min: lo, max: hi } : { exact: [a, b] };
          }
          if (random() < 0.6) {
            const fields = ['name', 'id', 'version'] as const;
            q.sort = Array.from({ length: 1 + Math.floor(random() * 3) }, () => ({
              by: pick(fields),
              dir: random() < 0.5 ? ('asc' as const) : ('desc' as const),
            }));
          }
          const expected = contractOrder(
            snaps.filter((s) => matchesSnapshot(q, s)),
            q.sort,
          );
          expectSnapshotsInOrder(await drain(store.query(q)), expected);
        }
      });

      it('closes the cursor on break, so many abandoned queries do not exhaust the store', async () => {
        const store = await open();
        const ns = namespace();
        await saveAll(
          store,
          Array.from({ length: 20 }, (_, i) => snap(ns.name('foo'), uuidv7(), i + 1)),
        );
        for (let i = 0; i < 30; i++)
          expect(await take(store.query({ names: [ns.name('foo')] }), 2)).toHaveLength(2);
        expect(await drain(store.query({ names: [ns.name('foo')] }))).toHaveLength(20);
      });
    });

    describe('delete', () => {
      it('deletes a snapshot: latest then fails (goes Delete)', async () => {
        const store = await open();
        const ns = namespace();
        const snapshot = snap(ns.name('foo'), uuidv7(), 1);
        await store.save(snapshot);
        await store.delete([snapshot]);
        await notFound(store.latest(snapshot.aggregateName, snapshot.aggregateId));
      });

      it('deletes only the given versions, several at once, and ignores unknown keys', async () => {
        const store = await open();
        const ns = namespace();
        const id = uuidv7();
        const snaps = [1, 2, 3].map((v) => snap(ns.name('foo'), id, v));
        await saveAll(store, snaps);
        await store.delete([
          snaps[0] as Snapshot,
          snaps[2] as Snapshot,
          { aggregateName: ns.name('foo'), aggregateId: uuidv7(), version: 1 },
          { aggregateName: ns.name('foo'), aggregateId: id, version: 99 },
        ]);
        expectSnapshotsInOrder(await drain(store.query({ names: [ns.name('foo')] })), [
          snaps[1] as Snapshot,
        ]);
        await expect(store.delete([])).resolves.toBeUndefined();
      });
    });

    describe('concurrency', () => {
      it('handles 30 concurrent saves and reads', async () => {
        const store = await open();
        const ns = namespace();
        const id = uuidv7();
        const snaps = Array.from({ length: 30 }, (_, i) => snap(ns.name('foo'), id, i + 1));
        await Promise.all(snaps.map((s) => store.save(s)));
        const found = await Promise.all(
          snaps.map((s) => store.version(s.aggregateName, id, s.version)),
        );
        found.forEach((s, i) => {
          expectSnapshotEqual(s, snaps[i] as Snapshot);
        });
        expectSnapshotEqual(await store.latest(ns.name('foo'), id), snaps[29] as Snapshot);
      });
    });

    describe('bad input and lifecycle', () => {
      const badSnapshots: [string, (ns: Namespace) => unknown, string][] = [
        [
          'an empty aggregate name',
          (ns) => ({ ...snap(ns.name('foo'), uuidv7(), 1), aggregateName: '' }),
          'aggregate name',
        ],
        [
          'an aggregate id that is not a UUID',
          (ns) => ({ ...snap(ns.name('foo'), uuidv7(), 1), aggregateId: 'x-1' }),
          'UUID',
        ],
        [
          'a negative version',
          (ns) => ({ ...snap(ns.name('foo'), uuidv7(), 1), version: -2 }),
          '-2',
        ],
        [
          'a fractional version',
          (ns) => ({ ...snap(ns.name('foo'), uuidv7(), 1), version: 1.5 }),
          '1.5',
        ],
        [
          'a time that is not a bigint',
          (ns) => ({ ...snap(ns.name('foo'), uuidv7(), 1), time: 5 }),
          'time',
        ],
        [
          'a state that is not a string',
          (ns) => ({ ...snap(ns.name('foo'), uuidv7(), 1), state: { a: 1 } }),
          'state',
        ],
      ];
      it.each(badSnapshots)(
        'refuses a snapshot with %s and stores nothing',
        async (_label, make, mention) => {
          const store = await open();
          const ns = namespace();
          const bad = make(ns) as Snapshot;
          const error = await store.save(bad).catch((e: unknown) => e);
          expect(isGoesError(error, 'INVALID_ARGUMENT')).toBe(true);
          expect(String((error as Error).message)).toContain(mention);
          expect(await drain(store.query({ names: [ns.name('foo')] }))).toEqual([]);
        },
      );

      it('refuses bad arguments to latest, version and limit with InvalidArgumentError', async () => {
        const store = await open();
        const ns = namespace();
        const calls: [Promise<Snapshot>, string][] = [
          [store.latest('', uuidv7()), 'aggregate name'],
          [store.latest(ns.name('foo'), 'nope'), 'nope'],
          [store.version(ns.name('foo'), uuidv7(), -1), '-1'],
          [store.limit(ns.name('foo'), uuidv7(), 2.5), '2.5'],
        ];
        for (const [call, mention] of calls) {
          const error = await call.catch((e: unknown) => e);
          expect(isGoesError(error, 'INVALID_ARGUMENT')).toBe(true);
          expect(String((error as Error).message)).toContain(mention);
        }
      });

      const badQueries: [string, unknown, string][] = [
        ['an id that is not a UUID', { ids: ['nope'] }, 'nope'],
        ['an empty name', { names: [''] }, 'names[0]'],
        ['a negative version', { versions: { min: [-3] } }, '-3'],
        ['a reversed range', { versions: { ranges: [[5, 2]] } }, 'starts after it ends'],
        ['a time that is not a bigint', { times: { min: 5 } }, 'times.min'],
        ['an unknown sort field', { sort: [{ by: 'time', dir: 'asc' }] }, 'sort[0]'],
        ['an unknown field', { colour: ['red'] }, 'colour'],
      ];
      it.each(badQueries)(
        'refuses a query with %s by throwing InvalidQueryError at call',
        async (_label, q, mention) => {
          const store = await open();
          let error: unknown;
          try {
            store.query(q as SnapshotQuery);
          } catch (e) {
            error = e;
          }
          expect(isGoesError(error, 'INVALID_QUERY')).toBe(true);
          expect(String((error as Error).message)).toContain(mention);
        },
      );

      it('rejects with the abort reason for an aborted signal and stores nothing', async () => {
        const store = await open();
        const ns = namespace();
        const snapshot = snap(ns.name('foo'), uuidv7(), 1);
        const reason = new Error('give up');
        await expect(store.save(snapshot, { signal: AbortSignal.abort(reason) })).rejects.toBe(
          reason,
        );
        await notFound(store.latest(snapshot.aggregateName, snapshot.aggregateId));
        await expect(
          store.latest(snapshot.aggregateName, snapshot.aggregateId, {
            signal: AbortSignal.abort(reason),
          }),
        ).rejects.toBe(reason);
        await store.save(snapshot);
        await expect(
          drain(store.query({ names: [ns.name('foo')] }, { signal: AbortSignal.abort(reason) })),
        ).rejects.toBe(reason);
      });

      it('answers ClosedError after close', async () => {
        const store = await open();
        await store.close();
        const error = await store
          .save(snap(namespace().name('foo'), uuidv7(), 1))
          .catch((e: unknown) => e);
        expect(isGoesError(error, 'CLOSED')).toBe(true);
      });
    });
  });
}
