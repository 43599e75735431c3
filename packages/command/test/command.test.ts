import { createRegistry, type StandardSchemaV1 } from '@goes/codec';
import { GoesError, InvalidArgumentError, isGoesError, isUuid, uuidv7 } from '@goes/event';
import { describe, expect, it } from '@jest/globals';
import {
  AGGREGATE_DELETED_EVENT,
  aggregateDeletedDataSchema,
  CommandError,
  type CommandHandlerMap,
  type CommandMap,
  type CommandSpec,
  commandInfo,
  createCommand,
  DELETE_AGGREGATE_COMMAND,
  deleteAggregateCommand,
  deleteAggregatePayloadSchema,
  handledCommandNames,
  isCommandError,
  registerBuiltinCommands,
  registerBuiltinEvents,
  requireAggregateTarget,
  toCommandErrorData,
} from '../src/index.js';

describe('commands', () => {
  it('creates a command with a UUIDv7 id, the name, the payload and an optional aggregate', () => {
    const plain = createCommand('order.place', { sku: 'A-1' });
    expect(isUuid(plain.id)).toBe(true);
    expect(plain.id[14]).toBe('7');
    expect(plain).toEqual({ id: plain.id, name: 'order.place', payload: { sku: 'A-1' } });
    expect('aggregate' in plain).toBe(false);
    const aggregate = { name: 'order', id: uuidv7() };
    const targeted = createCommand('order.cancel', {}, { id: plain.id, aggregate });
    expect(targeted.id).toBe(plain.id);
    expect(targeted.aggregate).toEqual(aggregate);
    expect(targeted.aggregate).not.toBe(aggregate);
  });

  it('describes a command without its payload', () => {
    const aggregate = { name: 'order', id: uuidv7() };
    const command = createCommand('order.cancel', { secret: 1 }, { aggregate });
    expect(commandInfo(command)).toEqual({ id: command.id, name: 'order.cancel', aggregate });
    expect(commandInfo(createCommand('x', 1))).toEqual({ id: expect.any(String), name: 'x' });
  });
});

describe('command errors', () => {
  it('carries code, message and details, and converts to and from JSON', () => {
    const error = new CommandError('OUT_OF_STOCK', 'only 3 left', { details: { available: 3 } });
    expect(error).toBeInstanceOf(GoesError);
    expect(error.name).toBe('CommandError');
    expect(error.code).toBe('OUT_OF_STOCK');
    expect(error.toJSON()).toEqual({
      code: 'OUT_OF_STOCK',
      message: 'only 3 left',
      details: { available: 3 },
    });
    expect(JSON.parse(JSON.stringify(error))).toEqual(error.toJSON());
    const rebuilt = CommandError.fromJSON(error.toJSON(), {
      command: { id: uuidv7(), name: 'order.place' },
    });
    expect(isCommandError(rebuilt, 'OUT_OF_STOCK')).toBe(true);
    expect(rebuilt.details).toEqual({ available: 3 });
    expect(rebuilt.command?.name).toBe('order.place');
    expect(new CommandError('X', 'no details').toJSON()).toEqual({
      code: 'X',
      message: 'no details',
    });
  });

  it('is recognised by its brand, not by other coded errors', () => {
    expect(isCommandError(new CommandError('A', 'a'))).toBe(true);
    expect(isCommandError(new CommandError('A', 'a'), 'B')).toBe(false);
    expect(isCommandError(new InvalidArgumentError('bad'))).toBe(false);
    expect(isCommandError({ code: 'A', message: 'a' })).toBe(false);
    expect(isCommandError(undefined)).toBe(false);
  });

  it('refuses an empty code', () => {
    expect(() => new CommandError('', 'x')).toThrow(InvalidArgumentError);
  });

  it('turns anything a handler throws into its JSON form', () => {
    expect(toCommandErrorData(new CommandError('A', 'a', { details: [1] }))).toEqual({
      code: 'A',
      message: 'a',
      details: [1],
    });
    expect(toCommandErrorData(new InvalidArgumentError('bad value'))).toEqual({
      code: 'INVALID_ARGUMENT',
      message: 'bad value',
    });
    expect(toCommandErrorData(Object.assign(new Error('gone'), { code: 'ENOENT' }))).toEqual({
      code: 'ENOENT',
      message: 'gone',
    });
    expect(toCommandErrorData(new TypeError('nope'))).toEqual({
      code: 'COMMAND_HANDLER_FAILED',
      message: 'nope',
    });
    expect(toCommandErrorData('text')).toEqual({ code: 'COMMAND_HANDLER_FAILED', message: 'text' });
    expect(toCommandErrorData({ message: 'object' })).toEqual({
      code: 'COMMAND_HANDLER_FAILED',
      message: 'object',
    });
    expect(toCommandErrorData(null)).toEqual({ code: 'COMMAND_HANDLER_FAILED', message: 'null' });
  });
});

