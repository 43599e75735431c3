import type { Event, EventQuery, SortOption } from '@goes/event';

/**
 * A small deterministic pseudo-random generator (mulberry32), so randomized conformance cases
 * replay the same way on every run and every backend.
 *
 * @example
 * ```ts
 * const random = seededRandom(42);
 * random(); // a number in [0, 1)
 * ```
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SORT_FIELDS: SortOption['by'][] = [
  'time',
  'aggregateName',
  'aggregateId',
  'aggregateVersion',
  'position',
];

/**
 * A random query over a namespace's names, aggregates and events: a random mix of every filter
 * category and up to three sort keys. Always restricted to the given names, so it stays inside
 * one test's events.
 *
 * @example
 * ```ts
 * const q = randomQuery(random, { names, aggregates, events });
 * ```
 */
export function randomQuery(
  random: () => number,
  pool: {
    readonly names: readonly string[];
    readonly aggregates: readonly string[];
    readonly events: readonly Event[];
  },
): EventQuery {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const some = <T>(items: readonly T[], max = 3): T[] => {
    const count = 1 + Math.floor(random() * Math.min(max, items.length));
    return Array.from({ length: count }, () => pick(items));
  };
  const chance = (p: number) => random() < p;
  const aggregateEvents = pool.events.filter((e) => e.aggregate);
  const times = pool.events.map((e) => e.time).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const q: { -readonly [K in keyof EventQuery]: EventQuery[K] } = { names: some(pool.names, 4) };
  if (chance(0.15))
    q.ids = some(
      pool.events.map((e) => e.id),
      5,
    );
  if (chance(0.3)) q.aggregateNames = some(pool.aggregates, 2);
  if (chance(0.2))
    q.aggregateIds = some(
      aggregateEvents.map((e) => e.aggregate?.id as string),
      3,
    );
  if (chance(0.25)) {
    const ref = pick(aggregateEvents).aggregate;
    q.aggregates = chance(0.5)
      ? [{ name: ref?.name as string }]
      : [{ name: ref?.name as string, id: ref?.id as string }];
  }
  if (chance(0.35)) {
    const a = pick(times);
    const b = pick(times);
    const [lo, hi] = a <= b ? [a, b] : [b, a];
    q.times = chance(0.5)
      ? { min: lo, max: hi }
      : chance(0.5)
        ? { ranges: [[lo, hi]] }
        : { exact: some(times, 3) };
  }
  if (chance(0.35)) {
    const versions = () => 1 + Math.floor(random() * 8);
    const lo = versions();
    q.aggregateVersions = chance(0.4)
      ? { min: [lo], max: [lo + Math.floor(random() * 4)] }
      : chance(0.5)
        ? { exact: [versions(), versions()] }
        : { ranges: [[lo, lo + 2]] };
  }
  if (chance(0.1)) {
    const positions = pool.events.map((e) => e.position as number);
    q.positions = { min: pick(positions) };
  }
  if (chance(0.6)) {
    const count = 1 + Math.floor(random() * 3);
    q.sort = Array.from({ length: count }, () => ({
      by: pick(SORT_FIELDS),
      dir: chance(0.5) ? 'asc' : 'desc',
    }));
  }
  return q;
}
