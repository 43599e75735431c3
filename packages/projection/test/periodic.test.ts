import { createMemoryEventStore, type Event } from '@goes/event';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { periodically, type ScheduleSubscription } from '../src/index.js';
import { insertAll, makeEvents, names, Plain, Recorder } from './helpers.js';

const opened: ScheduleSubscription[] = [];
afterEach(async () => {
  jest.useRealTimers();
  for (const subscription of opened.splice(0)) await subscription.close();
});

const lastPosition = (events: readonly Event[]) => (events.at(-1) as Event).position as number;
const fakeTimers = () =>
  jest.useFakeTimers({
    doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask', 'performance', 'hrtime', 'Date'],
  });

describe('periodically', () => {
  it('polls the store: the first tick covers the history, later ticks only what is new', async () => {
    const store = createMemoryEventStore();
    const placed = names().name('placed');
    const history = await insertAll(store, makeEvents(placed, 10));
    const plain = new Plain();
    const kinds: string[] = [];
    const subscription = await periodically(store, 5, [placed]).subscribe(async (job) => {
      kinds.push(job.kind);
      await job.apply(plain);
    });
    opened.push(subscription);
    await subscription.whenProcessed(lastPosition(history), {
      signal: AbortSignal.timeout(10_000),
    });
    const more = await insertAll(store, makeEvents(placed, 5));
    await subscription.whenProcessed(lastPosition(more), { signal: AbortSignal.timeout(10_000) });
    expect(plain.events.map((e) => e.id)).toEqual([...history, ...more].map((e) => e.id));
    expect(new Set(kinds)).toEqual(new Set(['periodic']));
  });

  it('runs a startup job first (goes Periodic Startup)', async () => {
    const store = createMemoryEventStore();
    const placed = names().name('placed');
    await insertAll(store, makeEvents(placed, 7));
    const counter = new Recorder();
    const subscription = await periodically(store, 60_000, [placed]).subscribe(
      async (job) => void (await job.apply(counter)),
      { startup: true },
    );
    opened.push(subscription);
    expect(counter.count).toBe(7);
    expect(subscription.jobs).toBe(1);
  });

  it('lets ticks that come while a job waits join it, and stops ticking when closed', async () => {
    fakeTimers();
    const store = createMemoryEventStore();
    const placed = names().name('placed');
    await insertAll(store, makeEvents(placed, 3));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const counter = new Recorder();
    const subscription = await periodically(store, 10, [placed]).subscribe(async (job) => {
      await gate;
      await job.apply(counter);
    });
    await jest.advanceTimersByTimeAsync(1_000); // 100 ticks while the first job waits
    release();
    await jest.advanceTimersByTimeAsync(0);
    await subscription.idle();
    expect(subscription.jobs).toBeLessThanOrEqual(2);
    expect(counter.count).toBe(3);
    await subscription.close();
    const jobs = subscription.jobs;
    await jest.advanceTimersByTimeAsync(1_000);
    expect(subscription.jobs).toBe(jobs);
  });

  it('can be triggered, also with a reset', async () => {
    const store = createMemoryEventStore();
    const placed = names().name('placed');
    await insertAll(store, makeEvents(placed, 4));
    const schedule = periodically(store, 60_000, [placed]);
    const counter = new Recorder();
    opened.push(await schedule.subscribe(async (job) => void (await job.apply(counter))));
    await schedule.trigger();
    expect(counter.count).toBe(4);
    counter.ids.length = 0;
    await schedule.trigger({ reset: true });
    expect(counter.count).toBe(4);
  });

  it('refuses a bad interval or names', () => {
    const store = createMemoryEventStore();
    expect(() => periodically(store, 0, ['a'])).toThrow(/interval 0/);
    expect(() => periodically(store, Number.NaN, ['a'])).toThrow(/interval NaN/);
    expect(() => periodically(store, 10, [])).toThrow(/names/);
  });
});
