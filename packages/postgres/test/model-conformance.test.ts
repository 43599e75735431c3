import { modelRepositoryConformance } from '@goes/testing';
import { afterAll } from '@jest/globals';
import { createPostgresModelRepository } from '../src/index.js';
import { createPool, dropSchemas, POSTGRES_URL, uniqueSchema } from './support.js';

const pool = createPool(12);
const schema = uniqueSchema('models');

modelRepositoryConformance('postgres (pg.Pool)', () =>
  createPostgresModelRepository({ pool, schema, table: 'conformance_models' }),
);

// Each repository with its own pool, as separate processes would have.
modelRepositoryConformance('postgres (connection string)', () =>
  createPostgresModelRepository({
    connectionString: POSTGRES_URL,
    poolSize: 3,
    schema,
    table: 'conformance_models',
  }),
);

afterAll(async () => {
  await pool.end();
  await dropSchemas(schema);
});
