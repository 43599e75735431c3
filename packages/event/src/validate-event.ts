import { InvalidEventError } from './errors.js';
import type { Event } from './event.js';
import { isUuid } from './uuid.js';

/**
 * Checks the shape of an event before a store accepts it: a canonical UUID id, a non-empty name,
 * a `bigint` time, and for aggregate events a non-empty name, a UUID id and a version that is a
 * non-negative safe integer. Every store calls it, so every backend refuses the same input.
 *
 * @throws {@link InvalidEventError} naming the offending value and the event's index.
 * @example
 * ```ts
 * events.forEach(validateEvent);
 * ```
 */
export function validateEvent(event: Event, index?: number): void {
  if (typeof event !== 'object' || event === null) {
    throw new InvalidEventError(`expected an event object, got ${describe(event)}`, index);
  }
  if (!isUuid(event.id)) {
    throw new InvalidEventError(`id ${describe(event.id)} is not a lowercase UUID`, index);
  }
  if (typeof event.name !== 'string' || event.name.length === 0) {
    throw new InvalidEventError(
      `event ${event.id}: name ${describe(event.name)} must be a non-empty string`,
      index,
    );
  }
  if (typeof event.time !== 'bigint') {
    throw new InvalidEventError(
      `event ${event.id}: time ${describe(event.time)} must be a bigint of nanoseconds`,
      index,
    );
  }
  const aggregate = event.aggregate;
  if (aggregate === undefined) return;
  if (typeof aggregate !== 'object' || aggregate === null) {
    throw new InvalidEventError(
      `event ${event.id}: aggregate ${describe(aggregate)} must be an object`,
      index,
    );
  }
  if (typeof aggregate.name !== 'string' || aggregate.name.length === 0) {
    throw new InvalidEventError(
      `event ${event.id}: aggregate name ${describe(aggregate.name)} must be a non-empty string`,
      index,
    );
  }
  if (!isUuid(aggregate.id)) {
    throw new InvalidEventError(
      `event ${event.id}: aggregate id ${describe(aggregate.id)} is not a lowercase UUID`,
      index,
    );
  }
  if (!Number.isSafeInteger(aggregate.version) || aggregate.version < 0) {
    throw new InvalidEventError(
      `event ${event.id}: aggregate version ${describe(aggregate.version)} must be a non-negative integer`,
      index,
    );
  }
}

/** A short, safe rendering of any value for error messages. @internal */
export function describe(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string')
    return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  if (value === undefined) return 'undefined';
  try {
    const text = JSON.stringify(value);
    return text === undefined ? String(value) : text.length > 80 ? `${text.slice(0, 80)}…` : text;
  } catch {
    return String(value);
  }
}
