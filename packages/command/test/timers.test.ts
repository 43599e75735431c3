import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { monotonicNow, startTimer, stopTimer } from '../src/internal/timers.js';

// The shared deadline lists that replace a host timer per command. Fake timers make the clock
// deterministic here: time moves only when a test advances it.

const fake = () => jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask'] });

afterEach(() => {
  jest.useRealTimers();
});

describe('shared deadlines', () => {
  it('fires every deadline once, when it is due and never before, in due order', () => {
    fake();
    const fired: string[] = [];
    const at = (name: string) => () => fired.push(`${name}@${Math.round(monotonicNow())}`);
    const start = monotonicNow();
    startTimer(10, at('a'), undefined);
    jest.advanceTimersByTime(3);
    startTimer(10, at('b'), undefined); // same duration, due 3 ms after a
    startTimer(4, at('c'), undefined);
    jest.advanceTimersByTime(4);
    expect(fired).toEqual([`c@${Math.round(start) + 7}`]);
    jest.advanceTimersByTime(3);
    expect(fired).toEqual([`c@${Math.round(start) + 7}`, `a@${Math.round(start) + 10}`]);
    jest.advanceTimersByTime(2);
    expect(fired).toHaveLength(2);
    jest.advanceTimersByTime(1);
    expect(fired.at(-1)).toBe(`b@${Math.round(start) + 13}`);
    jest.advanceTimersByTime(100);
    expect(fired).toHaveLength(3);
  });

  it('passes its argument, and rounds a fractional duration up', () => {
    fake();
    const seen: number[] = [];
    startTimer(2.2, (n: number) => seen.push(n), 42);
    jest.advanceTimersByTime(2);
    expect(seen).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(seen).toEqual([42]);
  });

  it('does not fire a stopped deadline; stopping again, after firing or nothing is harmless', () => {
    fake();
    const fired: string[] = [];
    const a = startTimer(5, () => fired.push('a'), undefined);
    const b = startTimer(5, () => fired.push('b'), undefined);
    const c = startTimer(5, () => fired.push('c'), undefined);
    stopTimer(b);
    stopTimer(b);
    stopTimer(undefined);
    jest.advanceTimersByTime(5);
    expect(fired).toEqual(['a', 'c']);
    stopTimer(a);
    stopTimer(c);
    // the list is usable again after it emptied
    startTimer(5, () => fired.push('d'), undefined);
    jest.advanceTimersByTime(5);
    expect(fired).toEqual(['a', 'c', 'd']);
  });

  it('fires a deadline started by a firing one (same duration) a full duration later', () => {
    fake();
    const fired: number[] = [];
    const start = monotonicNow();
    startTimer(
      5,
      () => {
        fired.push(monotonicNow() - start);
        startTimer(5, () => fired.push(monotonicNow() - start), undefined);
      },
      undefined,
    );
    jest.advanceTimersByTime(5);
    expect(fired).toEqual([5]);
    jest.advanceTimersByTime(5);
    expect(fired).toEqual([5, 10]);
  });

  it('keeps firing after the host timers were swapped (fake timers installed and removed)', async () => {
    fake();
    // Arms a host timer of the fake clock, then empties the list: the timer stays armed there.
    stopTimer(startTimer(20, () => {}, undefined));
    jest.useRealTimers();
    // The fake clock and its timers are gone; a new deadline of the same duration must still fire.
    await new Promise<void>((resolve) => startTimer(20, resolve, undefined));
    fake();
    const fired: string[] = [];
    startTimer(20, () => fired.push('fake again'), undefined);
    jest.advanceTimersByTime(20);
    expect(fired).toEqual(['fake again']);
  });
});
