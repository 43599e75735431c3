import {
  ConnectionError,
  createMemoryEventBus,
  type Event,
  type EventBus,
  type SubscribeOptions,
  type Subscription,
} from '@goes/event';
import { afterEach, describe, expect, it } from '@jest/globals';
import { COMMAND_BUS_EVENTS, createCommand, createDistributedCommandBus } from '../src/index.js';

const opened: { close(): Promise<void> }[] = [];

afterEach(async () => {
  for (const resource of opened.splice(0).reverse()) await resource.close();
});

/** An event bus that counts live subscriptions and refuses the first discovery request. */
function refusingFirstDiscovery(): { bus: EventBus; live: Set<Subscription> } {
  const inner = createMemoryEventBus();
  opened.push(inner);
  const live = new Set<Subscription>();
  let refused = false;
  const isDiscovery = (event: Event) =>
    event.name === COMMAND_BUS_EVENTS.handlers && (event.data as { discover?: boolean }).discover;
  return {
    live,
    bus: {
      publish: async (events, options) => {
        if (!refused && events.some(isDiscovery)) {
          refused = true;
          throw new ConnectionError('publish refused');
        }
        return inner.publish(events, options);
      },
      subscribe: async (names: readonly string[], options?: SubscribeOptions) => {
        const subscription = await inner.subscribe(names, options);
        live.add(subscription);
        const close = subscription.close.bind(subscription);
        subscription.close = async () => {
          live.delete(subscription);
          await close();
        };
        return subscription;
      },
      close: () => inner.close(),
      [Symbol.asyncDispose]: () => inner.close(),
    },
  };
}

describe('distributed command bus subscriptions', () => {
  it('does not keep a second membership subscription when its first discovery request failed', async () => {
    const { bus: events, live } = refusingFirstDiscovery();
    const bus = createDistributedCommandBus(events, { noHandlerTimeout: 50, onError: () => {} });
    await expect(bus.dispatch(createCommand('x', {}))).rejects.toThrow('publish refused');
    await bus.handle('x', () => 'ok');
    await expect(bus.dispatch(createCommand('x', {}), { sync: true })).resolves.toBe('ok');
    // one subscription per role (membership, handling, dispatching), not a leftover one more
    expect(live.size).toBe(3);
    await bus.close();
    expect(live.size).toBe(0);
  });
});
