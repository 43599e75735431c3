import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';

// The multi-service mode against the real servers of the tests (`pnpm test` starts them): two
// handler processes, one projection process and a client, over NATS and a shared PostgreSQL.
// A missing server fails the test, never skips it.
const POSTGRES_URL = process.env.GOES_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const NATS_URL = process.env.GOES_NATS_URL ?? 'nats://127.0.0.1:4222';
const namespace = `test_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
const packageDir = fileURLToPath(new URL('..', import.meta.url));

/** A service of the example in a child process (tsx runs the TypeScript sources). */
class Service {
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;
  readonly #process: ChildProcess;
  #stderr = '';

  constructor(readonly script: string) {
    const { NODE_OPTIONS: _, ...inherited } = process.env;
    this.#process = spawn(
      process.execPath,
      ['--conditions=@goes/source', '--import', 'tsx', `src/services/${script}.ts`],
      {
        cwd: packageDir,
        env: {
          ...inherited,
          GOES_STORE: 'postgres',
          GOES_BUS: 'nats',
          GOES_POSTGRES_URL: POSTGRES_URL,
          GOES_NATS_URL: NATS_URL,
          GOES_SHOP_NAMESPACE: namespace,
          SHOP_ORDERS: '40',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    createInterface({ input: this.#process.stdout as NodeJS.ReadableStream }).on('line', (line) =>
      this.lines.push(line),
    );
    this.#process.stderr?.on('data', (chunk: Buffer) => {
      this.#stderr += chunk.toString();
    });
    this.exited = new Promise((resolve) => this.#process.on('exit', (code) => resolve(code)));
  }

  /** Resolves with the first line that starts with `prefix`; fails when the process exits first. */
  async line(prefix: string, timeoutMs = 60_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.find((line) => line.startsWith(prefix));
      if (found !== undefined) return found;
      const exited = await Promise.race([
        this.exited.then(() => true),
        new Promise<false>((resolve) => setTimeout(() => resolve(false), 50)),
      ]);
      if ((exited && !this.lines.some((l) => l.startsWith(prefix))) || Date.now() > deadline) {
        throw new Error(
          `${this.script}: no line starting with ${JSON.stringify(prefix)}\nstdout:\n${this.lines.join('\n')}\nstderr:\n${this.#stderr}`,
        );
      }
    }
  }

  async stop(): Promise<number | null> {
    this.#process.kill('SIGTERM');
    return this.exited;
  }
}

const services: Service[] = [];
afterAll(async () => {
  for (const service of services) service.stop().catch(() => undefined);
  await Promise.all(services.map((service) => service.exited));
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${namespace} CASCADE`);
  await client.end();
});

describe('the multi-service mode (PostgreSQL store, NATS bus)', () => {
  it('runs the scenario through two handler processes and a projection process', async () => {
    const handlers = [new Service('handlers'), new Service('handlers')];
    const projections = new Service('projections');
    services.push(...handlers, projections);
    await Promise.all([...handlers, projections].map((service) => service.line('')));
    for (const service of handlers) await service.line('handlers ready');
    await projections.line('projections ready');

    const client = new Service('client');
    services.push(client);
    const result = JSON.parse((await client.line('result ', 120_000)).slice('result '.length)) as {
      dispatched: Record<string, number>;
      placed: number;
      cancelled: number;
    };
    expect(await client.exited).toBe(0);
    expect(client.lines.some((line) => line.includes('the read models include every event'))).toBe(
      true,
    );
    expect(result.placed).toBeGreaterThan(0);

    // Each command ran exactly once, on one of the two handler processes.
    const handled: Record<string, number> = {};
    for (const service of handlers) {
      expect(await service.stop()).toBe(0);
      const counts = JSON.parse(
        (await service.line('handled ')).slice('handled '.length),
      ) as Record<string, { succeeded: number; failed: number }>;
      for (const [name, { succeeded, failed }] of Object.entries(counts)) {
        handled[name] = (handled[name] ?? 0) + succeeded + failed;
      }
    }
    // The client's probe (a refused cancel) is one order.cancel more than the scenario's.
    const expected = {
      ...result.dispatched,
      'order.cancel': (result.dispatched['order.cancel'] ?? 0) + 1,
    };
    for (const [name, count] of Object.entries(expected))
      expect({ name, count: handled[name] }).toEqual({ name, count });

    expect(await projections.stop()).toBe(0);
    const stats = JSON.parse(
      (await projections.line('projection stats ')).slice('projection stats '.length),
    );
    expect(stats.catalogue.failures).toBe(0);
    expect(stats.orders.applied).toBe(result.placed + result.cancelled);
  }, 180_000);
});
