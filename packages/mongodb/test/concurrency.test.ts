/**
 * Many writers at once, in this process (each with its own MongoClient) and in child processes,
 * while a reader follows the log by position the way a projection does. Proves: positions are
 * unique and only grow, no acknowledged event is lost, versions of a contended aggregate stay
 * consecutive, every read shows whole batches only, nothing a reader saw is rolled back, and a
 * reader following positions never skips an event.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type Event, query, uuidv7 } from '@goes/event';
import { drain } from '@goes/streams';
import { afterAll, describe, expect, it } from '@jest/globals';
import { createMongoEventStore } from '../src/index.js';
import {
  type Acknowledged,
  runWorkload,
  type WorkloadData,
  type WorkloadOptions,
  workloadNames,
} from './fixtures/workload.js';
import { MONGODB_URL, testClient, uniqueDatabase } from './support.js';

const database = uniqueDatabase('concurrency');
const collection = 'events';
const clients = [testClient(), testClient(), testClient()];

afterAll(async () => {
  await clients[0]?.db(database).dropDatabase();
  for (const client of clients) await client.close();
});

const writerScript = fileURLToPath(new URL('./fixtures/writer-process.ts', import.meta.url));

/** Runs the workload in a child process with its own client; resolves with what it acknowledged. */
function childWriter(
  options: WorkloadOptions,
): Promise<{ acknowledged: Acknowledged[]; conflicts: number }> {
  const config = JSON.stringify({ ...options, url: MONGODB_URL, database, collection });
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--conditions=@goes/source', '--import', 'tsx', writerScript, config],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`writer ${options.writer} exited with ${code}: ${err}`));
      else resolve(JSON.parse(out.trim().split('\n').at(-1) as string));
    });
  });
}

describe('concurrent writers in several processes and clients', () => {
  it('keep positions unique and growing, batches whole, versions consecutive, and readers by position complete', async () => {
    const prefix = `cc${uuidv7().replaceAll('-', '').slice(-10)}`;
    const shared = { name: `${prefix}.counter`, id: uuidv7() };
    const names = workloadNames(prefix);
    const options = (writer: string, seed: number): WorkloadOptions => ({
      writer,
      prefix,
      batches: 12,
      shared,
      seed,
    });

    // The reader follows the log like a projection: everything after its checkpoint.
    const reader = createMongoEventStore({ client: clients[2], database, collection });
    const polls: Event[][] = [];
    let checkpoint = 0;
    const poll = async () => {
      const events = await drain(
        reader.query(
          query()
            .name(...names)
            .afterPosition(checkpoint),
        ),
      );
      if (events.length > 0) {
        polls.push(events);
        checkpoint = events.at(-1)?.position as number;
      }
    };
    let writing = true;
    const following = (async () => {
      while (writing) {
        await poll();
        // Not a timing assumption: only spares the server a busy loop.
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();

    const inProcess = [0, 1].map((n) =>
      runWorkload(
        createMongoEventStore({ client: clients[n], database, collection }),
        options(`local${n}`, 11 + n),
      ),
    );
    const children = [0, 1, 2].map((n) => childWriter(options(`child${n}`, 101 + n)));
    let results: Awaited<(typeof inProcess)[number]>[];
    try {
      results = await Promise.all([...inProcess, ...children]);
    } finally {
      writing = false;
      await following;
    }
    await poll();
    await reader.close();

    const acknowledged = results.flatMap((result) => result.acknowledged);
    const final = await drain(
      createMongoEventStore({ client: clients[0], database, collection }).query(
        query().name(...names),
      ),
    );

    // Nothing acknowledged is lost, and each event has the position its insert returned.
    const finalById = new Map(final.map((event) => [event.id, event]));
    expect(final).toHaveLength(acknowledged.length);
    for (const ack of acknowledged) expect(finalById.get(ack.id)?.position).toBe(ack.position);

    // Positions are unique and the unsorted query returns them in order.
    const positions = final.map((event) => event.position as number);
    expect(new Set(positions).size).toBe(positions.length);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));

    // The follower saw every event exactly once, each poll strictly after the previous one.
    const seen = polls.flat();
    expect(seen.map((event) => event.id).sort()).toEqual(final.map((event) => event.id).sort());
    for (let i = 1; i < polls.length; i++) {
      const previousEnd = polls[i - 1]?.at(-1)?.position as number;
      expect(polls[i]?.[0]?.position as number).toBeGreaterThan(previousEnd);
    }

    // Every read showed whole batches (and nothing that was later rolled back: checked above).
    for (const events of polls) {
      const counts = new Map<string, { size: number; count: number }>();
      for (const event of events) {
        const data = event.data as WorkloadData;
        const entry = counts.get(data.batch) ?? { size: data.size, count: 0 };
        entry.count++;
        counts.set(data.batch, entry);
      }
      for (const { size, count } of counts.values()) expect(count).toBe(size);
    }

    // The contended aggregate's versions are consecutive from 1.
    const versions = final
      .filter((event) => event.aggregate?.name === shared.name)
      .map((event) => event.aggregate?.version as number)
      .sort((a, b) => a - b);
    expect(versions.length).toBeGreaterThan(0);
    expect(versions).toEqual(versions.map((_, i) => i + 1));
  });
});
