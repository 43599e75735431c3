/**
 * Connection edges: several stores setting up one new collection at the same time, a store
 * closed while its lazy setup runs, and cursors closed when decoding a document fails.
 */
import { ClosedError, createEvent, query } from '@goes/event';
import { drain } from '@goes/streams';
import { afterAll, describe, expect, it } from '@jest/globals';
import type { CommandStartedEvent } from 'mongodb';
import { createMongoEventStore } from '../src/index.js';
import { MONGODB_URL, testClient, uniqueDatabase } from './support.js';

const client = testClient();
const database = uniqueDatabase('connection_edges');
afterAll(async () => {
  await client.db(database).dropDatabase();
  await client.close();
});

describe('setup', () => {
  it('sets up one new collection from several stores with their own clients at once', async () => {
    const clients = Array.from({ length: 6 }, () => testClient());
    try {
      // Several rounds, each on a collection none of them created yet.
      for (const collection of ['together1', 'together2', 'together3']) {
        const stores = clients.map((c) =>
          createMongoEventStore({ client: c, database, collection }),
        );
        await Promise.all(stores.map((store) => store.connect()));
        const indexes = await client.db(database).collection(collection).listIndexes().toArray();
        expect(indexes.map((index) => index.name).sort()).toEqual(
          [
            '_id_',
            'goes_aggregate_version',
            'goes_id',
            'goes_name_position',
            'goes_name_time',
          ].sort(),
        );
        await Promise.all(stores.map((store) => store.close()));
      }
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });

  it('leaves no connection open when closed while its lazy setup runs', async () => {
    const store = createMongoEventStore({
      url: MONGODB_URL,
      database,
      collection: 'closed_early',
      clientOptions: { serverSelectionTimeoutMS: 5_000, monitorCommands: true },
    });
    // Close once setup has reached the server, while it creates its indexes.
    const indexing = new Promise((resolve) =>
      store.client.on('commandStarted', (event) => {
        if (event.commandName === 'createIndexes') resolve(undefined);
      }),
    );
    const connecting = store.connect();
    await indexing;
    await store.close();
    await expect(connecting).rejects.toBeInstanceOf(ClosedError);
    // Give a setup that outlived close() time to touch the server again.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const topology = (store.client as unknown as { topology?: { isConnected(): boolean } })
      .topology;
    expect(topology?.isConnected() ?? false).toBe(false);
  });
});

describe('cursors', () => {
  it('closes the server cursor when decoding an event fails', async () => {
    const monitored = testClient({ monitorCommands: true });
    const killed: CommandStartedEvent[] = [];
    monitored.on('commandStarted', (event) => {
      if (event.commandName === 'killCursors') killed.push(event);
    });
    try {
      const failing = new Error('cannot decode');
      const codec = {
        encode: (_name: string, data: unknown) => JSON.stringify(data),
        decode: (_name: string, text: string) => {
          const data = JSON.parse(text) as { i: number };
          if (data.i === 3) throw failing;
          return data;
        },
      };
      const store = createMongoEventStore({
        client: monitored,
        database,
        collection: 'decode',
        batchSize: 2,
        codec: codec as never,
      });
      await store.insert(Array.from({ length: 10 }, (_, i) => createEvent('d', { i })));
      await expect(drain(store.query(query().name('d')))).rejects.toBe(failing);
      expect(killed).toHaveLength(1);
      await store.close();
    } finally {
      await monitored.close();
    }
  });

  it('closes the server cursor when the signal aborts while a batch is being fetched', async () => {
    const monitored = testClient({ monitorCommands: true });
    const store = createMongoEventStore({
      client: monitored,
      database,
      collection: 'abort_fetch',
      batchSize: 50,
    });
    try {
      await store.insert(Array.from({ length: 300 }, (_, i) => createEvent('f', { i })));
      for (let round = 0; round < 3; round++) {
        const controller = new AbortController();
        let getMores = 0;
        let killed = 0;
        const watch = (event: CommandStartedEvent) => {
          if (event.commandName === 'killCursors') killed++;
          // Abort right after the second getMore went out, while its reply is on the way.
          if (event.commandName === 'getMore' && ++getMores === 2) {
            setTimeout(() => controller.abort(new Error('stop')), 1);
          }
        };
        monitored.on('commandStarted', watch);
        try {
          await expect(
            drain(store.query(query().name('f'), { signal: controller.signal })),
          ).rejects.toThrow('stop');
          const deadline = Date.now() + 3_000;
          while (killed === 0 && Date.now() < deadline) {
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
          expect(killed).toBe(1);
        } finally {
          monitored.off('commandStarted', watch);
        }
      }
    } finally {
      await store.close();
      await monitored.close();
    }
  });
});
