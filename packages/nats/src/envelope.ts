import type { Codec } from '@goes/codec';
import { type AggregateVersion, type Event, isUuid } from '@goes/event';
import { InvalidEnvelopeError } from './errors.js';

/**
 * The version of the wire envelope this package writes and reads (field `v`). Readers must
 * refuse other versions; fields unknown to a reader within the same version are ignored, so
 * version 1 may gain optional fields without breaking readers.
 *
 * @example
 * ```ts
 * JSON.parse(text).v === ENVELOPE_VERSION;
 * ```
 */
export const ENVELOPE_VERSION = 1;

/**
 * The JSON object that carries an event on NATS (the README specifies it for other runtimes).
 * `time` is nanoseconds since the Unix epoch as a decimal string (it exceeds 2^53); `data` is the
 * text the codec produced for the event's data (JSON text by default), carried as a string so
 * that any codec works.
 *
 * @example
 * ```ts
 * const envelope: Envelope = {
 *   v: 1, id: '0190a6f1-7c2b-7b3a-8d4e-1234567890ab', name: 'order.placed',
 *   time: '1732728000123456789', data: '{"total":10}',
 * };
 * ```
 */
export interface Envelope {
  readonly v: typeof ENVELOPE_VERSION;
  readonly id: string;
  readonly name: string;
  readonly time: string;
  readonly data: string;
  readonly aggregate?: { readonly name: string; readonly id: string; readonly version: number };
  readonly position?: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });
const DECIMAL = /^-?\d{1,30}$/;

/**
 * Encodes an event into envelope bytes: its data through the codec, then the envelope as JSON.
 * Codec errors (EncodeError, ValidationError) are thrown as they are.
 *
 * @example
 * ```ts
 * nc.publish(subject, encodeEnvelope(event, codec));
 * ```
 */
export function encodeEnvelope(event: Event, codec: Codec): Uint8Array {
  const envelope: {
    v: number;
    id: string;
    name: string;
    time: string;
    data: string;
    aggregate?: AggregateVersion;
    position?: number;
  } = {
    v: ENVELOPE_VERSION,
    id: event.id,
    name: event.name,
    time: event.time.toString(),
    data: codec.encode(event.name, event.data),
  };
  const aggregate = event.aggregate;
  if (aggregate) {
    envelope.aggregate = { name: aggregate.name, id: aggregate.id, version: aggregate.version };
  }
  if (event.position !== undefined) envelope.position = event.position;
  return encoder.encode(JSON.stringify(envelope));
}

/**
 * Decodes envelope bytes received on `subject` into an event (data decoded by the codec).
 *
 * @throws {@link InvalidEnvelopeError} naming the subject and what is wrong.
 * @example
 * ```ts
 * const event = decodeEnvelope(msg.data, msg.subject, codec);
 * ```
 */
export function decodeEnvelope(bytes: Uint8Array, subject: string, codec: Codec): Event {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(bytes));
  } catch (cause) {
    throw new InvalidEnvelopeError(subject, 'the message is not UTF-8 JSON', { cause });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidEnvelopeError(subject, 'the message is not a JSON object');
  }
  const raw = parsed as Record<string, unknown>;
  if (raw.v !== ENVELOPE_VERSION) {
    throw new InvalidEnvelopeError(
      subject,
      `envelope version ${JSON.stringify(raw.v)} is not supported (this reader knows ${ENVELOPE_VERSION})`,
    );
  }
  const { id, name, time, data } = raw;
  if (typeof id !== 'string' || !isUuid(id)) {
    throw new InvalidEnvelopeError(subject, `id ${JSON.stringify(id)} is not a lowercase UUID`);
  }
  if (typeof name !== 'string' || name.length === 0) {
    throw new InvalidEnvelopeError(subject, `event ${id}: name must be a non-empty string`);
  }
  if (typeof time !== 'string' || !DECIMAL.test(time)) {
    throw new InvalidEnvelopeError(
      subject,
      `event ${id}: time ${JSON.stringify(time)} must be a decimal string of nanoseconds`,
    );
  }
  if (typeof data !== 'string') {
    throw new InvalidEnvelopeError(
      subject,
      `event ${id}: data must be the codec's text (a string)`,
    );
  }
  let decoded: unknown;
  try {
    decoded = codec.decode(name, data);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new InvalidEnvelopeError(subject, `event ${id}: ${reason}`, { cause });
  }
  const event: { -readonly [K in keyof Event]: Event[K] } = {
    id,
    name,
    time: BigInt(time),
    data: decoded,
  };
  if (raw.aggregate !== undefined && raw.aggregate !== null) {
    event.aggregate = decodeAggregate(raw.aggregate, subject, id);
  }
  if (raw.position !== undefined && raw.position !== null) {
    const position = raw.position;
    if (typeof position !== 'number' || !Number.isSafeInteger(position) || position < 0) {
      throw new InvalidEnvelopeError(
        subject,
        `event ${id}: position ${JSON.stringify(position)} must be a non-negative integer`,
      );
    }
    event.position = position;
  }
  return event;
}

function decodeAggregate(value: unknown, subject: string, id: string): AggregateVersion {
  const aggregate = value as Record<string, unknown>;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidEnvelopeError(subject, `event ${id}: aggregate must be an object`);
  }
  const { name, id: aggregateId, version } = aggregate;
  if (typeof name !== 'string' || name.length === 0) {
    throw new InvalidEnvelopeError(
      subject,
      `event ${id}: aggregate.name must be a non-empty string`,
    );
  }
  if (typeof aggregateId !== 'string' || !isUuid(aggregateId)) {
    throw new InvalidEnvelopeError(
      subject,
      `event ${id}: aggregate.id ${JSON.stringify(aggregateId)} is not a lowercase UUID`,
    );
  }
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0) {
    throw new InvalidEnvelopeError(
      subject,
      `event ${id}: aggregate.version ${JSON.stringify(version)} must be a non-negative integer`,
    );
  }
  return { name, id: aggregateId, version };
}
