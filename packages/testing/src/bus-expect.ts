import type { Event, Subscription } from '@goes/event';

/**
 * Reads a subscription in the background and records what arrives, so tests can wait for
 * events with a deadline, assert that nothing arrives, or that the subscription ended.
 * Errors reported through the subscription's iteration are recorded too.
 *
 * @example
 * ```ts
 * const recorder = record(await bus.subscribe([foo]));
 * await bus.publish([event]);
 * await recorder.waitFor((events) => events.length === 1, 500);
 * ```
 */
export interface Recorder {
  readonly events: Event[];
  readonly ended: boolean;
  readonly error: unknown;
  /** Resolves once `done(events)` holds; rejects after `ms` with what arrived so far. */
  waitFor(done: (events: readonly Event[]) => boolean, ms: number): Promise<void>;
  /** Resolves once the subscription's iteration ended; rejects after `ms`. */
  waitForEnd(ms: number): Promise<void>;
}

/**
 * Starts a {@link Recorder} on a subscription (or any async iterable of events).
 *
 * @example
 * ```ts
 * const recorder = record(subscription);
 * ```
 */
export function record(subscription: Subscription | AsyncIterable<Event>): Recorder {
  const events: Event[] = [];
  let ended = false;
  let error: unknown;
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const waiter of waiters) waiter();
  };
  void (async () => {
    try {
      for await (const event of subscription) {
        events.push(event);
        notify();
      }
    } catch (e) {
      error = e;
    } finally {
      ended = true;
      notify();
    }
  })();
  const wait = (check: () => boolean, ms: number, what: () => string) =>
    new Promise<void>((resolve, reject) => {
      if (check()) return resolve();
      const waiter = () => {
        if (!check()) return;
        clearTimeout(timer);
        waiters.delete(waiter);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`timed out after ${ms} ms waiting for ${what()}`));
      }, ms);
      waiters.add(waiter);
    });
  return {
    events,
    get ended() {
      return ended;
    },
    get error() {
      return error;
    },
    waitFor: (done, ms) =>
      wait(
        () => done(events),
        ms,
        () =>
          `events; got [${events.map((e) => e.name).join(', ')}]${error ? `, error ${String(error)}` : ''}`,
      ),
    waitForEnd: (ms) =>
      wait(
        () => ended,
        ms,
        () => 'the subscription to end',
      ),
  };
}

/**
 * Resolves after `ms` milliseconds.
 *
 * @example
 * ```ts
 * await delay(50);
 * ```
 */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
