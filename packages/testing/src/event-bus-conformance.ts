import type { Codec } from '@goes/codec';
import {
  ALL_EVENTS,
  type Event,
  type EventBus,
  eventsEqual,
  isGoesError,
  type Subscription,
} from '@goes/event';
import { afterEach, describe, expect, it } from '@jest/globals';
import { delay, record } from './bus-expect.js';
import { createTestCodec, namespace } from './fixtures.js';

/**
 * Makes the bus under test. Called once per test; buses of one suite may share a server, since
 * every test uses its own event names.
 *
 * @example
 * ```ts
 * const factory: EventBusFactory = ({ codec }) => createMemoryEventBus({ codec });
 * ```
 */
export type EventBusFactory = (context: { readonly codec: Codec }) => EventBus | Promise<EventBus>;

/**
 * Options of {@link eventBusConformance}: what the bus supports, and timing slack for networked
 * buses.
 *
 * @example
 * ```ts
 * eventBusConformance('nats core', factory, { groups: true, latency: 200 });
 * ```
 */
export interface EventBusConformanceOptions {
  /** The bus honours `SubscribeOptions.group` (load balancing). Default false. */
  readonly groups?: boolean | undefined;
  /** Extra milliseconds added to every delivery deadline. Default 0. */
  readonly latency?: number | undefined;
  /** Called after each test with the bus (after the suite closed it). */
  readonly teardown?: ((bus: EventBus) => void | Promise<void>) | undefined;
}

/**
 * The event bus conformance suite: every case of goes' `eventbustest` (basic delivery to many
 * subscribers, multi-name subscriptions, cancelled and cancelling subscriptions, multi-event
 * publishes, the `*` wildcard) plus per-name ordering, faithful event contents, a slow subscriber
 * not stalling a fast one, `close()`, bad names, and load-balancing groups where supported.
 *
 * @example
 * ```ts
 * import { createMemoryEventBus } from '@goes/event';
 * import { eventBusConformance } from '@goes/testing';
 *
 * eventBusConformance('in-memory', ({ codec }) => createMemoryEventBus({ codec }), { groups: true });
 * ```
 */
