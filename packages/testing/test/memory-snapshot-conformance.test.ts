import { createMemorySnapshotStore } from '@goes/aggregate';
import { snapshotStoreConformance } from '../src/index.js';

snapshotStoreConformance('in-memory', () => createMemorySnapshotStore());
