/**
 * Conformance suites for every goes contract (event store, event bus, command bus, snapshot store,
 * model repository) and helpers for tests, among them given/when/then scenarios for aggregates.
 * Adapter authors call a suite from a jest test file with a factory for their implementation; the
 * suites register their own `describe` blocks and need `@jest/globals` (a peer dependency).
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
export {
  type EventInput,
  type EventMapOf,
  type ExpectedError,
  type GivenStep,
  given,
  type WhenStep,
} from './given-when-then.js';
export {
  type ConformanceModel,
  conformanceModel,
  type ModelRepositoryConformanceOptions,
  type ModelRepositoryFactory,
  modelRepositoryConformance,
} from './model-repository-conformance.js';
export { randomQuery, seededRandom } from './random.js';
export {
  type SnapshotStoreConformanceOptions,
  type SnapshotStoreFactory,
  snapshotStoreConformance,
} from './snapshot-store-conformance.js';
