import { type Codec, createRegistry } from '@goes/codec';
import {
  type AggregateVersion,
  type CreateEventOptions,
  createEvent,
  type Event,
  eventsEqual,
  uuidv7,
} from '@goes/event';
import { expect } from '@jest/globals';

/**
 * The data of the conformance fixtures' events (goes' `event/test` FooEventData and friends).
 *
 * @example
 * ```ts
 * const data: FixtureData = { A: 'foo' };
 * ```
 */
export interface FixtureData {
  readonly A: string;
}

/**
 * A test namespace: every conformance test prefixes its event and aggregate names with a fresh
 * one, so tests never see each other's events even when they share a database table, a NATS
 * server or a process.
 *
 * @example
 * ```ts
 * const ns = namespace();
 * const foo = ns.name('foo'); // e.g. 'ct0a1b2c3d4e5f.foo'
 * ```
 */
export interface Namespace {
  readonly prefix: string;
  /** A name inside the namespace. */
  name(suffix: string): string;
  /** A fixture event inside the namespace: name `<prefix>.<suffix>`, data `{ A: suffix }`. */
  event(suffix: string, options?: CreateEventOptions): Event<string, FixtureData>;
  /** Events of a new aggregate `<prefix>.<aggregate>` with versions 1..count. */
  history(aggregate: string, count: number, eventSuffix?: string): Event<string, FixtureData>[];
}

/**
 * Creates a {@link Namespace}.
 *
 * @example
 * ```ts
 * const ns = namespace();
 * await store.insert(ns.history('product', 3));
 * ```
 */
export function namespace(): Namespace {
  const prefix = `ct${uuidv7().replaceAll('-', '').slice(-12)}`;
  const name = (suffix: string) => `${prefix}.${suffix}`;
  return {
    prefix,
    name,
    event: (suffix, options) => createEvent(name(suffix), { A: suffix }, options),
    history(aggregate, count, eventSuffix = 'foo') {
      const id = uuidv7();
      return Array.from({ length: count }, (_, i) =>
        createEvent(
          name(eventSuffix),
          { A: `${eventSuffix}${i + 1}` },
          { aggregate: { name: name(aggregate), id, version: i + 1 } },
        ),
      );
    },
  };
}

/**
 * The codec the conformance suites hand to store and bus factories: JSON, with every name allowed.
 * An adapter under test must encode event data through the codec it is given.
 *
 * @example
 * ```ts
 * eventStoreConformance('postgres', ({ codec }) => createPostgresEventStore({ codec, url }));
 * ```
 */
export function createTestCodec(): Codec {
  return createRegistry();
}

/**
 * Asserts that two lists hold equal events (id, name, nanosecond time, data, aggregate), in any
 * order. Shows both lists by id when they differ.
 *
 * @example
 * ```ts
 * expectSameEvents(await drain(store.query(q)), inserted);
 * ```
 */
export function expectSameEvents(actual: readonly Event[], expected: readonly Event[]): void {
  const byId = (events: readonly Event[]) =>
    [...events].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  expectEventsInOrder(byId(actual), byId(expected));
}

/**
 * Asserts that two lists hold equal events in the same order.
 *
 * @example
 * ```ts
 * expectEventsInOrder(await drain(store.query(sorted)), sortEvents(inserted, sorted.sort));
 * ```
 */
export function expectEventsInOrder(actual: readonly Event[], expected: readonly Event[]): void {
  expect(actual.map((e) => e.id)).toEqual(expected.map((e) => e.id));
  actual.forEach((event, i) => {
    const want = expected[i] as Event;
    if (!eventsEqual(event, want)) {
      expect(describeEvent(event)).toEqual(describeEvent(want));
    }
  });
}

/** A comparable rendering of an event (bigint time as string) for readable jest diffs. */
function describeEvent(event: Event): Record<string, unknown> {
  return {
    id: event.id,
    name: event.name,
    time: String(event.time),
    data: event.data,
    aggregate: event.aggregate as AggregateVersion | undefined,
  };
}
