/**
 * Checks that need a real MongoDB (run with GOES_MONGODB_SERVER=mongodb and GOES_MONGODB_URL):
 * FerretDB answers every query by scanning, so only MongoDB's planner can show that the
 * store's queries use its indexes. On FerretDB this file is reported as skipped.
 */
import { createEvent, query, uuidv7 } from '@goes/event';
import { drain } from '@goes/streams';
import { afterAll, describe, expect, it } from '@jest/globals';
import type { CommandStartedEvent, Document } from 'mongodb';
import { createMongoEventStore } from '../src/index.js';
import { REAL_MONGODB, testClient, uniqueDatabase } from './support.js';

const describeOnMongoDB = REAL_MONGODB ? describe : describe.skip;

/** Every stage of a plan (the shapes differ between MongoDB versions, so search them all). */
function stages(plan: unknown, found: Document[] = []): Document[] {
  if (Array.isArray(plan)) {
    for (const item of plan) stages(item, found);
  } else if (typeof plan === 'object' && plan !== null) {
    const node = plan as Document;
    if (typeof node.stage === 'string') found.push(node);
    for (const value of Object.values(node)) stages(value, found);
  }
  return found;
}

describeOnMongoDB('index use (real MongoDB only; FerretDB plans no index)', () => {
  const client = testClient({ monitorCommands: true });
  const database = uniqueDatabase('real');
  const finds: Document[] = [];
  client.on('commandStarted', (event: CommandStartedEvent) => {
    if (event.commandName === 'find' && event.command.find === 'events') finds.push(event.command);
  });

  afterAll(async () => {
    await client.db(database).dropDatabase();
    await client.close();
  });

  /** Explains every find the store sent while running `work` and returns their stages. */
  async function plansOf(work: () => Promise<unknown>): Promise<Document[][]> {
    finds.length = 0;
    await work();
    const sent = [...finds];
    const events = client.db(database).collection('events');
    return Promise.all(
      sent.map(async (command) => {
        const cursor = events.find(command.filter as Document, {
          ...(command.sort ? { sort: command.sort as Document } : {}),
          ...(command.limit ? { limit: command.limit as number } : {}),
        });
        return stages((await cursor.explain('queryPlanner')).queryPlanner);
      }),
    );
  }

  const expectIndexed = (plans: Document[][]) => {
    expect(plans.length).toBeGreaterThan(0);
    for (const plan of plans) {
      expect(plan.map((stage) => stage.stage)).not.toContain('COLLSCAN');
      expect(plan.some((stage) => /IXSCAN|IDHACK/.test(String(stage.stage)))).toBe(true);
    }
  };

  it('finds events by id, reads aggregate streams and catches up by name with indexes', async () => {
    const store = createMongoEventStore({ client, database });
    const id = uuidv7();
    const events = Array.from({ length: 50 }, (_, v) =>
      createEvent('order.placed', { v }, { aggregate: { name: 'order', id, version: v + 1 } }),
    );
    const stored = await store.insert(events);
    expectIndexed(await plansOf(() => store.find(events[7]?.id as string)));
    expectIndexed(await plansOf(() => drain(store.query(query().aggregate('order', id)))));
    expectIndexed(
      await plansOf(() =>
        drain(
          store.query(
            query()
              .name('order.placed')
              .afterPosition(stored[10]?.position as number),
          ),
        ),
      ),
    );
    await store.close();
  });

  it('checks versions with the version index when its cache cannot decide', async () => {
    const writer = createMongoEventStore({ client, database });
    const other = createMongoEventStore({ client, database });
    const id = uuidv7();
    await writer.insert([
      createEvent('order.placed', {}, { aggregate: { name: 'order', id, version: 1 } }),
    ]);
    // `other` never stored this aggregate: it asks the events for the stored version.
    expectIndexed(
      await plansOf(() =>
        other.insert([
          createEvent('order.paid', {}, { aggregate: { name: 'order', id, version: 2 } }),
        ]),
      ),
    );
    await writer.close();
    await other.close();
  });
});
