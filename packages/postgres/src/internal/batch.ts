import type { Codec } from '@goes/codec';
import {
  type AggregateRef,
  DuplicateEventError,
  type Event,
  InvalidEventError,
  refKey,
  validateEvent,
} from '@goes/event';

/** The largest value of a PostgreSQL `integer` (aggregate versions). */
export const MAX_VERSION = 2_147_483_647;
/** The range of a PostgreSQL `bigint` (times in nanoseconds). */
export const MIN_INT64 = -(2n ** 63n);
export const MAX_INT64 = 2n ** 63n - 1n;

// A lone surrogate cannot be encoded as UTF-8: the driver would silently store U+FFFD instead.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * True when PostgreSQL can store `text` exactly: no NUL character (text columns cannot hold it)
 * and no lone surrogate (not representable in UTF-8).
 */
export function isStorableText(text: string): boolean {
  return !text.includes('\u0000') && !LONE_SURROGATE.test(text);
}

/** The first aggregate event of one aggregate in a batch: the version the append must follow. */
export interface BatchAggregate {
  readonly ref: AggregateRef;
  readonly first: number;
}

/** A batch checked and encoded for the insert statement: one array per column. */
export interface EncodedBatch {
  readonly ids: string[];
  readonly names: string[];
  readonly times: string[];
  readonly aggregateNames: (string | null)[];
  readonly aggregateIds: (string | null)[];
  readonly versions: number[];
  readonly data: string[];
  readonly aggregates: readonly BatchAggregate[];
}

function checkText(event: Event, index: number, what: string, text: string): void {
  if (!isStorableText(text)) {
    throw new InvalidEventError(
      `event ${event.id}: ${what} ${JSON.stringify(text)} contains a NUL character or a lone surrogate, which PostgreSQL cannot store`,
      index,
    );
  }
}

/**
 * Checks a batch the way every store does (shape, duplicate ids, consecutive versions per
 * aggregate inside the batch) plus what PostgreSQL cannot store (NUL characters, lone
 * surrogates, times outside `bigint`, versions outside `integer`), then encodes the data with the
 * codec. Throws before anything is sent, so a refused batch touches nothing.
 *
 * @throws InvalidEventError, DuplicateEventError, or the codec's EncodeError/ValidationError.
 */
export function encodeBatch(events: readonly Event[], codec: Codec): EncodedBatch {
  const n = events.length;
  const aggregates: BatchAggregate[] = [];
  const batch: EncodedBatch = {
    ids: new Array<string>(n),
    names: new Array<string>(n),
    times: new Array<string>(n),
    aggregateNames: new Array<string | null>(n),
    aggregateIds: new Array<string | null>(n),
    versions: new Array<number>(n),
    data: new Array<string>(n),
    aggregates,
  };
  const seen = new Set<string>();
  const last = new Map<string, { version: number }>();
  for (let i = 0; i < n; i++) {
    const event = events[i] as Event;
    validateEvent(event, i);
    if (seen.has(event.id)) throw new DuplicateEventError(event.id);
    seen.add(event.id);
    checkText(event, i, 'name', event.name);
    if (event.time < MIN_INT64 || event.time > MAX_INT64) {
      throw new InvalidEventError(
        `event ${event.id}: time ${event.time}n is outside the range PostgreSQL's bigint can store`,
        i,
      );
    }
    batch.ids[i] = event.id;
    batch.names[i] = event.name;
    batch.times[i] = event.time.toString();
    const aggregate = event.aggregate;
    if (aggregate === undefined) {
      batch.aggregateNames[i] = null;
      batch.aggregateIds[i] = null;
      batch.versions[i] = 0;
    } else {
      checkText(event, i, 'aggregate name', aggregate.name);
      if (aggregate.version > MAX_VERSION) {
        throw new InvalidEventError(
          `event ${event.id}: aggregate version ${aggregate.version} exceeds ${MAX_VERSION}, the largest version the PostgreSQL store holds`,
          i,
        );
      }
      batch.aggregateNames[i] = aggregate.name;
      batch.aggregateIds[i] = aggregate.id;
      batch.versions[i] = aggregate.version;
      if (aggregate.version > 0) {
        const key = refKey(aggregate);
        const previous = last.get(key);
        if (previous === undefined) {
          last.set(key, { version: aggregate.version });
          aggregates.push({
            ref: { name: aggregate.name, id: aggregate.id },
            first: aggregate.version,
          });
        } else if (aggregate.version !== previous.version + 1) {
          throw new InvalidEventError(
            `versions of ${aggregate.name}(${aggregate.id}) in one batch must follow each other: ${aggregate.version} after ${previous.version}`,
            i,
          );
        } else {
          previous.version = aggregate.version;
        }
      }
    }
  }
  // Encode only once the whole batch is known to be valid.
  for (let i = 0; i < n; i++) {
    const event = events[i] as Event;
    batch.data[i] = codec.encode(event.name, event.data);
  }
  return batch;
}
