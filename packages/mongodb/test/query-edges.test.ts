/**
 * Query results against the reference semantics (`matches()` and `sortEvents()` of @goes/event)
 * for edge values the translation to MongoDB filters must get right on the real server: times
 * at the int64 limits, version 0 of aggregate events, names with `$`, dots, NUL and code points
 * beyond U+FFFF, and multi-key sorts over events with and without an aggregate.
 */
import { randomUUID } from 'node:crypto';
import {
  createEvent,
  type Event,
  type EventQuery,
  matches,
  type SortOption,
  sortEvents,
} from '@goes/event';
import { drain } from '@goes/streams';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { MongoEventStore } from '../src/index.js';
import { INT64_MAX, INT64_MIN } from '../src/internal/documents.js';
import { storeFixture } from './support.js';

const fixture = storeFixture('query_edges');
afterAll(() => fixture.cleanUp());

const tag = randomUUID().slice(0, 8);
const names = [
  `$${tag}`,
  `a.b.${tag}`,
  `nul\u0000${tag}`,
  `\u{1F600}${tag}`,
  `\uFFFD${tag}`,
  `\uE000${tag}`,
  `z${tag}`,
];
const times = [INT64_MIN, INT64_MIN + 1n, -1n, 0n, 1n, INT64_MAX - 1n, INT64_MAX];

let store: MongoEventStore;
let stored: readonly Event[];

beforeAll(async () => {
  store = fixture.open();
  const events: Event[] = [];
  let i = 0;
  for (const name of names) {
    const id = randomUUID();
    // Version 0 is a valid aggregate version; events without an aggregate sort as version 0.
    for (const version of [0, 1, 2]) {
      events.push(
        createEvent(
          name,
          { i },
          { time: times[i++ % times.length], aggregate: { name, id, version } },
        ),
      );
    }
    events.push(createEvent(name, { i }, { time: times[i++ % times.length] }));
  }
  stored = await store.insert(events);
});

async function check(q: EventQuery): Promise<void> {
  const got = await drain(store.query(q));
  const want = sortEvents(
    stored.filter((event) => matches(q, event)),
    q.sort ?? [],
  );
  expect(got.map((e) => e.position)).toEqual(want.map((e) => e.position));
}

describe('query edge values match matches() and sortEvents()', () => {
  it('times at the int64 limits: exact, ranges, min and max', async () => {
    await check({ times: { exact: [INT64_MIN, INT64_MAX] } });
    await check({ times: { exact: [INT64_MAX + 1n, INT64_MIN - 1n, 0n] } });
    await check({ times: { min: INT64_MAX } });
    await check({ times: { max: INT64_MIN } });
    await check({ times: { min: INT64_MAX - 1n, max: INT64_MAX } });
    await check({ times: { ranges: [[INT64_MIN - 10n, INT64_MIN + 1n]] } });
    await check({
      times: {
        ranges: [
          [INT64_MAX, INT64_MAX + 5n],
          [-1n, 0n],
        ],
      },
    });
    await check({ times: { min: INT64_MIN - 1n, max: INT64_MAX + 1n } });
    await check({ times: { exact: [] } });
  });

  it('version 0 with exact, min, max and ranges', async () => {
    await check({ aggregateVersions: { exact: [0] } });
    await check({ aggregateVersions: { min: [0] } });
    await check({ aggregateVersions: { max: [0] } });
    await check({ aggregateVersions: { ranges: [[0, 0]] } });
    await check({ aggregateVersions: { ranges: [[0, 1]], max: [1, 0] } });
    await check({ aggregateVersions: { exact: [], min: [], max: [], ranges: [] } });
  });

  it('names with $, dots, NUL and code points beyond U+FFFF, and empty lists', async () => {
    for (const name of names) {
      await check({ names: [name] });
      await check({ aggregateNames: [name] });
      await check({ aggregates: [{ name }] });
    }
    await check({ names: [] });
    await check({ names: [`$${tag}`, '$in', 'a.b'], aggregateNames: [] });
    await check({ aggregates: [] });
  });

  it('sorts by code point order and puts events without an aggregate first', async () => {
    const own: EventQuery = { names };
    const sorts: SortOption[][] = [
      [{ by: 'aggregateName', dir: 'asc' }],
      [{ by: 'aggregateName', dir: 'desc' }],
      [
        { by: 'aggregateVersion', dir: 'desc' },
        { by: 'aggregateName', dir: 'asc' },
      ],
      [
        { by: 'aggregateVersion', dir: 'asc' },
        { by: 'time', dir: 'desc' },
      ],
      [
        { by: 'time', dir: 'asc' },
        { by: 'aggregateName', dir: 'desc' },
        { by: 'time', dir: 'desc' },
      ],
      [
        { by: 'aggregateId', dir: 'asc' },
        { by: 'aggregateVersion', dir: 'desc' },
      ],
      [{ by: 'position', dir: 'desc' }],
    ];
    for (const sort of sorts) await check({ ...own, sort });
  });
});
