import type { Codec } from '@goes/codec';
import type { EventStore, SignalOptions } from './contracts.js';
import {
  ClosedError,
  DuplicateEventError,
  EventNotFoundError,
  InvalidEventError,
  VersionConflictError,
} from './errors.js';
import { type Event, refKey } from './event.js';
import { compileQuery, type EventPredicate } from './query/matches.js';
import { eventComparator } from './query/sort.js';
import type { EventQuery } from './query/types.js';
import { validateQuery } from './query/validate.js';
import { validateEvent } from './validate-event.js';

/**
 * Options of {@link createMemoryEventStore}.
 *
 * @example
 * ```ts
 * const store = createMemoryEventStore({ codec: events }); // data round-trips through the codec
 * ```
 */
export interface MemoryEventStoreOptions {
  /**
   * When given, event data is stored encoded and decoded on every read, as a database would:
   * data the codec cannot handle fails at insert, and readers never share objects with writers.
   * Without it, the store keeps the data objects as given (fastest).
   */
  readonly codec?: Codec | undefined;
}

/**
 * The in-memory event store of a {@link createMemoryEventStore}: an {@link EventStore} plus
 * `size`, the number of stored events.
 *
 * @example
 * ```ts
 * const store: MemoryEventStore = createMemoryEventStore();
 * console.log(store.size);
 * ```
 */
export interface MemoryEventStore extends EventStore {
  readonly size: number;
}

/**
 * Creates the in-memory event store (goes' `eventstore.New`), the zero-dependency default for
 * development and tests. It keeps goes' semantics and fixes its gaps: batches are atomic, an
 * append must follow the aggregate's stored version ({@link VersionConflictError} otherwise),
 * every event gets a global position, and queries stream in chunks (millions of events/s).
 *
 * @example
 * ```ts
 * const store = createMemoryEventStore();
 * await store.insert([createEvent('user.registered', { email: 'a@b.c' })]);
 * const users = await drain(store.query(query().name('user.registered')));
 * ```
 */
export function createMemoryEventStore(options: MemoryEventStoreOptions = {}): MemoryEventStore {
  return new InMemoryEventStore(options.codec);
}

/** What the store knows of one aggregate. */
interface AggregateState {
  /** Log indices of its events (version 0 ones included), ascending. */
  indices: number[];
  /** Log index per taken version. */
  versions: Map<number, number>;
  /** The highest stored version (0 when none). */
  current: number;
}

/** A stored event; with a codec, `data` holds the encoded text. */
type Slot = Event | undefined;

const CHUNK = 1024;

class InMemoryEventStore implements MemoryEventStore {
  readonly #codec: Codec | undefined;
  /** The log: index = position − 1; deleted events leave `undefined`. */
  readonly #log: Slot[] = [];
  readonly #byId = new Map<string, number>();
  readonly #aggregates = new Map<string, AggregateState>();
  #deleted = 0;
  #closed = false;

  constructor(codec: Codec | undefined) {
    this.#codec = codec;
  }

  get size(): number {
    return this.#log.length - this.#deleted;
  }

