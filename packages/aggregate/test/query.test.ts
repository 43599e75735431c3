import { isGoesError, uuidv7 } from '@goes/event';
import { describe, expect, it } from '@jest/globals';
import {
  aggregateComparator,
  aggregateQuery,
  eventQueryOf,
  matchesAggregate,
  matchesSnapshot,
  mergeAggregateQueries,
  refIds,
  refIdsOf,
  refNames,
  snapshotQuery,
  sortAggregates,
  validateAggregateQuery,
} from '../src/index.js';
import { thrown } from './product.js';

const at = (aggregateName: string, id: string, version: number) => ({ aggregateName, id, version });

describe('aggregate queries', () => {
  it('builds immutable, deduplicated queries', () => {
    const base = aggregateQuery().name('a');
    const q = base
      .name('a', 'b')
      .id('x')
      .id('x')
      .versionMin(2)
      .versionMax(9)
      .versionExact(3, 3)
      .versionRange(1, 4);
    expect(base.names).toEqual(['a']);
    expect(q.build()).toEqual({
      names: ['a', 'b'],
      ids: ['x'],
      versions: { min: [2], max: [9], exact: [3], ranges: [[1, 4]] },
    });
    expect(Object.isFrozen(q)).toBe(true);
    expect(
      aggregateQuery().sortBy('version', 'desc').sortBy('version', 'desc').sortBy('name').sort,
    ).toEqual([
      { by: 'version', dir: 'desc' },
      { by: 'name', dir: 'asc' },
    ]);
  });

  it('builds snapshot queries with time constraints and keeps the builder class across calls', () => {
    const q = snapshotQuery()
      .name('p')
      .timeMin(5n)
      .timeMax(new Date(1))
      .timeExact(7n)
      .timeRange(1n, 2n);
    expect(q.name('x').timeMin(6n).times?.min).toBe(6n);
    expect(q.build()).toEqual({
      names: ['p'],
      times: { min: 5n, max: 1_000_000n, exact: [7n], ranges: [[1n, 2n]] },
    });
    expect(snapshotQuery().before(10n).after(3n).times).toEqual({ max: 9n, min: 4n });
  });

  it('matches names, ids and version constraints like goes (OR within, AND across)', () => {
    const id = uuidv7();
    expect(matchesAggregate({}, at('p', id, 0))).toBe(true);
    expect(matchesAggregate({ names: ['p', 'q'] }, at('q', id, 1))).toBe(true);
    expect(matchesAggregate({ names: ['p'] }, at('q', id, 1))).toBe(false);
    expect(matchesAggregate({ ids: [id] }, at('p', id, 1))).toBe(true);
    expect(matchesAggregate({ ids: [uuidv7()] }, at('p', id, 1))).toBe(false);
    expect(matchesAggregate({ versions: { exact: [1, 10] } }, at('p', id, 10))).toBe(true);
    expect(matchesAggregate({ versions: { exact: [1, 10] } }, at('p', id, 5))).toBe(false);
    expect(
      matchesAggregate(
        {
          versions: {
            ranges: [
              [2, 4],
              [8, 9],
            ],
          },
        },
        at('p', id, 8),
      ),
    ).toBe(true);
    expect(matchesAggregate({ versions: { ranges: [[2, 4]] } }, at('p', id, 5))).toBe(false);
    expect(matchesAggregate({ versions: { min: [5, 10] } }, at('p', id, 5))).toBe(true);
    expect(matchesAggregate({ versions: { min: [5] } }, at('p', id, 4))).toBe(false);
    expect(matchesAggregate({ versions: { max: [5, 10] } }, at('p', id, 10))).toBe(true);
    expect(matchesAggregate({ versions: { max: [5] } }, at('p', id, 6))).toBe(false);
    expect(matchesAggregate({ names: ['p'], versions: { min: [2] } }, at('p', id, 1))).toBe(false);
  });

  it('matches snapshots by aggregate and time', () => {
    const snapshot = { aggregateName: 'p', aggregateId: uuidv7(), version: 3, time: 100n };
    expect(matchesSnapshot({ names: ['p'], times: { min: 100n, max: 100n } }, snapshot)).toBe(true);
    expect(matchesSnapshot({ times: { max: 99n } }, snapshot)).toBe(false);
    expect(matchesSnapshot({ times: { exact: [1n] } }, snapshot)).toBe(false);
    expect(matchesSnapshot({ times: { ranges: [[50n, 150n]] } }, snapshot)).toBe(true);
    expect(
      matchesSnapshot({ ids: [snapshot.aggregateId], versions: { exact: [4] } }, snapshot),
    ).toBe(false);
  });

  it('merges queries by union and drops sort keys', () => {
    const merged = mergeAggregateQueries(
      {
        names: ['a'],
        versions: { min: [10], ranges: [[1, 2]] },
        sort: [{ by: 'name', dir: 'asc' }],
      },
      undefined,
      {
        names: ['b', 'a'],
        ids: ['x'],
        versions: { min: [5], max: [3], exact: [1], ranges: [[1, 2]] },
      },
    );
    expect(merged).toEqual({
      names: ['a', 'b'],
      ids: ['x'],
      versions: { exact: [1], ranges: [[1, 2]], min: [10, 5], max: [3] },
    });
    expect(mergeAggregateQueries()).toEqual({});
  });

  it('turns an aggregate query into the event query that rebuilds its aggregates, without version caps (goes bug 29)', () => {
    const id = uuidv7();
    expect(eventQueryOf({ names: ['p'], ids: [id], versions: { exact: [10, 20] } })).toEqual({
      aggregateNames: ['p'],
      aggregateIds: [id],
      aggregateVersions: { min: [1] },
      sort: [
        { by: 'aggregateName', dir: 'asc' },
        { by: 'aggregateId', dir: 'asc' },
        { by: 'aggregateVersion', dir: 'asc' },
      ],
    });
    expect(
      eventQueryOf({
        sort: [
          { by: 'version', dir: 'desc' },
          { by: 'id', dir: 'desc' },
        ],
      }).sort,
    ).toEqual([
      { by: 'aggregateId', dir: 'desc' },
      { by: 'aggregateName', dir: 'asc' },
      { by: 'aggregateVersion', dir: 'asc' },
    ]);
  });

  it('refuses malformed queries with InvalidQueryError naming the value', () => {
    const cases: [unknown, string][] = [
      [{ names: [''] }, 'names[0] ""'],
      [{ ids: ['nope'] }, 'ids[0] "nope"'],
      [{ versions: { min: [-1] } }, 'versions.min[0] -1'],
      [{ versions: { ranges: [[3, 1]] } }, 'starts after it ends'],
      [{ versions: { exact: 'x' } }, 'versions.exact must be an array'],
      [{ times: { min: 5 } }, 'times.min 5'],
      [{ times: { ranges: [[1n]] } }, 'must be a [from, to] pair'],
      [{ sort: [{ by: 'time', dir: 'asc' }] }, '"by" must be one of'],
      [{ sort: [{ by: 'id', dir: 'up' }] }, 'sort[0].dir "up"'],
      [{ aggregates: [] }, 'unknown aggregate query field "aggregates"'],
      [null, 'expected an aggregate query object'],
    ];
    for (const [q, message] of cases) {
      const error = thrown(() => validateAggregateQuery(q as never));
      expect(isGoesError(error, 'INVALID_QUERY')).toBe(true);
      expect(String(error)).toContain(message);
    }
    expect(() =>
      validateAggregateQuery({ names: ['p'], ids: [uuidv7()], times: { exact: [1n] } }),
    ).not.toThrow();
  });
});

