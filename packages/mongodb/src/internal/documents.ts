import type { Codec } from '@goes/codec';
import { type AggregateRef, type Event, InvalidEventError } from '@goes/event';

/**
 * How events are laid out in MongoDB: one document per event. The README's "How it works"
 * explains the protocol; in short:
 *
 * - `_id` is the global position as a 16-digit zero-padded decimal string, so that the unique
 *   `_id` index hands out positions, string order is position order, and FerretDB (which only
 *   pushes `_id` equality on strings down to SQL) answers lookups by position without a scan.
 * - `slot` completes the unique index (aggregateName, aggregateId, aggregateVersion, slot): it is
 *   `""` for events that take a version, so two events can never hold the same version of one
 *   aggregate, and the document's own `_id` for every other document, which never collides. This
 *   replaces goes' partial index (FerretDB has none) and behaves the same on every server.
 * - `batchStart`/`batchEnd` name the positions of the insert the event came with; a batch is
 *   complete (never rolled back) once the document at `batchEnd` is its own.
 * - `settled` marks the last event of a batch whose writer knew everything below it settled:
 *   readers may then read up to it without waiting for a commit marker.
 * - Deleted events and the placeholders of half-written batches become tombstones: the document
 *   keeps its `_id` (positions are never freed) and its batch fields, and loses the rest, except
 *   that a deleted version keeps its version slot taken. An aggregate created again after a
 *   delete writes its versions in a new incarnation (`slot` `i1`, `i2`…).
 *
 * @internal
 */
export interface EventDocument {
  _id: string;
  /** The event id; for tombstones their own `_id`, so the unique index never sees a repeat. */
  id: string;
  /** Absent on tombstones. */
  name?: string;
  /** Nanoseconds since the epoch (BSON int64). */
  time?: bigint;
  /** `""` for events without an aggregate, so they sort first in ascending order. */
  aggregateName?: string;
  aggregateId?: string;
  aggregateVersion?: number;
  slot: string;
  /** The codec's text: never parsed by the server, so hostile keys cannot become operators. */
  data?: string;
  batchStart?: number;
  batchEnd?: number;
  settled?: true;
  deleted?: true;
}

/** Digits of a position string: enough for every safe integer. */
const POSITION_DIGITS = 16;

/** Positions as sortable strings: `42` → `"0000000000000042"`. @internal */
export function formatPosition(position: number): string {
  return position.toString().padStart(POSITION_DIGITS, '0');
}

/** The number of a position string. @internal */
export function parsePosition(id: string): number {
  return Number(id);
}

/** The smallest and largest times a BSON int64 holds. @internal */
export const INT64_MIN = -(2n ** 63n);
/** @internal */
export const INT64_MAX = 2n ** 63n - 1n;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * True for a string that survives the trip through BSON (UTF-8) unchanged: lone UTF-16
 * surrogates would come back as U+FFFD.
 *
 * @internal
 */
export function isStorableString(value: string): boolean {
  return !LONE_SURROGATE.test(value);
}

/**
 * Checks what `validateEvent` cannot know: that names survive the BSON round trip and that the
 * time fits a BSON int64.
 *
 * @throws {@link InvalidEventError} naming the event.
 * @internal
 */
export function assertStorable(event: Event, index: number): void {
  if (!isStorableString(event.name)) {
    throw new InvalidEventError(
      `event ${event.id}: name ${JSON.stringify(event.name)} contains a lone UTF-16 surrogate, which MongoDB cannot store`,
      index,
    );
  }
  if (event.aggregate && !isStorableString(event.aggregate.name)) {
    throw new InvalidEventError(
      `event ${event.id}: aggregate name ${JSON.stringify(event.aggregate.name)} contains a lone UTF-16 surrogate, which MongoDB cannot store`,
      index,
    );
  }
  if (event.time < INT64_MIN || event.time > INT64_MAX) {
    throw new InvalidEventError(
      `event ${event.id}: time ${event.time}n does not fit the 64-bit integer MongoDB stores times in`,
      index,
    );
  }
}