  async insert(events: readonly Event[], options: SignalOptions = {}): Promise<readonly Event[]> {
    this.#assertOpen();
    options.signal?.throwIfAborted();
    if (!Array.isArray(events)) throw new InvalidEventError('insert expects an array of events');
    if (events.length === 0) return [];
    this.#checkBatch(events);
    const slots = events.map((event, i) => this.#toSlot(event, this.#log.length + i + 1));
    // Everything was checked above: from here on nothing can fail, so the batch lands whole.
    for (const slot of slots) {
      const index = this.#log.length;
      this.#log.push(slot);
      const stored = slot as Event;
      this.#byId.set(stored.id, index);
      if (stored.aggregate) {
        const state = this.#aggregateState(refKey(stored.aggregate), true) as AggregateState;
        state.indices.push(index);
        if (stored.aggregate.version > 0) {
          state.versions.set(stored.aggregate.version, index);
          if (stored.aggregate.version > state.current) state.current = stored.aggregate.version;
        }
      }
    }
    // The caller gets its own data back rather than a decoded copy: decoding can fail (a codec
    // that encodes what it cannot decode), and the batch is stored by now.
    return this.#codec
      ? slots.map((slot, i) => Object.freeze({ ...slot, data: (events[i] as Event).data }))
      : slots;
  }

  async find(id: string, options: SignalOptions = {}): Promise<Event> {
    this.#assertOpen();
    options.signal?.throwIfAborted();
    const index = this.#byId.get(id);
    const slot = index === undefined ? undefined : this.#log[index];
    if (!slot) throw new EventNotFoundError(id);
    return this.#read(slot);
  }

  query(q: EventQuery, options: SignalOptions = {}): AsyncIterable<Event> {
    this.#assertOpen();
    validateQuery(q);
    const candidates = this.#candidates(q);
    // Candidates drawn from the aggregate index belong to the queried aggregates already, so the
    // per-event aggregate check (which builds a key string per event) is left out.
    const predicate = compileQuery(
      candidates && !(q.ids && q.ids.length > 0) ? { ...q, aggregates: undefined } : q,
    );
    const end = this.#log.length;
    const { signal } = options;
    return {
      [Symbol.asyncIterator]: () => {
        if (q.sort && q.sort.length > 0) {
          const all = this.#collect(candidates, end, predicate).sort(eventComparator(q.sort));
          return new ChunkCursor(
            () => (all.length > 0 ? all.splice(0, all.length) : undefined),
            (e) => this.#read(e),
            signal,
          );
        }
        return new ChunkCursor(
          this.#scanner(candidates, end, predicate),
          (e) => this.#read(e),
          signal,
        );
      },
    };
  }

  async delete(
    events: readonly { readonly id: string }[],
    options: SignalOptions = {},
  ): Promise<void> {
    this.#assertOpen();
    options.signal?.throwIfAborted();
    // Read every id before changing anything, so a malformed entry fails the whole batch
    // instead of leaving the entries before it deleted (the batch is atomic).
    const ids = events.map((event) => event.id);
    for (const id of ids) {
      const index = this.#byId.get(id);
      if (index === undefined) continue;
      const slot = this.#log[index] as Event;
      this.#log[index] = undefined;
      this.#deleted++;
      this.#byId.delete(id);
      if (!slot.aggregate) continue;
      const key = refKey(slot.aggregate);
      const state = this.#aggregateState(key, false) as AggregateState;
      state.indices.splice(state.indices.indexOf(index), 1);
      const { version } = slot.aggregate;
      if (version > 0) {
        state.versions.delete(version);
        if (version === state.current) state.current = highestVersion(state.versions);
      }
      if (state.indices.length === 0) this.#aggregates.delete(key);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new ClosedError('the in-memory event store');
  }

  /** Validates a batch against itself and the store; throws before anything is changed. */
  #checkBatch(events: readonly Event[]): void {
    const ids = new Set<string>();
    const next = new Map<string, { ref: Event['aggregate']; version: number; index: number }>();
    events.forEach((event, i) => {
      validateEvent(event, i);
      if (ids.has(event.id) || this.#byId.has(event.id)) throw new DuplicateEventError(event.id);
      ids.add(event.id);
      const aggregate = event.aggregate;
      if (!aggregate || aggregate.version === 0) return;
      const key = refKey(aggregate);
      const previous = next.get(key);
      if (previous) {
        if (aggregate.version !== previous.version + 1) {
          throw new InvalidEventError(
            `versions of ${aggregate.name}(${aggregate.id}) in one batch must follow each other: ${aggregate.version} after ${previous.version}`,
            i,
          );
        }
        previous.version = aggregate.version;
        return;
      }
      const current = this.#aggregates.get(key)?.current ?? 0;
      if (aggregate.version !== current + 1) {
        throw new VersionConflictError(aggregate, aggregate.version - 1, current);
      }
      next.set(key, { ref: aggregate, version: aggregate.version, index: i });
    });
  }

  #toSlot(event: Event, position: number): Event {
    const data = this.#codec ? this.#codec.encode(event.name, event.data) : event.data;
    const slot: { -readonly [K in keyof Event]: Event[K] } = {
      id: event.id,
      name: event.name,
      time: event.time,
      data,
    };
    if (event.aggregate) {
      const { name, id, version } = event.aggregate;
      slot.aggregate = Object.freeze({ name, id, version });
    }
    slot.position = position;
    return Object.freeze(slot);
  }

  #read(slot: Event): Event {
    if (!this.#codec) return slot;
    return { ...slot, data: this.#codec.decode(slot.name, slot.data as string) };
  }

  #aggregateState(key: string, create: boolean): AggregateState | undefined {
    let state = this.#aggregates.get(key);
    if (!state && create) {
      state = { indices: [], versions: new Map(), current: 0 };
      this.#aggregates.set(key, state);
    }
    return state;
  }

  /** Log indices that can match, ascending; undefined means "scan everything". */
  #candidates(q: EventQuery): number[] | undefined {
    if (q.ids && q.ids.length > 0) {
      const indices = q.ids
        .map((id) => this.#byId.get(id))
        .filter((i): i is number => i !== undefined);
      return [...new Set(indices)].sort((a, b) => a - b);
    }
    if (q.aggregates && q.aggregates.length > 0 && q.aggregates.every((f) => f.id !== undefined)) {
      const lists = q.aggregates.map(
        (f) => this.#aggregates.get(refKey({ name: f.name, id: f.id as string }))?.indices ?? [],
      );
      if (lists.length === 1) {
        const [only] = q.aggregates as [{ name: string; id: string }];
        const window = versionWindow(q.aggregateVersions);
        const state = this.#aggregates.get(refKey(only));
        if (window && state) return versionIndices(state, window.from, window.to);
        return [...(lists[0] as number[])];
      }
      return [...new Set(lists.flat())].sort((a, b) => a - b);
    }
    return undefined;
  }

  #collect(candidates: number[] | undefined, end: number, predicate: EventPredicate): Event[] {
    const scan = this.#scanner(candidates, end, predicate);
    const all: Event[] = [];
    for (let chunk = scan(); chunk; chunk = scan()) for (const event of chunk) all.push(event);
    return all;
  }

