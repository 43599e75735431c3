import { createEvent } from '@goes/event';
import { afterAll, describe, expect, it } from '@jest/globals';
import {
  createPostgresEventStore,
  createPostgresModelRepository,
  createPostgresSnapshotStore,
} from '../src/index.js';
import { createPool, dropSchemas, uniqueSchema } from './support.js';

const schemas: string[] = [];
afterAll(() => dropSchemas(...schemas));

async function drain(items: AsyncIterable<unknown>): Promise<number> {
  let n = 0;
  for await (const _ of items) n++;
  return n;
}

// The longest table name the store accepts: every derived name (indexes, counter) is 63 bytes.
const LONGEST = `l${'x'.repeat(48)}`;

describe('schema creation by many kinds of stores at once', () => {
  it('event stores of several tables (one at the length limit), snapshot stores and model repositories in separate pools all set up one fresh schema together', async () => {
    for (let round = 0; round < 2; round++) {
      const schema = uniqueSchema(`mixed${round}`);
      schemas.push(schema);
      const pools = Array.from({ length: 3 }, () => createPool(2));
      const work = pools.flatMap((pool) => {
        const events = createPostgresEventStore({ pool, schema });
        const longest = createPostgresEventStore({ pool, schema, table: LONGEST });
        const snapshots = createPostgresSnapshotStore({ pool, schema });
        const models = createPostgresModelRepository<{ id: string }>({
          pool,
          schema,
          table: 'models',
        });
        return [
          (async () => {
            await events.insert([createEvent('raced', {})]);
            await events.close();
          })(),
          (async () => {
            await longest.insert([createEvent('raced.long', {})]);
            await longest.close();
          })(),
          (async () => {
            expect(await drain(snapshots.query({}))).toBe(0);
            await snapshots.close();
          })(),
          (async () => {
            expect(await models.delete('nothing')).toBe(false);
            await models.close();
          })(),
        ];
      });
      try {
        await Promise.all(work);
        const { rows } = await (pools[0] as NonNullable<(typeof pools)[0]>).query(
          `SELECT (SELECT last FROM "${schema}"."events_position") AS events,
                  (SELECT last FROM "${schema}"."${LONGEST}_position") AS longest`,
        );
        expect(rows[0]).toEqual({ events: '3', longest: '3' });
      } finally {
        for (const pool of pools) await pool.end();
      }
    }
  });
});