describe('aggregate sorting and refs', () => {
  it('sorts by name, id and version, stable, in both directions', () => {
    const [a, b] = [uuidv7(), uuidv7()].sort();
    const list = [at('b', a as string, 1), at('a', b as string, 3), at('a', a as string, 2)];
    expect(sortAggregates(list, [{ by: 'name', dir: 'asc' }]).map((x) => x.version)).toEqual([
      3, 2, 1,
    ]);
    expect(
      sortAggregates(list, [
        { by: 'name', dir: 'asc' },
        { by: 'id', dir: 'asc' },
      ]).map((x) => x.version),
    ).toEqual([2, 3, 1]);
    expect(sortAggregates(list, [{ by: 'version', dir: 'desc' }]).map((x) => x.version)).toEqual([
      3, 2, 1,
    ]);
    expect(sortAggregates(list, [{ by: 'id', dir: 'desc' }]).map((x) => x.version)).toEqual([
      3, 1, 2,
    ]);
    expect(aggregateComparator([])(list[0] as never, list[1] as never)).toBe(0);
    expect(list.map((x) => x.version)).toEqual([1, 3, 2]);
  });

  it('collects unique names and ids of refs in first-seen order', () => {
    const [x, y] = [uuidv7(), uuidv7()];
    const refs = [
      { name: 'a', id: x },
      { name: 'b', id: y },
      { name: 'a', id: y },
      { name: '', id: '' },
    ];
    expect(refNames(refs)).toEqual(['a', 'b']);
    expect(refIds(refs)).toEqual([x, y]);
    expect(refIdsOf('a', refs)).toEqual([x, y]);
    expect(refIdsOf('c', refs)).toEqual([]);
  });
});

describe('aggregate refs', () => {
  it('formats and parses Name(uuid), refusing malformed refs', async () => {
    const { formatRef, parseRef } = await import('../src/index.js');
    const id = uuidv7();
    expect(formatRef({ name: 'product', id })).toBe(`product(${id})`);
    expect(parseRef(`product(${id})`)).toEqual({ name: 'product', id });
    expect(() => parseRef('product')).toThrow(/Name\(uuid\)/);
    expect(() => parseRef('product(nope)')).toThrow(/"nope" is not a UUID/);
  });
});
