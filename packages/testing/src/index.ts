/**
 * Conformance suites for every goes contract and helpers for tests. Adapter authors call a suite
 * from a jest test file with a factory for their implementation; the suites register their own
 * `describe` blocks and need `@jest/globals` (a peer dependency).
 *
 * @packageDocumentation
 */
export { delay, type Recorder, record } from './bus-expect.js';
export {
  type CommandBusCluster,
  type CommandBusConformanceOptions,
  type CommandBusFactory,
  type CommandBusTestContext,
  commandBusConformance,
} from './command-bus-conformance.js';
export {
  type EventBusConformanceOptions,
  type EventBusFactory,
  eventBusConformance,
} from './event-bus-conformance.js';
export {
  type EventStoreConformanceOptions,
  type EventStoreFactory,
  eventStoreConformance,
} from './event-store-conformance.js';
export {
  createTestCodec,
  expectEventsInOrder,
  expectSameEvents,
  type FixtureData,
  type Namespace,
  namespace,
} from './fixtures.js';
export { randomQuery, seededRandom } from './random.js';
