import type { Event } from '@goes/event';
import type { SoftDeletePolicy } from './aggregate.js';

/**
 * Tells whether an aggregate is soft-deleted after `events` (goes' `softdelete.SoftDeleted`):
 * the last event named in the policy decides (a delete event sets the flag, a restore event
 * clears it); with none, the flag stays `initial` (the state before these events, e.g. from a
 * snapshot). This is how a delete event older than the events read still counts.
 *
 * @example
 * ```ts
 * isSoftDeleted(history, { deleteEvents: ['product.discontinued'] }); // true or false
 * ```
 */
export function isSoftDeleted(
  events: Iterable<Event>,
  policy: SoftDeletePolicy,
  initial = false,
): boolean {
  const deletes = new Set(policy.deleteEvents ?? []);
  const restores = new Set(policy.restoreEvents ?? []);
  let deleted = initial;
  if (deletes.size === 0 && restores.size === 0) return deleted;
  for (const event of events) {
    if (deletes.has(event.name)) deleted = true;
    else if (restores.has(event.name)) deleted = false;
  }
  return deleted;
}
