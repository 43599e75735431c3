import { AggregateRoot, next } from '@goes/aggregate';
import { InvalidArgumentError, uuidv7 } from '@goes/event';
import { describe, expect, it } from '@jest/globals';
import { given } from '../src/index.js';

type AccountEvents = {
  'account.opened': { owner: string };
  'account.deposited': { cents: number };
  'account.closed': Record<string, never>;
};

class Account extends AggregateRoot<AccountEvents> {
  owner = '';
  balance = 0;
  closed = false;

  constructor(id: string) {
    super('account', id);
    this.applyWith({
      'account.opened': (e) => {
        this.owner = e.data.owner;
      },
      'account.deposited': (e) => {
        this.balance += e.data.cents;
      },
      'account.closed': () => {
        this.closed = true;
      },
    });
  }

  open(owner: string) {
    if (this.version > 0) throw new InvalidArgumentError('already open');
    next(this, 'account.opened', { owner });
  }

  deposit(cents: number) {
    if (this.closed) throw new Error('account is closed');
    if (cents <= 0) throw new RangeError(`deposit ${cents} must be positive`);
    next(this, 'account.deposited', { cents });
  }

  async depositLater(cents: number) {
    await Promise.resolve();
    this.deposit(cents);
  }

  close() {
    next(this, 'account.closed', {});
  }

  raiseThenFail() {
    next(this, 'account.deposited', { cents: 1 });
    throw new Error('half done');
  }
}

const opened = { name: 'account.opened', data: { owner: 'ada' } } as const;

describe('given/when/then', () => {
  it('asserts the raised events and hands back the aggregate', async () => {
    const id = uuidv7();
    const account = await given(() => new Account(id), opened, {
      name: 'account.deposited',
      data: { cents: 5 },
    })
      .when((a) => a.deposit(10))
      .thenRaised({ name: 'account.deposited', data: { cents: 10 } });
    expect(account.balance).toBe(15);
    expect(account.version).toBe(2);
    expect(account.changes[0]?.aggregate?.version).toBe(3);
  });

  it('runs async actions and several events', async () => {
    await given(() => new Account(uuidv7()), opened)
      .when(async (a) => {
        await a.depositLater(1);
        a.close();
      })
      .thenRaised(
        { name: 'account.deposited', data: { cents: 1 } },
        { name: 'account.closed', data: {} },
      );
  });

  it('fails when the raised events differ', async () => {
    await expect(
      given(() => new Account(uuidv7()), opened)
        .when((a) => a.deposit(10))
        .thenRaised({ name: 'account.deposited', data: { cents: 11 } }),
    ).rejects.toThrow();
    await expect(
      given(() => new Account(uuidv7()), opened)
        .when((a) => a.deposit(10))
        .thenNothing(),
    ).rejects.toThrow();
  });

  it('rethrows an unexpected error from thenRaised', async () => {
    await expect(
      given(() => new Account(uuidv7()))
        .when((a) => a.deposit(-1))
        .thenRaised(),
    ).rejects.toThrow(RangeError);
  });

  it('asserts nothing was raised', async () => {
    await given(() => new Account(uuidv7()), opened)
      .when(() => {})
      .thenNothing();
  });

  it('asserts the error by code, class, pattern or predicate', async () => {
    const scenario = () => given(() => new Account(uuidv7()), opened);
    expect(
      await scenario()
        .when((a) => a.open('bob'))
        .thenThrew('INVALID_ARGUMENT'),
    ).toBeInstanceOf(InvalidArgumentError);
    await scenario()
      .when((a) => a.deposit(0))
      .thenThrew(RangeError);
    await scenario()
      .when((a) => a.deposit(0))
      .thenThrew(/must be positive/);
    await scenario()
      .when((a) => a.deposit(0))
      .thenThrew((e) => e instanceof RangeError);
    await scenario()
      .when((a) => a.deposit(0))
      .thenThrew();
    await given(() => new Account(uuidv7()), opened, { name: 'account.closed', data: {} })
      .when((a) => a.deposit(1))
      .thenThrew(/closed/);
  });

  it('fails when the action does not throw, throws something else, or leaves changes behind', async () => {
    await expect(
      given(() => new Account(uuidv7()), opened)
        .when((a) => a.deposit(1))
        .thenThrew(),
    ).rejects.toThrow(/expected the action to throw, but it raised 1 event/);
    await expect(
      given(() => new Account(uuidv7()), opened)
        .when((a) => a.deposit(0))
        .thenThrew('VERSION_CONFLICT'),
    ).rejects.toThrow(/does not match code VERSION_CONFLICT/);
    await expect(
      given(() => new Account(uuidv7()), opened)
        .when((a) => a.raiseThenFail())
        .thenThrew(/half done/),
    ).rejects.toThrow();
  });

  it('types given events by the aggregate event map, and refuses unknown ones at run time', async () => {
    // @ts-expect-error: not an account event
    const foreign = given(() => new Account(uuidv7()), { name: 'order.placed', data: {} });
    await expect(foreign.when(() => {}).thenNothing()).rejects.toMatchObject({
      code: 'UNKNOWN_EVENT',
      eventName: 'order.placed',
    });
    // @ts-expect-error: cents must be a number
    given(() => new Account(uuidv7()), { name: 'account.deposited', data: { cents: 'x' } });
  });
});
