import { createRegistry } from '@goes/codec';
import { isGoesError } from '@goes/event';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import {
  type CommandBus,
  CommandError,
  type CommandSpec,
  createCommand,
  createLocalCommandBus,
  isCommandError,
  type LocalCommandBusOptions,
} from '../src/index.js';

const opened: CommandBus[] = [];
/** Compile-time check that `value` has type `T` (and nothing wider). */
const expectType = <T>(value: T): T => value;
afterEach(async () => {
  for (const bus of opened.splice(0)) await bus.close();
  jest.restoreAllMocks();
});

function localBus(options: LocalCommandBusOptions = {}): CommandBus {
  const bus = createLocalCommandBus({ onError: () => {}, ...options });
  opened.push(bus);
  return bus;
}

describe('local command bus', () => {
  it('refuses bad timeouts, naming the option and value', () => {
    for (const option of ['assignTimeout', 'receiveTimeout', 'executionTimeout'] as const) {
      for (const value of [0, -1, Number.POSITIVE_INFINITY, Number.NaN]) {
        try {
          createLocalCommandBus({ [option]: value });
          throw new Error('expected a throw');
        } catch (error) {
          expect(isGoesError(error, 'INVALID_ARGUMENT')).toBe(true);
          expect((error as Error).message).toContain(option);
          expect((error as Error).message).toContain(String(value));
        }
      }
    }
  });

  it("hands the handler the codec schema's output", async () => {
    const codec = createRegistry().register('greet', {
      schema: {
        '~standard': {
          version: 1,
          vendor: 'test',
          validate: (value) => ({ value: { to: String((value as { to: unknown }).to).trim() } }),
        },
      },
    });
    const bus = localBus({ codec });
    await bus.handle('greet', ({ payload }) => `hello ${(payload as { to: string }).to}`);
    await expect(
      bus.dispatch(createCommand('greet', { to: '  Ada  ' }), { sync: true }),
    ).resolves.toBe('hello Ada');
  });

  it('passes payloads, results and details by reference, and keeps the cause', async () => {
    const bus = localBus();
    const payload = { list: [1, 2] };
    const result = { big: 10n };
    const details = { when: new Date(0) };
    const cause = new TypeError('original');
    await bus.handle('same', ({ payload: received }) => {
      expect(received).toBe(payload);
      return result;
    });
    await bus.handle('fails', () => {
      throw new CommandError('BROKEN', 'broken', { details, cause });
    });
    await expect(bus.dispatch(createCommand('same', payload), { sync: true })).resolves.toBe(
      result,
    );
    const error = await bus.dispatch(createCommand('fails', {}), { sync: true }).catch((e) => e);
    expect(isCommandError(error, 'BROKEN')).toBe(true);
    expect((error as CommandError).details).toBe(details);
    expect(((error as Error).cause as CommandError).cause).toBe(cause);
  });

  it('reports to console.error by default', async () => {
    const logged = jest.spyOn(console, 'error').mockImplementation(() => {});
    const bus = createLocalCommandBus();
    opened.push(bus);
    await bus.handle('fails', () => {
      throw new Error('nobody waits for me');
    });
    await bus.dispatch(createCommand('fails', {}));
    for (let i = 0; i < 100 && logged.mock.calls.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(logged).toHaveBeenCalledWith(
      '[goes command bus]',
      expect.objectContaining({ code: 'COMMAND_HANDLER_FAILED' }),
    );
  });

  it('reports a throwing onReport to onError and still settles', async () => {
    const errors: unknown[] = [];
    const bus = localBus({ onError: (error) => errors.push(error) });
    await bus.handle('x', () => 1);
    await expect(
      bus.dispatch(createCommand('x', {}), {
        sync: true,
        onReport: () => {
          throw new Error('report failed');
        },
      }),
    ).resolves.toBe(1);
    expect(errors).toEqual([new Error('report failed')]);
  });

  it('works with await using', async () => {
    let closed: CommandBus | undefined;
    {
      await using bus = createLocalCommandBus();
      await using registration = await bus.handle('x', () => 'y');
      expect(registration.name).toBe('x');
      await expect(bus.dispatch(createCommand('x', {}), { sync: true })).resolves.toBe('y');
      closed = bus;
    }
    const error = await closed?.dispatch(createCommand('x', {})).catch((e: unknown) => e);
    expect(isGoesError(error, 'CLOSED')).toBe(true);
  });

  it('infers payload and result types from a command map', async () => {
    type Shop = {
      'order.place': CommandSpec<{ sku: string; quantity: number }, { orderId: string }>;
      'order.cancel': CommandSpec<{ reason: string }, void>;
    };
    const bus = createLocalCommandBus<Shop>({ onError: () => {} });
    opened.push(bus as unknown as CommandBus);
    await bus.handle('order.place', ({ payload }) => ({
      orderId: `${payload.sku}x${payload.quantity}`,
    }));
    await bus.handle('order.cancel', ({ payload }) => {
      expect(typeof payload.reason).toBe('string');
    });
    const placed = await bus.dispatch(createCommand('order.place', { sku: 'A', quantity: 2 }), {
      sync: true,
    });
    const orderId: string = placed.orderId;
    expect(orderId).toBe('Ax2');
    const cancelled = bus.dispatch(createCommand('order.cancel', { reason: 'late' }), {
      sync: true,
    });
    expectType<Promise<void>>(cancelled);
    expect(await cancelled).toBeUndefined();
    const fired = bus.dispatch(createCommand('order.cancel', { reason: 'late' }));
    expectType<Promise<void>>(fired);
    expect(await fired).toBeUndefined();

    // @ts-expect-error: quantity is missing
    await bus.dispatch(createCommand('order.place', { sku: 'A' }), { sync: true }).catch(() => {});
    // @ts-expect-error: not a command of the map
    await bus.dispatch(createCommand('order.ship', {}), { sync: true }).catch(() => {});
    // @ts-expect-error: the handler must return { orderId }
    await bus.handle('order.place', () => 42).catch(() => {});
  });
});
