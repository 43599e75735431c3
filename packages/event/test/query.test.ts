import { describe, expect, it } from '@jest/globals';
import {
  createEvent,
  type Event,
  type EventQuery,
  matches,
  mergeQueries,
  query,
  queryFromJson,
  queryToJson,
  sortEvents,
  uuidv7,
  validateQuery,
} from '../src/index.js';

const id = uuidv7();
const at = (version: number, time: bigint, name = 'foo'): Event =>
  createEvent(name, {}, { time, aggregate: { name: 'agg', id, version } });
const loose = createEvent('foo', {}, { time: 50n });

describe('query builder', () => {
  it('is immutable and dedupes lists (goes dedupe bug fixed)', () => {
    const base = query().name('a');
    const next = base.name('a', 'b');
    expect(base.names).toEqual(['a']);
    expect(next.names).toEqual(['a', 'b']);
    expect(query().id(id).id(id).ids).toEqual([id]);
    expect(query().sortBy('time').sortBy('time').sort).toEqual([{ by: 'time', dir: 'asc' }]);
  });

  it('builds every constraint', () => {
    const q = query()
      .aggregateName('agg')
      .aggregateId(id)
      .aggregate('agg', id)
      .aggregate('other')
      .timeExact(1n)
      .timeRange(1n, 5n)
      .after(10n)
      .before(20n)
      .versionExact(1)
      .versionRange(1, 3)
      .versionMin(2)
      .versionMax(9)
      .afterPosition(4)
      .positionMax(10)
      .sortByAggregate()
      .build();
    expect(q).toEqual({
      aggregateNames: ['agg'],
      aggregateIds: [id],
      aggregates: [{ name: 'agg', id }, { name: 'other' }],
      times: { exact: [1n], ranges: [[1n, 5n]], min: 11n, max: 19n },
      aggregateVersions: { exact: [1], ranges: [[1, 3]], min: [2], max: [9] },
      positions: { min: 5, max: 10 },
      sort: [
        { by: 'aggregateName', dir: 'asc' },
        { by: 'aggregateId', dir: 'asc' },
        { by: 'aggregateVersion', dir: 'asc' },
      ],
    });
  });

  it('takes Dates for times', () => {
    expect(query().timeMin(new Date(2)).times?.min).toBe(2_000_000n);
  });
});

describe('matches (goes event.Test semantics)', () => {
  const cases: [string, EventQuery, Event, boolean][] = [
    ['empty query matches all', {}, loose, true],
    ['empty lists do not filter', { names: [], ids: [] }, loose, true],
    ['name in names', { names: ['x', 'foo'] }, loose, true],
    ['name not in names', { names: ['x'] }, loose, false],
    ['time min inclusive', { times: { min: 50n } }, loose, true],
    ['time max inclusive', { times: { max: 49n } }, loose, false],
    ['time exact', { times: { exact: [50n] } }, loose, true],
    [
      'time in one of the ranges',
      {
        times: {
          ranges: [
            [0n, 1n],
            [40n, 60n],
          ],
        },
      },
      loose,
      true,
    ],
    ['aggregate name: non-aggregate events fail', { aggregateNames: ['agg'] }, loose, false],
    ['aggregate name', { aggregateNames: ['agg'] }, at(1, 1n), true],
    [
      'versions: non-aggregate events never match',
      { aggregateVersions: { max: [10] } },
      loose,
      false,
    ],
    ['version min is ">= at least one"', { aggregateVersions: { min: [5, 3] } }, at(4, 1n), true],
    ['version max is "<= at least one"', { aggregateVersions: { max: [2, 3] } }, at(4, 1n), false],
    [
      'version min and max are ANDed',
      { aggregateVersions: { min: [2], max: [3] } },
      at(4, 1n),
      false,
    ],
    ['version exact', { aggregateVersions: { exact: [4] } }, at(4, 1n), true],
    ['version range', { aggregateVersions: { ranges: [[1, 3]] } }, at(4, 1n), false],
    ['aggregate ref without id', { aggregates: [{ name: 'agg' }] }, at(1, 1n), true],
    [
      'aggregate ref with other id',
      { aggregates: [{ name: 'agg', id: uuidv7() }] },
      at(1, 1n),
      false,
    ],
    ['positions need a stored event', { positions: { min: 1 } }, loose, false],
    ['positions inclusive', { positions: { min: 3, max: 3 } }, { ...loose, position: 3 }, true],
    ['categories are ANDed', { names: ['foo'], aggregateNames: ['other'] }, at(1, 1n), false],
  ];
  it.each(cases)('%s', (_label, q, event, expected) => {
    expect(matches(q, event)).toBe(expected);
  });
});

describe('sortEvents', () => {
  it('sorts stably by several keys with position as last tie-breaker', () => {
    const a = { ...at(1, 5n), position: 2 };
    const b = { ...at(2, 5n), position: 1 };
    const c = { ...loose, position: 3 };
    expect(sortEvents([a, b, c], [{ by: 'time', dir: 'asc' }]).map((e) => e.position)).toEqual([
      1, 2, 3,
    ]);
    expect(
      sortEvents([a, b, c], [{ by: 'aggregateVersion', dir: 'desc' }]).map((e) => e.position),
    ).toEqual([1, 2, 3]);
    expect(
      sortEvents([a, b, c], [{ by: 'aggregateName', dir: 'asc' }]).map((e) => e.position),
    ).toEqual([3, 1, 2]);
  });
});

describe('mergeQueries (goes query.Merge)', () => {
  it('unites lists, widens version bounds, and lets the last time bound win', () => {
    const merged = mergeQueries(
      { names: ['a'], aggregateVersions: { min: [5] }, times: { min: 1n } },
      undefined,
      {
        names: ['a', 'b'],
        aggregateVersions: { min: [10] },
        times: { min: 7n },
        positions: { min: 3 },
      },
    );
    expect(merged).toEqual({
      names: ['a', 'b'],
      aggregateVersions: { min: [5, 10] },
      times: { min: 7n },
      positions: { min: 3 },
    });
  });
});

describe('validateQuery', () => {
  it('accepts builder queries', () => {
    expect(() =>
      validateQuery(query().name('a').aggregate('x', id).timeRange(1n, 2n)),
    ).not.toThrow();
  });

  it.each([
    [{ names: 'a' }, 'names must be an array'],
    [{ times: { ranges: [[1n]] } }, 'pair'],
    [{ positions: { min: -1 } }, 'positions.min'],
    [{ sort: [{ by: 'time', dir: 'up' }] }, 'sort[0].dir'],
  ])('refuses %p', (q, message) => {
    expect(() => validateQuery(q as unknown as EventQuery)).toThrow(message);
  });
});

describe('query JSON', () => {
  it('round-trips bigint times through JSON', () => {
    const q = query().name('a').timeRange(1n, 2n).timeMin(3n).timeExact(4n).build();
    expect(queryFromJson(JSON.parse(JSON.stringify(queryToJson(q))))).toEqual(q);
  });

  it('refuses malformed JSON queries', () => {
    expect(() => queryFromJson({ times: { min: 'soon' } })).toThrow('times.min');
  });
});