/**
 * The slot of a version in incarnation `incarnation` of its aggregate: `""` for the first, `i1`,
 * `i2`… for the lives of an aggregate created again after a delete.
 *
 * @internal
 */
export function versionSlot(incarnation: number): string {
  return incarnation === 0 ? '' : `i${incarnation}`;
}

/** The incarnation of a version slot (see {@link versionSlot}). @internal */
export function incarnationOf(slot: string | undefined): number {
  return slot?.startsWith('i') ? Number(slot.slice(1)) : 0;
}

/**
 * The document of `event` at `position`, inserted with the batch `[batchStart, batchEnd]`;
 * `data` is the event's data as encoded by the codec, `incarnation` that of its aggregate.
 *
 * @internal
 */
export function toDocument(
  event: Event,
  data: string,
  position: number,
  batchStart: number,
  batchEnd: number,
  incarnation = 0,
): EventDocument {
  const _id = formatPosition(position);
  const aggregate = event.aggregate;
  const version = aggregate?.version ?? 0;
  return {
    _id,
    id: event.id,
    name: event.name,
    time: event.time,
    aggregateName: aggregate?.name ?? '',
    aggregateId: aggregate?.id ?? '',
    aggregateVersion: version,
    slot: version > 0 ? versionSlot(incarnation) : _id,
    data,
    batchStart,
    batchEnd,
  };
}

/**
 * What a tombstone keeps of the document it replaces: the batch fields, so readers walking the
 * log can still step over it, and for a deleted version its version slot.
 *
 * @internal
 */
export type TombstoneFields = Partial<
  Pick<
    EventDocument,
    | 'batchStart'
    | 'batchEnd'
    | 'settled'
    | 'aggregateName'
    | 'aggregateId'
    | 'aggregateVersion'
    | 'slot'
  >
>;

/**
 * The tombstone that replaces the document at `position`. It keeps the position taken, and its
 * batch fields; it releases the event id. A deleted version keeps its version slot taken (give
 * `keepSlot`), so that a writer that still believes in the deleted version cannot append after
 * it; the slots of half-written batches are released.
 *
 * @internal
 */
export function tombstone(
  position: number | string,
  fields: TombstoneFields = {},
  keepSlot = false,
): EventDocument {
  const _id = typeof position === 'string' ? position : formatPosition(position);
  const doc: EventDocument = { _id, id: _id, slot: _id, deleted: true };
  if (fields.batchStart !== undefined) doc.batchStart = fields.batchStart;
  if (fields.batchEnd !== undefined) doc.batchEnd = fields.batchEnd;
  if (fields.settled) doc.settled = true;
  if (keepSlot && fields.aggregateName && (fields.aggregateVersion ?? 0) > 0) {
    doc.aggregateName = fields.aggregateName;
    doc.aggregateId = fields.aggregateId as string;
    doc.aggregateVersion = fields.aggregateVersion as number;
    doc.slot = fields.slot ?? '';
  }
  return doc;
}

/**
 * The key of an aggregate. Ids are canonical UUIDs (36 characters), so putting the id first
 * makes the key unambiguous whatever the name contains.
 *
 * @internal
 */
export function streamKey(aggregate: AggregateRef): string {
  return `${aggregate.id}:${aggregate.name}`;
}

/** The fields a reader needs; the others stay on the server. @internal */
export const EVENT_PROJECTION = {
  slot: 0,
  batchStart: 0,
  batchEnd: 0,
  settled: 0,
} as const;

/**
 * Rebuilds the event of a stored document (read with `useBigInt64`).
 *
 * @internal
 */
export function fromDocument(doc: EventDocument, codec: Codec): Event {
  const name = doc.name as string;
  const event: { -readonly [K in keyof Event]: Event[K] } = {
    id: doc.id,
    name,
    time: typeof doc.time === 'bigint' ? doc.time : BigInt(doc.time as unknown as number),
    data: codec.decode(name, doc.data as string),
  };
  if (doc.aggregateName) {
    event.aggregate = {
      name: doc.aggregateName,
      id: doc.aggregateId as string,
      version: doc.aggregateVersion as number,
    };
  }
  event.position = parsePosition(doc._id);
  return event;
}
