import { type Nanos, nowNanos } from './clock.js';
import { InvalidArgumentError } from './errors.js';
import { isUuid, uuidv7 } from './uuid.js';

/**
 * The wildcard event name: subscribing to it receives every event.
 *
 * @example
 * ```ts
 * const everything = await bus.subscribe([ALL_EVENTS]);
 * ```
 */
export const ALL_EVENTS = '*';

/**
 * Identifies an aggregate: goes identifies aggregates by the pair (name, id), so two aggregates
 * of different names may share an id.
 *
 * @example
 * ```ts
 * const ref: AggregateRef = { name: 'product', id: productId };
 * ```
 */
export interface AggregateRef {
  readonly name: string;
  readonly id: string;
}

/**
 * The aggregate an event belongs to and the version the event gives it. Versions start at 1;
 * version 0 marks an event that refers to the aggregate without taking a version (goes'
 * `AggregateDeleted`), and several of those may exist.
 *
 * @example
 * ```ts
 * const at: AggregateVersion = { name: 'product', id, version: 3 };
 * ```
 */
export interface AggregateVersion extends AggregateRef {
  readonly version: number;
}

/**
 * An event: something that happened, with a UUIDv7 id, a name, a nanosecond time, data, and
 * for aggregate events the aggregate and version. `position` is assigned by the store on insert
 * and only grows; events that were never stored have none.
 *
 * @example
 * ```ts
 * const event: Event<'product.created', { sku: string }> = createEvent('product.created', { sku: 'A-1' });
 * ```
 */
export interface Event<N extends string = string, D = unknown> {
  readonly id: string;
  readonly name: N;
  readonly time: Nanos;
  readonly data: D;
  readonly aggregate?: AggregateVersion | undefined;
  readonly position?: number | undefined;
}

/**
 * A map from event names to their data types; the typed counterpart of a codec registry.
 *
 * @example
 * ```ts
 * type ProductEvents = { 'product.created': { sku: string }; 'product.priced': { cents: number } };
 * ```
 */
export type EventMap = { readonly [name: string]: unknown };

/**
 * The union of event types of an {@link EventMap} (optionally limited to some names), so that
 * narrowing on `name` narrows `data`.
 *
 * @example
 * ```ts
 * function apply(event: EventOf<ProductEvents>) {
 *   if (event.name === 'product.priced') event.data.cents; // number
 * }
 * ```
 */
export type EventOf<
  M extends EventMap,
  N extends keyof M & string = keyof M & string,
> = N extends unknown ? Event<N, M[N]> : never;

/**
 * Options of {@link createEvent}.
 *
 * @example
 * ```ts
 * createEvent('product.priced', { cents: 10 }, { aggregate: { name: 'product', id, version: 2 } });
 * ```
 */
export interface CreateEventOptions {
  /** Defaults to a new UUIDv7. */
  readonly id?: string | undefined;
  /** Defaults to {@link nowNanos}. A `Date` is converted (millisecond precision). */
  readonly time?: Nanos | Date | undefined;
  /** Makes it an aggregate event. */
  readonly aggregate?: AggregateVersion | undefined;
  /** Same aggregate as `previous`, one version later (goes' `event.Previous`). */
  readonly previous?: Event | undefined;
}

/**
 * Creates an event (goes' `event.New`).
 *
 * @example
 * ```ts
 * const created = createEvent('product.created', { sku: 'A-1' }, { aggregate: { name: 'product', id, version: 1 } });
 * const priced = createEvent('product.priced', { cents: 999 }, { previous: created });
 * ```
 */
export function createEvent<N extends string, D>(
  name: N,
  data: D,
  options: CreateEventOptions = {},
): Event<N, D> {
  const time =
    options.time instanceof Date
      ? BigInt(options.time.getTime()) * 1_000_000n
      : (options.time ?? nowNanos());
  let aggregate = options.aggregate;
  if (!aggregate && options.previous?.aggregate) {
    const { name: aggregateName, id, version } = options.previous.aggregate;
    aggregate = { name: aggregateName, id, version: version + 1 };
  }
  const event: { -readonly [K in keyof Event<N, D>]: Event<N, D>[K] } = {
    id: options.id ?? uuidv7(),
    name,
    time,
    data,
  };
  if (aggregate)
    event.aggregate = { name: aggregate.name, id: aggregate.id, version: aggregate.version };
  return event;
}

/**
 * True for an aggregate event (one with an aggregate).
 *
 * @example
 * ```ts
 * if (isAggregateEvent(event)) console.log(event.aggregate.version);
 * ```
 */
export function isAggregateEvent<E extends Event>(
  event: E,
): event is E & { readonly aggregate: AggregateVersion } {
  return event.aggregate !== undefined;
}

/**
 * Formats a ref as `Name(uuid)` (goes' `AggregateRef.String`).
 *
 * @example
 * ```ts
 * formatRef({ name: 'product', id }); // 'product(0190a6f1-...)'
 * ```
 */
export function formatRef(ref: AggregateRef): string {
  return `${ref.name}(${ref.id})`;
}

/**
 * Parses `Name(uuid)` back into a ref (goes' `AggregateRef.Parse`, anchored and strict). The id
 * is read from the last parentheses, so every name {@link formatRef} writes parses back.
 *
 * @throws {@link InvalidArgumentError} naming the input when it is not of that form.
 * @example
 * ```ts
 * parseRef('product(0190a6f1-7c2b-7b3a-8d4e-1234567890ab)'); // { name: 'product', id: '0190a6f1-...' }
 * ```
 */
export function parseRef(text: string): AggregateRef {
  // The id is the part inside the last parentheses (a UUID has none); everything before is the
  // name, so names containing parentheses, newlines or any other text round-trip with formatRef.
  const match = /^([\s\S]+)\(([^()]*)\)$/.exec(text);
  if (!match)
    throw new InvalidArgumentError(
      `invalid aggregate ref ${JSON.stringify(text)}: want Name(uuid)`,
    );
  const [, name, id] = match as unknown as [string, string, string];
  if (!isUuid(id))
    throw new InvalidArgumentError(
      `invalid aggregate ref ${JSON.stringify(text)}: ${JSON.stringify(id)} is not a UUID`,
    );
  return { name, id };
}

/**
 * A key for maps of aggregates: name and id joined by a character no name contains.
 *
 * @example
 * ```ts
 * const byAggregate = new Map<string, number>([[refKey(ref), 1]]);
 * ```
 */
export function refKey(ref: AggregateRef): string {
  return `${ref.name}\u0000${ref.id}`;
}

/**
 * True when two events are equal: same id, name, time, aggregate and structurally equal data
 * (goes' `event.Equal`, which panics on non-comparable data; this compares deeply instead).
 * `position` is not compared.
 *
 * @example
 * ```ts
 * eventsEqual(await store.find(event.id), event); // true
 * ```
 */
export function eventsEqual(a: Event, b: Event): boolean {
  if (a.id !== b.id || a.name !== b.name || a.time !== b.time) return false;
  const x = a.aggregate;
  const y = b.aggregate;
  if (x || y) {
    if (!x || !y || x.name !== y.name || x.id !== y.id || x.version !== y.version) return false;
  }
  return deepEqual(a.data, b.data);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (a instanceof Date || b instanceof Date) {
    return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  }
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  for (const key of keysA) {
    if (!Object.hasOwn(b, key)) return false;
    if (!deepEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]))
      return false;
  }
  return true;
}
