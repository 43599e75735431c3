import { createMemoryEventBus, type EventBus } from '@goes/event';
import { afterEach } from '@jest/globals';
import {
  type CommandBus,
  createDistributedCommandBus,
  type DistributedCommandBusOptions,
} from '../src/index.js';

/**
 * Buses a test opened; closed after each test, newest first. Importing this module registers the
 * `afterEach` in the importing test file (jest loads it once per file).
 */
export const opened: { close(): Promise<void> }[] = [];

afterEach(async () => {
  for (const resource of opened.splice(0).reverse()) await resource.close();
});

/** An in-memory event bus, closed after the test. */
export function memoryBus(): EventBus {
  const bus = createMemoryEventBus();
  opened.push(bus);
  return bus;
}

/** Short deadlines for tests that run commands to their end. */
export const SHORT_TIMEOUTS: DistributedCommandBusOptions = {
  assignTimeout: 300,
  receiveTimeout: 300,
  executionTimeout: 1_000,
  noHandlerTimeout: 50,
};

/**
 * A distributed command bus over `events` with `timeouts` (then `options`), errors ignored,
 * closed after the test.
 */
export function distributedBus(
  events: EventBus,
  timeouts: DistributedCommandBusOptions,
  options: DistributedCommandBusOptions = {},
): CommandBus {
  const bus = createDistributedCommandBus(events, { onError: () => {}, ...timeouts, ...options });
  opened.push(bus);
  return bus;
}

/** How much per-command state a bus holds (its internal `stateSizes`, for tests of bounded state). */
export type Sizes = Record<'pending' | 'reservations' | 'parked' | 'running', number>;

/** The state sizes of a distributed bus. */
export const sizes = (bus: CommandBus): Sizes =>
  (bus as unknown as { stateSizes(): Sizes }).stateSizes();
