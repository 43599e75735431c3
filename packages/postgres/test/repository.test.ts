import {
  AggregateRoot,
  isSnapshotNotFoundError,
  next,
  type SnapshotHooks,
  snapshotEvery,
} from '@goes/aggregate';
import { isGoesError, uuidv7 } from '@goes/event';
import { isModelConflictError } from '@goes/projection';
import { createRepository } from '@goes/repository';
import { afterAll, describe, expect, it } from '@jest/globals';
import {
  createPostgresEventStore,
  createPostgresModelRepository,
  createPostgresSnapshotStore,
} from '../src/index.js';
import { createPool, dropSchemas, uniqueSchema } from './support.js';

const schema = uniqueSchema('repository');
const pool = createPool(8);

afterAll(async () => {
  await pool.end();
  await dropSchemas(schema);
});

type CounterEvents = { 'counter.added': { by: number } };

class Counter extends AggregateRoot<CounterEvents> implements SnapshotHooks<{ total: number }> {
  total = 0;

  constructor(id: string) {
    super('counter', id);
    this.applyWith({
      'counter.added': (event) => {
        this.total += event.data.by;
      },
    });
  }

  add(by: number) {
    next(this, 'counter.added', { by });
  }

  snapshotState() {
    return { total: this.total };
  }

  restoreSnapshot(state: { total: number }) {
    this.total = state.total;
  }
}

describe('the aggregate repository on the PostgreSQL event and snapshot stores', () => {
  it('saves with snapshots on schedule and fetches from the newest snapshot plus later events', async () => {
    const store = createPostgresEventStore({ pool, schema });
    const snapshots = createPostgresSnapshotStore({ pool, schema });
    const repository = createRepository({
      store,
      snapshots: { store: snapshots, schedule: snapshotEvery(10) },
    });
    try {
      const id = uuidv7();
      for (let round = 0; round < 5; round++) {
        await repository.use(
          () => new Counter(id),
          (counter) => {
            for (let i = 1; i <= 5; i++) counter.add(round * 5 + i);
          },
        );
      }
      const latest = await snapshots.latest('counter', id);
      expect(latest.version).toBe(20);
      expect(JSON.parse(latest.state)).toEqual({ total: 210 });
      const fetched = await repository.fetch(new Counter(id));
      expect(fetched.version).toBe(25);
      expect(fetched.total).toBe((25 * 26) / 2);
      // Without snapshots, the same state from all 25 events.
      const replayed = await createRepository({ store }).fetch(new Counter(id));
      expect(replayed.total).toBe(fetched.total);
      await snapshots.delete([{ aggregateName: 'counter', aggregateId: id, version: 20 }]);
      expect((await snapshots.latest('counter', id)).version).toBe(10);
      await snapshots.delete([
        { aggregateName: 'counter', aggregateId: id, version: 10 },
        { aggregateName: 'counter', aggregateId: 'not-a-uuid', version: 1 },
      ]);
      expect(
        isSnapshotNotFoundError(await snapshots.latest('counter', id).catch((e: unknown) => e)),
      ).toBe(true);
    } finally {
      await snapshots.close();
      await store.close();
    }
  });

  it('keeps snapshot states that are not JSON, and refuses ones PostgreSQL cannot store', async () => {
    const snapshots = createPostgresSnapshotStore({ pool, schema, table: 'raw_snapshots' });
    try {
      const id = uuidv7();
      const base = {
        aggregateName: 'blob',
        aggregateId: id,
        time: 1_700_000_000_123_456_789n,
        softDeleted: true,
      };
      await snapshots.save({ ...base, version: 1, state: 'not json: \' " \\ \t 👋' });
      expect(await snapshots.version('blob', id, 1)).toEqual({
        ...base,
        version: 1,
        state: 'not json: \' " \\ \t 👋',
      });
      const error = await snapshots
        .save({ ...base, version: 2, state: 'nul \u0000 inside' })
        .catch((e: unknown) => e);
      expect(isGoesError(error, 'INVALID_ARGUMENT')).toBe(true);
      expect(
        isSnapshotNotFoundError(await snapshots.latest('bad\u0000name', id).catch((e) => e)),
      ).toBe(true);
    } finally {
      await snapshots.close();
    }
  });
});

describe('the model repository', () => {
  interface Tally {
    id: string;
    count: number;
  }

  it('loses no update when repositories in different pools (as different processes) use one model', async () => {
    const pools = [createPool(3), createPool(3)];
    const repositories = pools.map((p) =>
      createPostgresModelRepository<Tally>({ pool: p, schema, table: 'tallies' }),
    );
    try {
      const id = `tally-${uuidv7()}`;
      await Promise.all(
        Array.from({ length: 16 }, (_, i) =>
          (repositories[i % 2] as (typeof repositories)[number]).use(
            id,
            (tally) => {
              tally.count++;
            },
            { create: (created) => ({ id: created, count: 0 }), retries: 100 },
          ),
        ),
      );
      const { model, version } = await (
        repositories[0] as (typeof repositories)[number]
      ).fetchVersioned(id);
      expect(model.count).toBe(16);
      expect(version).toBe(16);
    } finally {
      for (const repository of repositories) await repository.close();
      for (const p of pools) await p.end();
    }
  });

  it('decodes into class instances with a decode option, and reports conflicts with the stored version', async () => {
    class Summary {
      constructor(
        readonly id: string,
        public total = 0,
      ) {}

      double() {
        return this.total * 2;
      }
    }
    const summaries = createPostgresModelRepository<Summary>({
      pool,
      schema,
      table: 'summaries',
      decode: (json) => {
        const { id, total } = JSON.parse(json) as { id: string; total: number };
        return new Summary(id, total);
      },
    });
    try {
      const id = uuidv7();
      await summaries.save(new Summary(id, 21));
      const fetched = await summaries.fetch(id);
      expect(fetched).toBeInstanceOf(Summary);
      expect(fetched.double()).toBe(42);
      const stale = await summaries
        .save(new Summary(id, 1), { expectedVersion: 0 })
        .catch((e: unknown) => e);
      expect(isModelConflictError(stale)).toBe(true);
      expect(stale).toMatchObject({ expected: 0, actual: 1 });
    } finally {
      await summaries.close();
    }
  });

  it('refuses ids PostgreSQL cannot keep as a key, and a missing or unsafe table name', async () => {
    const tallies = createPostgresModelRepository<Tally>({ pool, schema, table: 'tallies' });
    try {
      for (const id of ['nul\u0000id', 'x'.repeat(2_001)]) {
        const error = await tallies.save({ id, count: 1 }).catch((e: unknown) => e);
        expect(isGoesError(error, 'INVALID_ARGUMENT')).toBe(true);
      }
    } finally {
      await tallies.close();
    }
    for (const table of [undefined, 'models; DROP TABLE x']) {
      let error: unknown;
      try {
        createPostgresModelRepository<Tally>({ pool, schema, table: table as string });
      } catch (e) {
        error = e;
      }
      expect(isGoesError(error, 'INVALID_ARGUMENT')).toBe(true);
    }
  });
});
