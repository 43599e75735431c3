import {
  createEvent,
  createMemoryEventBus,
  createMemoryEventStore,
  type Event,
  uuidv7,
  withBus,
} from '@goes/event';
import { describe, expect, it } from '@jest/globals';
import { continuously, createLookup, createProjectionService } from '../src/index.js';
import { names } from './helpers.js';
import { trackingBus } from './tracking-bus.js';

function setup() {
  const { bus, open } = trackingBus(createMemoryEventBus());
  const store = withBus(createMemoryEventStore(), bus);
  const ns = names();
  return { bus, open, store, ns };
}

describe('nothing keeps running after close', () => {
  it('lookup: concurrent start() calls open one schedule, and close() stops it', async () => {
    const { bus, open, store, ns } = setup();
    const registered = ns.name('registered');
    let calls = 0;
    const lookup = createLookup(store, bus, {
      [registered]: (event: Event, table) => {
        calls++;
        table.provide('email', (event.data as { email: string }).email);
      },
    });
    const id = uuidv7();
    await store.insert([
      createEvent(registered, { email: 'a@x' }, { aggregate: { name: 'user', id, version: 1 } }),
    ]);
    await Promise.all([lookup.start(), lookup.start()]);
    await lookup.ready({ signal: AbortSignal.timeout(5_000) });
    expect(await lookup.get('user', 'email', id)).toBe('a@x');
    await lookup.close();
    expect(open()).toBe(0);
    expect(calls).toBe(1);
  });

  it('lookup: close() while start() is under way leaves nothing running', async () => {
    const { bus, open, store, ns } = setup();
    const lookup = createLookup(store, bus, { [ns.name('registered')]: () => {} });
    const starting = lookup.start();
    await lookup.close();
    await starting.catch(() => {});
    expect(open()).toBe(0);
  });

  it('projection service: concurrent start() calls accept each trigger once, and close() stops it', async () => {
    const { bus, open, store, ns } = setup();
    const schedule = continuously(bus, store, [ns.name('placed')]);
    let triggered = 0;
    const subscription = await schedule.subscribe((job) => {
      if (job.kind === 'trigger') triggered++;
    });
    const service = createProjectionService(bus, { schedules: { placed: schedule } });
    await Promise.all([service.start(), service.start()]);
    await service.trigger('placed');
    await subscription.idle({ signal: AbortSignal.timeout(5_000) });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await subscription.idle({ signal: AbortSignal.timeout(5_000) });
    expect(triggered).toBe(1);
    await service.close();
    await subscription.close();
    expect(open()).toBe(0);
  });

  it('projection service: close() while start() is under way leaves nothing running', async () => {
    const { bus, open } = setup();
    const service = createProjectionService(bus);
    const starting = service.start();
    await service.close();
    await starting.catch(() => {});
    expect(open()).toBe(0);
  });

  it('continuous: a signal that aborts while subscribe() is under way closes the subscription', async () => {
    const { bus, open, store, ns } = setup();
    const controller = new AbortController();
    const schedule = continuously(bus, store, [ns.name('placed')]);
    const subscribing = schedule.subscribe(() => {}, {
      startup: true,
      signal: controller.signal,
    });
    controller.abort();
    // Its startup job would otherwise run and subscribe() resolve with a live subscription.
    await expect(subscribing).rejects.toMatchObject({ name: 'AbortError' });
    expect(open()).toBe(0);
  });
});
