import { createMemoryEventBus, createMemoryEventStore } from '@goes/event';
import { eventBusConformance, eventStoreConformance } from '../src/index.js';

eventStoreConformance('in-memory', () => createMemoryEventStore());
eventStoreConformance('in-memory with codec round-trip', ({ codec }) =>
  createMemoryEventStore({ codec }),
);
eventBusConformance('in-memory', () => createMemoryEventBus(), { groups: true });
eventBusConformance(
  'in-memory with codec round-trip',
  ({ codec }) => createMemoryEventBus({ codec }),
  { groups: true },
);
