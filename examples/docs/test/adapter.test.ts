// #region conformance
import { createMemoryEventStore } from '@goes/event';
import {
  type ConformanceModel,
  eventStoreConformance,
  modelRepositoryConformance,
} from '@goes/testing';
import {
  createKeyValueModelRepository,
  createMemoryKeyValueStore,
} from '../src/adapter-kv-models.js';
import { withMetrics } from '../src/adapter-metrics-store.js';

modelRepositoryConformance('key-value model repository', () =>
  createKeyValueModelRepository<ConformanceModel>(createMemoryKeyValueStore()),
);

eventStoreConformance('event store with metrics', ({ codec }) =>
  withMetrics(createMemoryEventStore({ codec })),
);
// #endregion conformance
