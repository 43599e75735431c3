import { getEventListeners } from 'node:events';
import { createMemoryEventBus } from '@goes/event';
import { afterEach, describe, expect, it } from '@jest/globals';
import {
  type CommandBus,
  createCommand,
  createDistributedCommandBus,
  createLocalCommandBus,
} from '../src/index.js';

// Applications pass one long-lived signal (their shutdown) to every handler registration and
// subscription they open; one that ended must not stay referenced from that signal.

const opened: { close(): Promise<void> }[] = [];

afterEach(async () => {
  for (const resource of opened.splice(0).reverse()) await resource.close();
});

function buses(): [string, () => CommandBus][] {
  return [
    ['local', () => createLocalCommandBus({ onError: () => {} })],
    [
      'distributed',
      () => {
        const events = createMemoryEventBus();
        opened.push(events);
        return createDistributedCommandBus(events, { noHandlerTimeout: 50, onError: () => {} });
      },
    ],
  ];
}

describe('handler registrations and long-lived signals', () => {
  it.each(buses())(
    'leaves no abort listener once %s registrations and subscriptions closed',
    async (_, make) => {
      const bus = make();
      opened.push(bus);
      const shutdown = new AbortController();
      for (let i = 0; i < 3; i++) {
        const registration = await bus.handle('x', () => i, { signal: shutdown.signal });
        await expect(bus.dispatch(createCommand('x', {}), { sync: true })).resolves.toBe(i);
        await registration.close();
        const subscription = await bus.subscribe(['y'], { signal: shutdown.signal });
        await subscription.close();
      }
      await new Promise((resolve) => setImmediate(resolve));
      expect(getEventListeners(shutdown.signal, 'abort')).toHaveLength(0);
    },
  );

  it.each(buses())(
    'still closes a live %s registration when the signal aborts',
    async (_, make) => {
      const bus = make();
      opened.push(bus);
      const shutdown = new AbortController();
      await bus.handle('x', () => 1, { signal: shutdown.signal });
      shutdown.abort();
      // the name is free again once the registration closed
      await new Promise((resolve) => setImmediate(resolve));
      const again = await bus.handle('x', () => 2);
      await expect(bus.dispatch(createCommand('x', {}), { sync: true })).resolves.toBe(2);
      await again.close();
    },
  );
});