describe('built-in delete-aggregate command', () => {
  it('targets the aggregate and has an empty payload', () => {
    const aggregate = { name: 'order', id: uuidv7() };
    const command = deleteAggregateCommand(aggregate);
    expect(command.name).toBe('goes.command.aggregate.delete');
    expect(command.name).toBe(DELETE_AGGREGATE_COMMAND);
    expect(command.payload).toEqual({});
    expect(command.aggregate).toEqual(aggregate);
    expect(deleteAggregateCommand(aggregate, { id: command.id }).id).toBe(command.id);
    expect(AGGREGATE_DELETED_EVENT).toBe('goes.command.aggregate.deleted');
  });

  it('registers the command and the event with schemas', () => {
    const commands = registerBuiltinCommands(createRegistry({ strict: true }));
    expect(commands.decode(DELETE_AGGREGATE_COMMAND, '{}')).toEqual({});
    expect(() => commands.decode(DELETE_AGGREGATE_COMMAND, '"x"')).toThrow(/empty object/);
    const events = registerBuiltinEvents(createRegistry({ strict: true }));
    expect(events.decode(AGGREGATE_DELETED_EVENT, '{"version":4}')).toEqual({ version: 4 });
    expect(() => events.decode(AGGREGATE_DELETED_EVENT, '{"version":-1}')).toThrow(/version/);
    expect(() => events.decode(AGGREGATE_DELETED_EVENT, '[]')).toThrow(/version/);
  });

  it('normalizes the payload to an empty object and validates the event data', () => {
    const validate = (schema: StandardSchemaV1, value: unknown) =>
      schema['~standard'].validate(value);
    expect(validate(deleteAggregatePayloadSchema, { extra: 1 })).toEqual({ value: {} });
    expect(validate(aggregateDeletedDataSchema, { version: 2, extra: true })).toEqual({
      value: { version: 2 },
    });
    expect(validate(aggregateDeletedDataSchema, { version: 1.5 })).toHaveProperty('issues');
  });
});

describe('aggregate-owned handlers', () => {
  type OrderCommands = {
    'order.place': CommandSpec<{ sku: string }, { placed: boolean }>;
    'order.cancel': CommandSpec<{ reason: string }, void>;
    'order.audit': CommandSpec<Record<string, never>, void>;
  };
  class Order {
    readonly log: string[] = [];
    static readonly commands: CommandHandlerMap<OrderCommands, Order> = {
      'order.place': (order, { payload }) => {
        order.log.push(`place ${payload.sku}`);
        return { placed: true };
      },
      'order.cancel': async (order, { payload }) => {
        order.log.push(`cancel ${payload.reason}`);
      },
    };
  }

  it("lets a map declared for part of an application's commands stand for the whole map (types)", () => {
    type AppCommands = OrderCommands & { 'invoice.send': CommandSpec<{ to: string }, void> };
    const whole: CommandHandlerMap<AppCommands, Order> = Order.commands;
    const loose: CommandHandlerMap<CommandMap, Order> = {
      'any.name': (_order, context) => context.payload, // the untyped map: payload unknown
    };
    // @ts-expect-error a handler whose payload type differs from the application's map
    const wrong: CommandHandlerMap<AppCommands, Order> = {} as CommandHandlerMap<
      { 'order.place': CommandSpec<{ sku: number }, { placed: boolean }> },
      Order
    >;
    expect(handledCommandNames(whole).sort()).toEqual(['order.cancel', 'order.place']);
    expect(handledCommandNames(loose)).toEqual(['any.name']);
    expect(handledCommandNames(wrong)).toEqual([]);
  });

  it('lists the names a handler map handles', () => {
    expect(handledCommandNames(Order.commands).sort()).toEqual(['order.cancel', 'order.place']);
  });

  it('lets the wiring run a handler with the aggregate and the context', async () => {
    const order = new Order();
    const command = createCommand('order.place', { sku: 'A-1' });
    const result = await Order.commands['order.place']?.(order, {
      ...command,
      command,
      signal: new AbortController().signal,
    });
    expect(result).toEqual({ placed: true });
    expect(order.log).toEqual(['place A-1']);
  });

  it('checks the aggregate target of a command', () => {
    const id = uuidv7();
    const command = createCommand('order.cancel', {}, { aggregate: { name: 'order', id } });
    expect(requireAggregateTarget(command, 'order')).toEqual({ name: 'order', id });
    expect(requireAggregateTarget(command)).toEqual({ name: 'order', id });
    const missing = createCommand('order.cancel', {});
    expect(() => requireAggregateTarget(missing, 'order')).toThrow(/no aggregate target/);
    try {
      requireAggregateTarget(command, 'invoice');
      throw new Error('expected a throw');
    } catch (error) {
      expect(isGoesError(error, 'INVALID_COMMAND')).toBe(true);
      expect((error as Error).message).toContain('"invoice"');
    }
  });
});
