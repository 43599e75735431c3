/**
 * The three MongoDB components under `@goes/repository`: aggregates saved, fetched (from a
 * snapshot), used by concurrent writers in several clients (retrying on version conflicts),
 * deleted and created again.
 */
import { AggregateRoot, next, snapshotEvery } from '@goes/aggregate';
import { uuidv7 } from '@goes/event';
import { createRepository } from '@goes/repository';
import { afterAll, describe, expect, it } from '@jest/globals';
import { createMongoEventStore, createMongoSnapshotStore } from '../src/index.js';
import { testClient, uniqueDatabase } from './support.js';

class Account extends AggregateRoot<{ 'account.deposited': { cents: number } }> {
  balance = 0;
  constructor(id: string) {
    super('account', id);
    this.applyWith({
      'account.deposited': (event) => {
        this.balance += event.data.cents;
      },
    });
  }
  deposit(cents: number): void {
    next(this, 'account.deposited', { cents });
  }
  snapshotState() {
    return { balance: this.balance };
  }
  restoreSnapshot(state: { balance: number }) {
    this.balance = state.balance;
  }
}

const database = uniqueDatabase('repository');
const clients = [testClient(), testClient(), testClient()];

afterAll(async () => {
  await clients[0]?.db(database).dropDatabase();
  for (const client of clients) await client.close();
});

const repositoryOn = (client: (typeof clients)[number]) =>
  createRepository({
    store: createMongoEventStore({ client, database }),
    snapshots: {
      store: createMongoSnapshotStore({ client, database }),
      schedule: snapshotEvery(5),
    },
  });

describe('@goes/repository on MongoDB', () => {
  it('keeps every deposit of concurrent writers in several clients, with snapshots', async () => {
    const repositories = clients.map(repositoryOn);
    const id = uuidv7();
    await Promise.all(
      repositories.flatMap((repository, r) =>
        Array.from({ length: 4 }, (_, i) =>
          repository.use(
            () => new Account(id),
            (account) => account.deposit(100 * r + i),
            { retry: { maxAttempts: 50 } },
          ),
        ),
      ),
    );
    const expected = [0, 1, 2].reduce(
      (sum, r) => sum + [0, 1, 2, 3].reduce((s, i) => s + 100 * r + i, 0),
      0,
    );
    const account = await repositories[0]!.fetch(new Account(id));
    expect(account.version).toBe(12);
    expect(account.balance).toBe(expected);
    const snapshot = await repositories[1]!.snapshots!.latest('account', id);
    expect(snapshot.version % 5).toBe(0);
  });

  it('deletes an aggregate and creates it again from version 1', async () => {
    const repository = repositoryOn(clients[0]!);
    const id = uuidv7();
    const account = new Account(id);
    account.deposit(5);
    account.deposit(7);
    await repository.save(account);
    await repository.delete(account);
    const again = new Account(id);
    again.deposit(1);
    await repository.save(again);
    const fetched = await repository.fetch(new Account(id));
    expect([fetched.version, fetched.balance]).toEqual([1, 1]);
  });
});
