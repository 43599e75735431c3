import {
  type AggregateRef,
  DuplicateEventError,
  type Event,
  InvalidEventError,
  refKey,
  validateEvent,
} from '@goes/event';
import { assertStorable, streamKey } from './documents.js';

/**
 * What a batch does to one aggregate: it appends versions `first`…`last` (version-0 events take
 * no version and are not counted), in `incarnation` of the aggregate (decided by the version
 * check).
 *
 * @internal
 */
export interface AggregateAppend {
  readonly ref: AggregateRef;
  /** The aggregate's key ({@link streamKey}). */
  readonly key: string;
  readonly first: number;
  last: number;
  incarnation: number;
}

/**
 * Checks a batch before anything is written, as every goes store does: each event is valid and
 * storable, no id repeats, and the versions of each aggregate follow each other. Returns what
 * the batch appends per aggregate.
 *
 * @throws {@link InvalidEventError} or {@link DuplicateEventError} naming the offending value.
 * @internal
 */
export function planBatch(events: readonly Event[]): AggregateAppend[] {
  if (!Array.isArray(events)) throw new InvalidEventError('insert expects an array of events');
  const ids = new Set<string>();
  const appends = new Map<string, AggregateAppend>();
  events.forEach((event, i) => {
    validateEvent(event, i);
    assertStorable(event, i);
    if (ids.has(event.id)) throw new DuplicateEventError(event.id);
    ids.add(event.id);
    const aggregate = event.aggregate;
    if (!aggregate || aggregate.version === 0) return;
    const key = refKey(aggregate);
    const append = appends.get(key);
    if (!append) {
      const ref = { name: aggregate.name, id: aggregate.id };
      appends.set(key, {
        ref,
        key: streamKey(ref),
        first: aggregate.version,
        last: aggregate.version,
        incarnation: 0,
      });
      return;
    }
    if (aggregate.version !== append.last + 1) {
      throw new InvalidEventError(
        `versions of ${aggregate.name}(${aggregate.id}) in one batch must follow each other: ${aggregate.version} after ${append.last}`,
        i,
      );
    }
    append.last = aggregate.version;
  });
  return [...appends.values()];
}
