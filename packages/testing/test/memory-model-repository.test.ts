import { createMemoryModelRepository } from '@goes/projection';
import { type ConformanceModel, modelRepositoryConformance } from '../src/index.js';

modelRepositoryConformance('in-memory', () => createMemoryModelRepository<ConformanceModel>(), {
  concurrentUses: 16,
});
modelRepositoryConformance('in-memory with a custom id and clone', () =>
  createMemoryModelRepository<ConformanceModel>({
    modelId: (model) => model.id,
    clone: (model) => JSON.parse(JSON.stringify(model)) as ConformanceModel,
  }),
);
