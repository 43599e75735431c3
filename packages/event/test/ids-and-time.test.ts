import { describe, expect, it } from '@jest/globals';
import {
  compareCodePoints,
  createEvent,
  dateToNanos,
  eventsEqual,
  formatNanos,
  formatRef,
  isUuid,
  nanosToDate,
  nowNanos,
  parseRef,
  uuidv7,
} from '../src/index.js';

describe('uuidv7', () => {
  it('makes canonical version-7 UUIDs', () => {
    const id = uuidv7();
    expect(isUuid(id)).toBe(true);
    expect(id[14]).toBe('7');
    expect(['8', '9', 'a', 'b']).toContain(id[19]);
  });

  it('is strictly increasing within a process, also within one millisecond', () => {
    const ids = Array.from({ length: 10_000 }, () => uuidv7());
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('carries the current time in its first 48 bits', () => {
    const before = Date.now();
    const millis = Number.parseInt(uuidv7().replaceAll('-', '').slice(0, 12), 16);
    expect(millis).toBeGreaterThanOrEqual(before);
    expect(millis).toBeLessThan(before + 1_000);
  });
});

describe('isUuid', () => {
  it.each([
    '',
    'x',
    '0190A6F1-7C2B-7B3A-8D4E-1234567890AB',
    '{0190a6f1-7c2b-7b3a-8d4e-1234567890ab}',
    42,
  ])('refuses %p', (value) => {
    expect(isUuid(value)).toBe(false);
  });
});

describe('nowNanos', () => {
  it('is strictly increasing and close to the wall clock', () => {
    const wall = Date.now();
    const times = Array.from({ length: 1_000 }, () => nowNanos());
    const drift = Number(times[0]! / 1_000_000n) - wall;
    expect(Math.abs(drift)).toBeLessThan(50);
    for (let i = 1; i < times.length; i++) expect(times[i]! > times[i - 1]!).toBe(true);
  });

  it('converts to and from Date and formats with nine fractional digits', () => {
    const date = new Date('2026-11-27T17:18:21.123Z');
    expect(nanosToDate(dateToNanos(date)).getTime()).toBe(date.getTime());
    expect(formatNanos(dateToNanos(date) + 456_789n)).toBe('2026-11-27T17:18:21.123456789Z');
  });
});

describe('compareCodePoints', () => {
  it('orders by code point, like UTF-8 bytes, not by UTF-16 code unit', () => {
    const ordered = [
      '',
      'a',
      'ab',
      'é',
      '\uD7FF',
      '\uE000',
      '\uFFFD',
      '\u{10000}',
      '\u{1F600}',
      '\u{10FFFF}',
    ];
    const shuffled = [...ordered].reverse();
    expect(shuffled.sort(compareCodePoints)).toEqual(ordered);
    const byBytes = (a: string, b: string) =>
      Math.sign(Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
    for (const a of ordered)
      for (const b of ordered) expect(compareCodePoints(a, b)).toBe(byBytes(a, b));
  });
});

describe('refs', () => {
  const id = uuidv7();
  it('formats and parses Name(uuid)', () => {
    expect(parseRef(formatRef({ name: 'product', id }))).toEqual({ name: 'product', id });
  });

  it.each(['a(b', 'a)b', 'a(b)', '名前(ü)', 'line\nbreak', '()'])(
    'round-trips the name %p, whatever it contains',
    (name) => {
      expect(parseRef(formatRef({ name, id }))).toEqual({ name, id });
    },
  );

  it.each(['', 'product', `(${id})`, 'product(nope)', `product(${id}) trailing`])(
    'refuses %p naming it',
    (text) => {
      expect(() => parseRef(text)).toThrow(JSON.stringify(text));
    },
  );
});

describe('createEvent and eventsEqual', () => {
  it('defaults id and time, and follows previous with version + 1', () => {
    const id = uuidv7();
    const created = createEvent(
      'product.created',
      { sku: 'A' },
      { aggregate: { name: 'product', id, version: 1 } },
    );
    const priced = createEvent('product.priced', { cents: 1 }, { previous: created });
    expect(isUuid(created.id)).toBe(true);
    expect(typeof created.time).toBe('bigint');
    expect(priced.aggregate).toEqual({ name: 'product', id, version: 2 });
  });

  it('compares data deeply (goes panics on non-comparable data)', () => {
    const a = createEvent('x', { list: [1, { b: 2 }] });
    expect(eventsEqual(a, { ...a, data: { list: [1, { b: 2 }] } })).toBe(true);
    expect(eventsEqual(a, { ...a, data: { list: [1, { b: 3 }] } })).toBe(false);
    expect(eventsEqual(a, { ...a, time: a.time + 1n })).toBe(false);
    expect(eventsEqual(a, { ...a, aggregate: { name: 'x', id: uuidv7(), version: 1 } })).toBe(
      false,
    );
  });

  it('accepts a Date as time', () => {
    const event = createEvent('x', null, { time: new Date(1_000) });
    expect(event.time).toBe(1_000_000_000n);
  });
});