  /** Returns a function that yields the next chunk of matching stored events, or undefined at the end. */
  #scanner(
    candidates: number[] | undefined,
    end: number,
    predicate: EventPredicate,
  ): () => Event[] | undefined {
    const log = this.#log;
    let cursor = 0;
    const limit = candidates ? candidates.length : end;
    return () => {
      const chunk: Event[] = [];
      while (cursor < limit && chunk.length < CHUNK) {
        const index = candidates ? (candidates[cursor] as number) : cursor;
        cursor++;
        const slot = log[index];
        if (slot !== undefined && predicate(slot)) chunk.push(slot);
      }
      return chunk.length > 0 ? chunk : cursor < limit ? [] : undefined;
    };
  }
}

/**
 * The highest taken version, 0 when none. A loop rather than `Math.max(...keys)`: spreading the
 * versions of an aggregate with a few hundred thousand events overflows the call stack, which
 * threw half-way through `delete` and left the store inconsistent.
 */
function highestVersion(versions: Map<number, number>): number {
  let highest = 0;
  for (const version of versions.keys()) if (version > highest) highest = version;
  return highest;
}

/**
 * The versions a query can match when its only version constraints are bounds of at least 1:
 * then only events that take a version can match, and the aggregate's version index finds them
 * without looking at the others (what makes loading after a snapshot cost only the newer events).
 */
function versionWindow(
  c: EventQuery['aggregateVersions'],
): { from: number; to: number } | undefined {
  if (!c || (c.exact && c.exact.length > 0) || (c.ranges && c.ranges.length > 0)) return undefined;
  const hasMin = c.min !== undefined && c.min.length > 0;
  const hasMax = c.max !== undefined && c.max.length > 0;
  // Without a lower bound, version-0 events (which take no version) match `max` too, and the
  // version index does not hold them: only the full aggregate index answers such a query.
  if (!hasMin) return undefined;
  const from = Math.min(...(c.min as number[]));
  if (from < 1) return undefined;
  return { from, to: hasMax ? Math.max(...(c.max as number[])) : Number.POSITIVE_INFINITY };
}

/** Log indices of an aggregate's events with versions in [from, to], ascending. */
function versionIndices(state: AggregateState, from: number, to: number): number[] {
  const indices: number[] = [];
  let sorted = true;
  for (let version = from; version <= Math.min(to, state.current); version++) {
    const index = state.versions.get(version);
    if (index === undefined) continue;
    if (indices.length > 0 && index < (indices[indices.length - 1] as number)) sorted = false;
    indices.push(index);
  }
  return sorted ? indices : indices.sort((a, b) => a - b);
}

/**
 * Serves events chunk by chunk from a synchronous source: one resolved promise per event and no
 * generator frames, which is what lets an in-memory query stream millions of events per second.
 */
class ChunkCursor implements AsyncIterator<Event> {
  #chunk: Event[] = [];
  #index = 0;
  #done = false;

  constructor(
    private readonly nextChunk: () => Event[] | undefined,
    private readonly read: (slot: Event) => Event,
    private readonly signal: AbortSignal | undefined,
  ) {}

  next(): Promise<IteratorResult<Event>> {
    if (this.signal?.aborted) {
      this.#done = true;
      return Promise.reject(this.signal.reason);
    }
    while (this.#index >= this.#chunk.length) {
      const chunk = this.#done ? undefined : this.nextChunk();
      if (!chunk) {
        this.#done = true;
        return Promise.resolve({ done: true, value: undefined });
      }
      this.#chunk = chunk;
      this.#index = 0;
    }
    const slot = this.#chunk[this.#index++] as Event;
    try {
      return Promise.resolve({ done: false, value: this.read(slot) });
    } catch (error) {
      // A decode failure is a read error: next() must reject, not throw at the call (callers
      // such as fanIn chain .then() on it), and the cursor ends as a failed database read would.
      this.#done = true;
      this.#chunk = [];
      return Promise.reject(error);
    }
  }

  return(): Promise<IteratorResult<Event>> {
    this.#done = true;
    this.#chunk = [];
    return Promise.resolve({ done: true, value: undefined });
  }
}
