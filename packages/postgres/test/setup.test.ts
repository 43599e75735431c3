import { randomBytes } from 'node:crypto';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { createEvent, isGoesError, uuidv7 } from '@goes/event';
import { afterAll, describe, expect, it } from '@jest/globals';
import { createPostgresEventStore, SchemaMismatchError } from '../src/index.js';
import { createPool, dropSchemas, POSTGRES_URL, uniqueSchema } from './support.js';

const schemas: string[] = [];
const newSchema = (label: string) => {
  const schema = uniqueSchema(label);
  schemas.push(schema);
  return schema;
};
const admin = createPool(4);

afterAll(async () => {
  await admin.end();
  await dropSchemas(...schemas);
});

function optionError(make: () => unknown): unknown {
  try {
    make();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('options', () => {
  it.each([
    ['a statement', 'events; DROP TABLE users; --'],
    ['a quote', 'ev"ents'],
    ['upper case', 'Events'],
    ['a leading digit', '1events'],
    ['a dot', 'public.events'],
    ['an empty name', ''],
    ['unicode', 'événements'],
    ['a name too long for the derived index names', 'e'.repeat(50)],
  ])('refuses a table name with %s (InvalidArgumentError naming it)', (_label, table) => {
    const error = optionError(() =>
      createPostgresEventStore({ connectionString: POSTGRES_URL, table }),
    );
    expect(isGoesError(error, 'INVALID_ARGUMENT')).toBe(true);
    expect(String((error as Error).message)).toContain(JSON.stringify(table));
  });

  it.each([
    ['a statement', 'goes; DROP SCHEMA public'],
    ['too long', 's'.repeat(64)],
    ['not a string', 42],
  ])('refuses a schema name with %s', (_label, schema) => {
    const error = optionError(() =>
      createPostgresEventStore({ connectionString: POSTGRES_URL, schema: schema as string }),
    );
    expect(isGoesError(error, 'INVALID_ARGUMENT')).toBe(true);
  });

  it('accepts the longest table name and uses it', async () => {
    const schema = newSchema('longname');
    const table = `t${'x'.repeat(48)}`;
    const store = createPostgresEventStore({ pool: admin, schema, table });
    await store.insert([createEvent('named', {})]);
    const { rows } = await admin.query(`SELECT count(*)::int AS n FROM "${schema}"."${table}"`);
    expect(rows[0]).toEqual({ n: 1 });
    await store.close();
  });

  it('connects with a connectTimeoutMs beyond what a timer can wait (2^31 ms), instead of timing out at once', async () => {
    const store = createPostgresEventStore({
      connectionString: POSTGRES_URL,
      schema: newSchema('longwait'),
      connectTimeoutMs: 2 ** 31,
      poolSize: 1,
    });
    try {
      await expect(store.ready()).resolves.toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it.each([
    ['neither pool nor connectionString', {}],
    ['both pool and connectionString', { pool: admin, connectionString: POSTGRES_URL }],
    ['an empty connectionString', { connectionString: '' }],
    ['poolSize 0', { connectionString: POSTGRES_URL, poolSize: 0 }],
    ['a fractional queryBatchSize', { connectionString: POSTGRES_URL, queryBatchSize: 2.5 }],
    // A cursor reads at most 2^31 - 1 rows per round trip: refused at once, not at the first read.
    ['a queryBatchSize of 2^31', { connectionString: POSTGRES_URL, queryBatchSize: 2 ** 31 }],
  ])('refuses %s', (_label, options) => {
    expect(
      isGoesError(
        optionError(() => createPostgresEventStore(options)),
        'INVALID_ARGUMENT',
      ),
    ).toBe(true);
  });
});

describe('schema creation', () => {
  it('creates the schema, table, indexes and counter with the documented layout', async () => {
    const schema = newSchema('layout');
    const store = createPostgresEventStore({ pool: admin, schema });
    const id = uuidv7();
    const time = 1_700_000_000_123_456_789n;
    await store.insert([
      createEvent('opened', { n: 1 }, { time, aggregate: { name: 'acct', id, version: 1 } }),
      createEvent('flagged', { n: 2 }, { time, aggregate: { name: 'acct', id, version: 0 } }),
      createEvent('noted', { n: 3 }, { time }),
    ]);
    const { rows } = await admin.query(
      `SELECT position, name, time::text, aggregate_name, aggregate_id::text, aggregate_version, data
       FROM "${schema}"."events" ORDER BY position`,
    );
    expect(rows).toEqual([
      {
        position: '1',
        name: 'opened',
        time: String(time),
        aggregate_name: 'acct',
        aggregate_id: id,
        aggregate_version: 1,
        data: { n: 1 },
      },
      {
        position: '2',
        name: 'flagged',
        time: String(time),
        aggregate_name: 'acct',
        aggregate_id: id,
        aggregate_version: null,
        data: { n: 2 },
      },
      {
        position: '3',
        name: 'noted',
        time: String(time),
        aggregate_name: null,
        aggregate_id: null,
        aggregate_version: null,
        data: { n: 3 },
      },
    ]);
    const indexes = await admin.query<{ indexname: string }>(
      'SELECT indexname FROM pg_indexes WHERE schemaname = $1 ORDER BY indexname',
      [schema],
    );
    expect(indexes.rows.map((r) => r.indexname)).toEqual([
      'events_aggregate_key',
      'events_id_key',
      'events_name_time_idx',
      'events_pkey',
      'events_position_pkey',
    ]);
    const counter = await admin.query(`SELECT last FROM "${schema}"."events_position"`);
    expect(counter.rows).toEqual([{ last: '3' }]);
    await store.close();
  });

  it('lets several stores (separate connections, as separate processes) create it at the same time', async () => {
    for (let round = 0; round < 3; round++) {
      const schema = newSchema(`race${round}`);
      const pools = Array.from({ length: 4 }, () => createPool(2));
      const stores = pools.map((pool) => createPostgresEventStore({ pool, schema }));
      try {
        await Promise.all(stores.map((store) => store.ready()));
        const stored = await Promise.all(
          stores.map((store, i) => store.insert([createEvent('raced', { i })])),
        );
        const positions = stored.map(([event]) => event?.position);
        expect(new Set(positions).size).toBe(4);
      } finally {
        for (const store of stores) await store.close();
        for (const pool of pools) await pool.end();
      }
    }
  });

  it('refuses a table of another layout with SchemaMismatchError, every time, until it is fixed', async () => {
    const schema = newSchema('mismatch');
    await admin.query(`CREATE SCHEMA "${schema}"`);
    await admin.query(
      `CREATE TABLE "${schema}"."events" (id text PRIMARY KEY, name text, time timestamptz, data json)`,
    );
    const store = createPostgresEventStore({ pool: admin, schema });
    const first = await store.ready().catch((e: unknown) => e);
    expect(first).toBeInstanceOf(SchemaMismatchError);
    expect(isGoesError(first, 'SCHEMA_MISMATCH')).toBe(true);
    const message = String((first as Error).message);
    expect(message).toContain('column position (bigint) is missing');
    expect(message).toContain('column id is text, expected uuid');
    expect(message).toContain('column time is timestamp with time zone, expected bigint');
    // Not remembered as "set up": the next call checks again.
    const second = await store.insert([createEvent('x', {})]).catch((e: unknown) => e);
    expect(isGoesError(second, 'SCHEMA_MISMATCH')).toBe(true);
    await admin.query(`DROP TABLE "${schema}"."events"`);
    const [stored] = await store.insert([createEvent('x', {})]);
    expect(stored?.position).toBe(1);
    await store.close();
  });

  it('needs no CREATE privilege once everything exists (no DDL runs)', async () => {
    const schema = newSchema('restricted');
    const owner = createPostgresEventStore({ pool: admin, schema });
    await owner.ready();
    await owner.close();
    const role = `goes_pgtest_role_${randomBytes(4).toString('hex')}`;
    await admin.query(`CREATE ROLE "${role}" LOGIN`);
    try {
      await admin.query(`GRANT USAGE ON SCHEMA "${schema}" TO "${role}"`);
      await admin.query(
        `GRANT SELECT, INSERT, DELETE ON "${schema}"."events" TO "${role}";
         GRANT SELECT, UPDATE ON "${schema}"."events_position" TO "${role}"`,
      );
      const url = new URL(POSTGRES_URL);
      url.username = role;
      const store = createPostgresEventStore({ connectionString: url.href, schema, poolSize: 2 });
      const [stored] = await store.insert([createEvent('restricted', {})]);
      expect(await store.find(stored?.id as string)).toMatchObject({ name: 'restricted' });
      await store.close();
    } finally {
      await admin.query(`DROP OWNED BY "${role}"`);
      await admin.query(`DROP ROLE "${role}"`);
    }
  });
});

describe('lazy connection', () => {
  it('connects on first use, reports a failed connection as a retryable ConnectionError, and tries again on the next call', async () => {
    const target = new URL(POSTGRES_URL);
    const port = await freePort();
    const proxied = new URL(POSTGRES_URL);
    proxied.port = String(port);
    const schema = newSchema('lazy');
    // Creating the store connects to nothing.
    const store = createPostgresEventStore({ connectionString: proxied.href, schema, poolSize: 2 });

    const error = await store.insert([createEvent('early', {})]).catch((e: unknown) => e);
    expect(isGoesError(error, 'CONNECTION_FAILED')).toBe(true);
    expect((error as { retryable: boolean }).retryable).toBe(true);
    expect(String((error as Error).message)).toContain('@goes/postgres');

    // The server "comes up": a proxy to the real one starts listening on that port.
    const proxy = await startProxy(port, target.hostname, Number(target.port || 5432));
    try {
      const [stored] = await store.insert([createEvent('later', {})]);
      expect(stored?.position).toBe(1);
      expect((await store.find(stored?.id as string)).name).toBe('later');
    } finally {
      await store.close();
      await stopProxy(proxy);
    }
  });
});

describe('a server that accepts connections but never answers', () => {
  it('fails the call with a retryable ConnectionError after connectTimeoutMs instead of hanging', async () => {
    const silent = createServer(() => {});
    const sockets = new Set<Socket>();
    silent.on('connection', (socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    const url = new URL(POSTGRES_URL);
    url.port = String(address.port);
    const store = createPostgresEventStore({
      connectionString: url.href,
      schema: newSchema('silent'),
      connectTimeoutMs: 200,
    });
    try {
      const error = await store.insert([createEvent('x', {})]).catch((e: unknown) => e);
      expect(isGoesError(error, 'CONNECTION_FAILED')).toBe(true);
      expect((error as { retryable: boolean }).retryable).toBe(true);
    } finally {
      await store.close();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});

describe('a query over a lost connection', () => {
  it('fails the iteration with a retryable ConnectionError (no unhandled error) and the store recovers', async () => {
    const target = new URL(POSTGRES_URL);
    const port = await freePort();
    const proxied = new URL(POSTGRES_URL);
    proxied.port = String(port);
    const schema = newSchema('queryloss');
    let proxy = await startProxy(port, target.hostname, Number(target.port || 5432));
    const store = createPostgresEventStore({
      connectionString: proxied.href,
      schema,
      poolSize: 2,
      queryBatchSize: 2,
    });
    try {
      await store.insert(Array.from({ length: 10 }, (_, i) => createEvent('row', { i })));
      const iterator = store.query({ names: ['row'] })[Symbol.asyncIterator]();
      expect((await iterator.next()).done).toBe(false);
      await stopProxy(proxy);
      let error: unknown;
      try {
        for (;;) if ((await iterator.next()).done) break;
      } catch (e) {
        error = e;
      }
      expect(isGoesError(error, 'CONNECTION_FAILED')).toBe(true);
      expect((error as { retryable: boolean }).retryable).toBe(true);
      proxy = await startProxy(port, target.hostname, Number(target.port || 5432));
      const again: unknown[] = [];
      for await (const event of store.query({ names: ['row'] })) again.push(event.data);
      expect(again).toHaveLength(10);
    } finally {
      await store.close();
      await stopProxy(proxy);
    }
  });
});

describe('a cursor whose connection dies while the consumer is busy', () => {
  it('still closes: break and store.close() resolve, and the dead connection is not reused', async () => {
    const target = new URL(POSTGRES_URL);
    const port = await freePort();
    const proxied = new URL(POSTGRES_URL);
    proxied.port = String(port);
    const proxy = await startProxy(port, target.hostname, Number(target.port || 5432));
    const store = createPostgresEventStore({
      connectionString: proxied.href,
      schema: newSchema('deadcursor'),
      poolSize: 1,
      queryBatchSize: 2,
    });
    try {
      await store.insert(Array.from({ length: 6 }, (_, i) => createEvent('row', { i })));
      const iterator = store.query({ names: ['row'] })[Symbol.asyncIterator]();
      expect((await iterator.next()).done).toBe(false);
      // The connection dies while the portal is open and no read is in flight.
      for (const socket of proxy.sockets) socket.destroy();
      await expect(iterator.return?.()).resolves.toEqual({ done: true, value: undefined });
      // The pool (of one) replaces the dead connection: the store keeps working.
      expect(await store.lastPosition()).toBe(6);
    } finally {
      await store.close();
      await stopProxy(proxy);
    }
  });
});

describe('a feed over a lost connection', () => {
  it('reports the failures to onError, keeps trying, and continues where it was when the server is back', async () => {
    const target = new URL(POSTGRES_URL);
    const port = await freePort();
    const proxied = new URL(POSTGRES_URL);
    proxied.port = String(port);
    const schema = newSchema('feedloss');
    const direct = createPostgresEventStore({ pool: admin, schema });
    let proxy = await startProxy(port, target.hostname, Number(target.port || 5432));
    const errors: unknown[] = [];
    let failed: () => void = () => {};
    const firstFailure = new Promise<void>((resolve) => {
      failed = resolve;
    });
    const store = createPostgresEventStore({ connectionString: proxied.href, schema, poolSize: 2 });
    const feed = store.feed({
      pollIntervalMs: 50,
      onError: (error) => {
        errors.push(error);
        failed();
      },
    });
    const events = feed[Symbol.asyncIterator]();
    try {
      const [first] = await direct.insert([createEvent('before', {})]);
      expect((await events.next()).value?.id).toBe(first?.id);

      await stopProxy(proxy);
      const [second] = await direct.insert([createEvent('during', {})]);
      // The feed reads when asked for the next event: it fails, reports, and tries again.
      const pending = events.next();
      await firstFailure;
      proxy = await startProxy(port, target.hostname, Number(target.port || 5432));
      expect((await pending).value?.id).toBe(second?.id);
      expect(errors.length).toBeGreaterThan(0);
      for (const error of errors) expect(isGoesError(error, 'CONNECTION_FAILED')).toBe(true);
      expect(feed.position).toBe(second?.position);
    } finally {
      await feed.close();
      await store.close();
      await direct.close();
      await stopProxy(proxy);
    }
  });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

interface Proxy {
  readonly server: Server;
  readonly sockets: Set<Socket>;
}

async function startProxy(port: number, host: string, targetPort: number): Promise<Proxy> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = netConnect(targetPort, host);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { server, sockets };
}

async function stopProxy({ server, sockets }: Proxy): Promise<void> {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
