import { createEvent, type Event, uuidv7 } from '@goes/event';
import { describe, expect, it } from '@jest/globals';
import { type ConsistencyError, isConsistencyError, validateConsistency } from '../src/index.js';
import { productHistory, thrown } from './product.js';

const refOfHistory = (events: readonly Event[]) => ({
  name: events[0]?.aggregate?.name as string,
  id: events[0]?.aggregate?.id as string,
});

function violation(fn: () => void): ConsistencyError {
  const error = thrown(fn);
  expect(isConsistencyError(error)).toBe(true);
  return error as ConsistencyError;
}

describe('validateConsistency', () => {
  it('accepts a consistent history from version 1 and a continuation from a later version', () => {
    const events = productHistory(uuidv7(), [1, 2, 3]);
    const ref = refOfHistory(events);
    expect(() => validateConsistency(ref, 0, events)).not.toThrow();
    expect(() => validateConsistency(ref, 2, events.slice(2))).not.toThrow();
    expect(() => validateConsistency(ref, 7, [])).not.toThrow();
  });

  it('names an event of another aggregate id (kind id), and an event without aggregate', () => {
    const events = productHistory(uuidv7(), [1]);
    const other = productHistory(uuidv7(), [1]);
    const mixed = [events[0] as Event, other[1] as Event];
    const error = violation(() => validateConsistency(refOfHistory(events), 0, mixed));
    expect(error.kind).toBe('id');
    expect(error.index).toBe(1);
    expect(error.event).toBe(other[1]);
    expect(error.aggregate).toEqual(refOfHistory(events));
    expect(error.message).toContain(other[1]?.aggregate?.id as string);
    const loose = violation(() =>
      validateConsistency(refOfHistory(events), 0, [createEvent('product.created', {})]),
    );
    expect(loose.kind).toBe('id');
    expect(loose.message).toContain('(none)');
  });

  it('names an event of another aggregate name (kind name)', () => {
    const id = uuidv7();
    const events = productHistory(id, [1]);
    const renamed = { ...(events[1] as Event), aggregate: { name: 'order', id, version: 2 } };
    const error = violation(() =>
      validateConsistency(refOfHistory(events), 0, [events[0] as Event, renamed]),
    );
    expect(error.kind).toBe('name');
    expect(error.message).toContain('"order"');
  });

  it('refuses gaps, repeats, versions that do not follow the current one, and version 0 (kind version)', () => {
    const events = productHistory(uuidv7(), [1, 2, 3]);
    const ref = refOfHistory(events);
    const [v1, v2, v3, v4] = events as [Event, Event, Event, Event];
    const gap = violation(() => validateConsistency(ref, 0, [v1, v3]));
    expect(gap).toMatchObject({ kind: 'version', index: 1, currentVersion: 0 });
    expect(gap.message).toContain('has version 3, want 2');
    expect(gap.message).toContain('gap');
    expect(violation(() => validateConsistency(ref, 0, [v1, v2, v2])).message).toContain('repeats');
    expect(violation(() => validateConsistency(ref, 1, [v1])).kind).toBe('version');
    expect(violation(() => validateConsistency(ref, 0, [v2])).kind).toBe('version');
    expect(violation(() => validateConsistency(ref, 2, [v4])).message).toContain('want 3');
    const zero = { ...v1, aggregate: { ...ref, version: 0 } };
    expect(violation(() => validateConsistency(ref, 0, [zero])).kind).toBe('version');
  });

  it('refuses times that do not increase (kind time), unless checkTime is false', () => {
    const events = productHistory(uuidv7(), [1]);
    const ref = refOfHistory(events);
    const [v1, v2] = events as [Event, Event];
    const same = { ...v2, time: v1.time };
    const error = violation(() => validateConsistency(ref, 0, [v1, same]));
    expect(error.kind).toBe('time');
    expect(error.code).toBe('AGGREGATE_INCONSISTENT');
    expect(() => validateConsistency(ref, 0, [v1, same], { checkTime: false })).not.toThrow();
    expect(
      violation(() => validateConsistency(ref, 0, [v1, { ...v2, time: v1.time - 5n }])).kind,
    ).toBe('time');
  });

  it('reports the first violation in order', () => {
    const events = productHistory(uuidv7(), [1, 2]);
    const ref = refOfHistory(events);
    const [v1, v2, v3] = events as [Event, Event, Event];
    const badTime = { ...v2, time: v1.time };
    const error = violation(() => validateConsistency(ref, 0, [v1, badTime, v3, v3]));
    expect(error.index).toBe(1);
    expect(error.kind).toBe('time');
  });
});