export function eventBusConformance(
  name: string,
  factory: EventBusFactory,
  options: EventBusConformanceOptions = {},
): void {
  const slack = options.latency ?? 0;
  const opened: EventBus[] = [];
  const open = async (): Promise<EventBus> => {
    const bus = await factory({ codec: createTestCodec() });
    opened.push(bus);
    return bus;
  };
  const subscriptions: Subscription[] = [];
  const subscribe = async (
    bus: EventBus,
    names: string[],
    extra: Parameters<EventBus['subscribe']>[1] = {},
  ) => {
    const subscription = await bus.subscribe(names, extra);
    subscriptions.push(subscription);
    return subscription;
  };

  describe(`event bus conformance: ${name}`, () => {
    afterEach(async () => {
      for (const subscription of subscriptions.splice(0)) await subscription.close();
      for (const bus of opened.splice(0)) {
        await bus.close();
        await options.teardown?.(bus);
      }
    });

    it('delivers an event to all 10 subscribers of its name and nothing to others (goes Basic)', async () => {
      const bus = await open();
      const ns = namespace();
      const recorders = await Promise.all(
        Array.from({ length: 10 }, async () => record(await subscribe(bus, [ns.name('foo')]))),
      );
      await bus.publish([ns.event('bar')]);
      await delay(50 + slack);
      for (const recorder of recorders) expect(recorder.events).toEqual([]);
      const foo = ns.event('foo');
      await bus.publish([foo]);
      await Promise.all(
        recorders.map((r) => r.waitFor((events) => events.length === 1, 100 + slack)),
      );
      for (const recorder of recorders) expect(recorder.events.map((e) => e.id)).toEqual([foo.id]);
    });

    it('delivers every name of a multi-name subscription (goes SubscribeMultipleEvents)', async () => {
      const bus = await open();
      const ns = namespace();
      const recorder = record(
        await subscribe(bus, [ns.name('foo'), ns.name('bar'), ns.name('baz')]),
      );
      await bus.publish([ns.event('foo')]);
      await bus.publish([ns.event('baz')]);
      await recorder.waitFor((events) => events.length === 2, 100 + slack);
      expect(recorder.events.map((e) => e.name).sort()).toEqual([ns.name('baz'), ns.name('foo')]);
    });

    it('with an already aborted signal, rejects or ends at once (goes SubscribeCanceledContext)', async () => {
      const bus = await open();
      const ns = namespace();
      let subscription: Subscription | undefined;
      try {
        subscription = await bus.subscribe([ns.name('foo')], { signal: AbortSignal.abort() });
      } catch {
        return;
      }
      subscriptions.push(subscription);
      await record(subscription).waitForEnd(50 + slack);
    });

    it('ends the iteration after the signal aborts, although more events come (goes CancelSubscription)', async () => {
      const bus = await open();
      const ns = namespace();
      const controller = new AbortController();
      const recorder = record(
        await subscribe(bus, [ns.name('foo')], { signal: controller.signal }),
      );
      await bus.publish([ns.event('foo')]);
      await recorder.waitFor((events) => events.length === 1, 500 + slack);
      controller.abort();
      await delay(10);
      await bus.publish([ns.event('foo')]);
      await recorder.waitForEnd(500 + slack);
    });

    it('delivers the subscribed events of a multi-event publish (goes PublishMultipleEvents)', async () => {
      const bus = await open();
      const ns = namespace();
      const recorder = record(
        await subscribe(bus, [ns.name('foo'), ns.name('bar'), ns.name('baz')]),
      );
      await bus.publish([ns.event('foo'), ns.event('baz'), ns.event('foobar')]);
      await recorder.waitFor((events) => events.length === 2, 500 + slack);
      await delay(50);
      expect(recorder.events.map((e) => e.name)).toEqual([ns.name('foo'), ns.name('baz')]);
    });

    it('delivers every event to a "*" subscription (goes Wildcard)', async () => {
      const bus = await open();
      const ns = namespace();
      const recorder = record(await subscribe(bus, [ALL_EVENTS]));
      const events = [ns.event('foo'), ns.event('bar'), ns.event('baz')];
      await bus.publish(events);
      const mine = (all: readonly Event[]) => all.filter((e) => e.name.startsWith(`${ns.prefix}.`));
      await recorder.waitFor((all) => mine(all).length === 3, 900 + slack);
      expect(mine(recorder.events).map((e) => e.id)).toEqual(events.map((e) => e.id));
    });

    it('delivers events unchanged: id, name, nanosecond time, data and aggregate', async () => {
      const bus = await open();
      const ns = namespace();
      const recorder = record(await subscribe(bus, [ns.name('foo')]));
      const events = [
        {
          ...ns.event('foo', { time: 1_700_000_000_123_456_789n }),
          data: { A: 'x', nested: { list: [1, 'two', null] }, $op: 'a.b' },
        },
        ...ns.history('agg', 2),
      ];
      await bus.publish(events);
      await recorder.waitFor((all) => all.length === 3, 500 + slack);
      recorder.events.forEach((event, i) => {
        expect(eventsEqual(event, events[i] as Event)).toBe(true);
      });
    });

    it('keeps the publish order of events of one name', async () => {
      const bus = await open();
      const ns = namespace();
      const recorder = record(await subscribe(bus, [ns.name('foo')], { bufferSize: 2_000 }));
      const events = Array.from({ length: 500 }, () => ns.event('foo'));
      for (let i = 0; i < events.length; i += 50) await bus.publish(events.slice(i, i + 50));
      await recorder.waitFor((all) => all.length === 500, 2_000 + slack);
      expect(recorder.events.map((e) => e.id)).toEqual(events.map((e) => e.id));
    });

    it("keeps one publisher's order across the names of a subscription", async () => {
      const bus = await open();
      const ns = namespace();
      const names = ['a', 'b', 'c'];
      const recorder = record(
        await subscribe(
          bus,
          names.map((n) => ns.name(n)),
          { bufferSize: 1_000 },
        ),
      );
      const events = Array.from({ length: 300 }, (_, i) => ns.event(names[i % 3] as string));
      for (const event of events) await bus.publish([event]);
      await recorder.waitFor((all) => all.length === 300, 2_000 + slack);
      expect(recorder.events.map((e) => e.id)).toEqual(events.map((e) => e.id));
    });

    it('does not let a subscriber that never reads stall another one, and reports what it drops', async () => {
      const bus = await open();
      const ns = namespace();
      const reported: unknown[] = [];
      await subscribe(bus, [ns.name('foo')], {
        bufferSize: 16,
        overflow: 'drop',
        onError: (error) => reported.push(error),
      });
      const fast = record(await subscribe(bus, [ns.name('foo')], { bufferSize: 4_000 }));
      const events = Array.from({ length: 1_000 }, () => ns.event('foo'));
      for (let i = 0; i < events.length; i += 100) await bus.publish(events.slice(i, i + 100));
      await fast.waitFor((all) => all.length === 1_000, 3_000 + slack);
      expect(fast.events.map((e) => e.id)).toEqual(events.map((e) => e.id));
      // `drop` never drops silently: a full queue drops at least 1,000 - 16 events, each reported.
      expect(reported.length).toBeGreaterThan(0);
      for (const error of reported) expect(isGoesError(error, 'SUBSCRIBER_OVERFLOW')).toBe(true);
    });

    it("ends a subscriber that falls behind under overflow 'fail' with SubscriberOverflowError, after what it queued", async () => {
      const bus = await open();
      const ns = namespace();
      // Explicit: a bus may default to another policy (NATS JetStream blocks by default).
      const slow = await subscribe(bus, [ns.name('foo')], { bufferSize: 16, overflow: 'fail' });
      const events = Array.from({ length: 200 }, () => ns.event('foo'));
      for (let i = 0; i < events.length; i += 20) await bus.publish(events.slice(i, i + 20));
      await delay(100 + slack);
      const recorder = record(slow);
      await recorder.waitForEnd(1_000 + slack);
      expect(isGoesError(recorder.error, 'SUBSCRIBER_OVERFLOW')).toBe(true);
      // What it received is a gapless start of the publish order, never a silent selection.
      expect(recorder.events.length).toBeLessThan(events.length);
      expect(recorder.events.map((e) => e.id)).toEqual(
        events.slice(0, recorder.events.length).map((e) => e.id),
      );
    });

    it('ends subscriptions when the subscription or the bus is closed', async () => {
      const bus = await open();
      const ns = namespace();
      const first = await subscribe(bus, [ns.name('foo')]);
      const firstRecorder = record(first);
      const second = record(await subscribe(bus, [ns.name('foo')]));
      await first.close();
      await firstRecorder.waitForEnd(500 + slack);
      await bus.close();
      await second.waitForEnd(500 + slack);
    });

    it('refuses empty names with a typed error', async () => {
      const bus = await open();
      const error = await bus.subscribe(['']).catch((e: unknown) => e);
      expect(isGoesError(error)).toBe(true);
      expect(String((error as Error).message)).toContain('names[0]');
    });

    if (options.groups) {
      it('delivers each event to exactly one member of a load-balancing group', async () => {
        const bus = await open();
        const ns = namespace();
        const group = ns.name('workers');
        const members = await Promise.all(
          [0, 1, 2].map(async () => record(await subscribe(bus, [ns.name('job')], { group }))),
        );
        const plain = record(await subscribe(bus, [ns.name('job')]));
        const events = Array.from({ length: 30 }, () => ns.event('job'));
        await bus.publish(events);
        await plain.waitFor((all) => all.length === 30, 1_000 + slack);
        const total = () => members.reduce((n, m) => n + m.events.length, 0);
        // A recorder re-checks only when its own subscription receives an event, so wait on every
        // member: whichever receives the last event sees the total complete.
        await Promise.any(
          members.map((member) => member.waitFor(() => total() === 30, 1_000 + slack)),
        ).catch(() => {
          const counts = members.map((member) => member.events.length).join(', ');
          throw new Error(`the group's members received ${total()} of 30 events (${counts})`);
        });
        await delay(50);
        const received = members.flatMap((m) => m.events.map((e) => e.id)).sort();
        expect(received).toEqual(events.map((e) => e.id).sort());
        expect(members.filter((m) => m.events.length > 0).length).toBeGreaterThan(1);
      });
    }
  });
}
