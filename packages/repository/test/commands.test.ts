import {
  AGGREGATE_DELETED_EVENT,
  CommandError,
  createCommand,
  deleteAggregateCommand,
  isCommandError,
} from '@goes/command';
import { type Event, isGoesError, query, uuidv7 } from '@goes/event';
import { drain } from '@goes/streams';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { handleAggregateCommands, handleBuiltinCommands } from '../src/index.js';
import { BUS_KINDS, barrier, createWorld, rejection, until, type World } from './command-world.js';
import { Product } from './fixtures.js';

/** Compile-time check that `value` has type `T`. */
const expectType = <T>(value: T): T => value;

const stored = async (world: World, id: string): Promise<Event[]> =>
  drain(world.store.query(query().aggregate('product', id)));

const summary = (events: readonly Event[]) =>
  events.map((event) => [event.name, event.aggregate?.version]);

describe.each(BUS_KINDS)('aggregate-owned command handlers on %s', (_title, kind) => {
  let world: World;
  beforeEach(async () => {
    world = await createWorld(kind);
  });
  afterEach(async () => {
    await world.close();
    expect(world.busErrors).toEqual([]);
  });

  it('creates and changes a Product through commands: dispatch → command bus → aggregate handler → use → insert → publish', async () => {
    const handling = await handleAggregateCommands(world.handler, world.products, {
      commands: Product.commands,
    });
    world.defer(handling);
    expect(handling.aggregateName).toBe('product');
    expect([...handling.names].sort()).toEqual([
      'product.create',
      'product.discontinue',
      'product.price',
      'product.restock',
    ]);
    const id = uuidv7();
    const target = { name: 'product', id };

    const created = await world.dispatcher.dispatch(
      createCommand('product.create', { sku: 'SKU-1', name: 'Chair' }, { aggregate: target }),
      { sync: true },
    );
    expect(created).toBeUndefined();
    const priced = await world.dispatcher.dispatch(
      createCommand('product.price', { cents: 2_500 }, { aggregate: target }),
      { sync: true },
    );
    expectType<{ previous: number }>(priced);
    expect(priced).toEqual({ previous: 0 });
    const repriced = await world.dispatcher.dispatch(
      createCommand('product.price', { cents: 1_999 }, { aggregate: target }),
      { sync: true },
    );
    expect(repriced).toEqual({ previous: 2_500 });

    const product = await world.products.fetch(id);
    expect(product).toMatchObject({ sku: 'SKU-1', name: 'Chair', cents: 1_999, version: 3 });
    const events = await stored(world, id);
    expect(summary(events)).toEqual([
      ['product.created', 1],
      ['product.priced', 2],
      ['product.priced', 3],
    ]);
    // Published after the insert: the stored events themselves, with their positions.
    await until(
      () => world.published.filter((e) => e.aggregate?.id === id).length === 3,
      '3 events',
    );
    const published = world.published.filter((e) => e.aggregate?.id === id);
    expect(published.map((e) => [e.id, e.position])).toEqual(events.map((e) => [e.id, e.position]));
  });

  it('runs an asynchronous dispatch too: it resolves once a handler took the command, and the events follow', async () => {
    world.defer(
      await handleAggregateCommands(world.handler, world.products, { commands: Product.commands }),
    );
    const id = uuidv7();
    await expect(
      world.dispatcher.dispatch(
        createCommand(
          'product.create',
          { sku: 'SKU-2', name: 'Desk' },
          { aggregate: { name: 'product', id } },
        ),
      ),
    ).resolves.toBeUndefined();
    await until(() => world.published.some((e) => e.aggregate?.id === id), 'the created event');
    expect((await world.products.fetch(id)).name).toBe('Desk');
  });

  it('lets 8 concurrent commands on one aggregate all succeed through retries, each returning its own result', async () => {
    const gate = barrier(8); // every first attempt loads the same version before any saves
    world.defer(
      await handleAggregateCommands(world.handler, world.products, {
        commands: Product.commands,
        before: { 'product.restock': () => gate() },
        concurrency: 8,
      }),
    );
    const id = uuidv7();
    const target = { name: 'product', id };
    await world.dispatcher.dispatch(
      createCommand('product.create', { sku: 'SKU-3', name: 'Lamp' }, { aggregate: target }),
      { sync: true },
    );

    const results = await Promise.all(
      [1, 2, 3, 4, 5, 6, 7, 8].map((units) =>
        world.dispatcher.dispatch(
          createCommand('product.restock', { units }, { aggregate: target }),
          { sync: true },
        ),
      ),
    );

    expect(world.conflicts()).toBeGreaterThanOrEqual(7);
    const product = await world.products.fetch(id);
    expect(product.stock).toBe(36);
    expect(product.version).toBe(9);
    // Each result is the stock after its own event, on top of those saved before it: the
    // results are the running totals of the 8 commands in the order they were saved.
    const totals = results.map((r) => r.stock).sort((a, b) => a - b);
    const steps = totals.map((total, i) => total - (i === 0 ? 0 : (totals[i - 1] as number)));
    expect(steps.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('runs wildcard before-hooks, name before-hooks, the handler, then after-hooks, and after-hooks only on success', async () => {
    const calls: string[] = [];
    world.defer(
      await handleAggregateCommands(world.handler, world.products, {
        commands: {
          ...Product.commands,
          'product.price': (product, { payload }) => {
            calls.push(`handler ${payload.cents}`);
            const previous = product.cents;
            product.price(payload.cents); // throws RangeError for a negative price
            return { previous };
          },
        },
        before: {
          '*': [
            (_product, context) => {
              calls.push(`before * ${context.name}`);
              if (context.name === 'product.price' && context.payload.cents === 13) {
                throw new CommandError('FORBIDDEN', 'unlucky price', { details: { cents: 13 } });
              }
            },
          ],
          'product.price': (product) => {
            calls.push(`before price v${product.version}`);
          },
        },
        after: {
          '*': (_product, context, result) => {
            calls.push(`after * ${context.name} ${JSON.stringify(result ?? null)}`);
          },
          'product.price': (product, _context, result) => {
            expectType<{ previous: number }>(result);
            calls.push(`after price ${result.previous} → ${product.cents}`);
          },
        },
      }),
    );
    const id = uuidv7();
    const target = { name: 'product', id };
    await world.dispatcher.dispatch(
      createCommand('product.create', { sku: 'SKU-4', name: 'Sofa' }, { aggregate: target }),
      { sync: true },
    );
    expect(calls.splice(0)).toEqual(['before * product.create', 'after * product.create null']);

    await world.dispatcher.dispatch(
      createCommand('product.price', { cents: 700 }, { aggregate: target }),
      { sync: true },
    );
    expect(calls.splice(0)).toEqual([
      'before * product.price',
      'before price v1',
      'handler 700',
      'after * product.price {"previous":0}',
      'after price 0 → 700',
    ]);

    const failed = await rejection(
      world.dispatcher.dispatch(
        createCommand('product.price', { cents: -5 }, { aggregate: target }),
        { sync: true },
      ),
    );
    expect(isCommandError(failed, 'COMMAND_HANDLER_FAILED')).toBe(true);
    expect((failed as Error).message).toContain('negative price -5');
    expect(calls.splice(0)).toEqual(['before * product.price', 'before price v2', 'handler -5']);

    const refused = await rejection(
      world.dispatcher.dispatch(
        createCommand('product.price', { cents: 13 }, { aggregate: target }),
        { sync: true },
      ),
    );
    expect(isCommandError(refused, 'FORBIDDEN')).toBe(true);
    expect(refused).toMatchObject({ message: 'unlucky price', details: { cents: 13 } });
    expect(calls.splice(0)).toEqual(['before * product.price']);

    expect(summary(await stored(world, id))).toEqual([
      ['product.created', 1],
      ['product.priced', 2],
    ]);
  });

  it('refuses commands without an aggregate target or for another aggregate with INVALID_COMMAND; nothing is stored', async () => {
    world.defer(
      await handleAggregateCommands(world.handler, world.products, { commands: Product.commands }),
    );
    const untargeted = await rejection(
      world.dispatcher.dispatch(createCommand('product.price', { cents: 1 }), { sync: true }),
    );
    expect(isCommandError(untargeted, 'INVALID_COMMAND')).toBe(true);
    expect((untargeted as Error).message).toContain('has no aggregate target');
    expect((untargeted as Error).message).toContain('"product"');

    const id = uuidv7();
    const foreign = await rejection(
      world.dispatcher.dispatch(
        createCommand('product.price', { cents: 1 }, { aggregate: { name: 'order', id } }),
        { sync: true },
      ),
    );
    expect(isCommandError(foreign, 'INVALID_COMMAND')).toBe(true);
    expect((foreign as Error).message).toContain('targets aggregate "order"');
    expect(await drain(world.store.query(query().aggregateId(id)))).toEqual([]);
  });

  it("passes a handler's typed error to the dispatcher with code, message and details, and saves nothing", async () => {
    world.defer(
      await handleAggregateCommands(world.handler, world.products, { commands: Product.commands }),
    );
    const id = uuidv7();
    const target = { name: 'product', id };
    await world.dispatcher.dispatch(
      createCommand('product.create', { sku: 'SKU-5', name: 'Rug' }, { aggregate: target }),
      { sync: true },
    );
    const error = await rejection(
      world.dispatcher.dispatch(
        createCommand('product.price', { cents: -1 }, { aggregate: target }),
        { sync: true },
      ),
    );
    expect(isCommandError(error, 'NEGATIVE_PRICE')).toBe(true);
    expect(error).toMatchObject({
      message: 'a price cannot be negative: -1',
      details: { cents: -1 },
      command: { name: 'product.price', aggregate: target },
    });
    expect(summary(await stored(world, id))).toEqual([['product.created', 1]]);
  });

  it('answers AGGREGATE_DELETED for a command to a soft-deleted aggregate', async () => {
    world.defer(
      await handleAggregateCommands(world.handler, world.products, { commands: Product.commands }),
    );
    const target = { name: 'product', id: uuidv7() };
    for (const command of [
      createCommand('product.create', { sku: 'SKU-6', name: 'Vase' }, { aggregate: target }),
      createCommand('product.discontinue', {}, { aggregate: target }),
    ]) {
      await world.dispatcher.dispatch(command, { sync: true });
    }
    const error = await rejection(
      world.dispatcher.dispatch(
        createCommand('product.price', { cents: 10 }, { aggregate: target }),
        { sync: true },
      ),
    );
    expect(isCommandError(error, 'AGGREGATE_DELETED')).toBe(true);
  });

  it('surfaces VERSION_CONFLICT when retries are off and two commands race', async () => {
    const gate = barrier(2);
    world.defer(
      await handleAggregateCommands(world.handler, world.products, {
        commands: Product.commands,
        before: { 'product.restock': () => gate() },
        concurrency: 2,
        retry: false,
      }),
    );
    const target = { name: 'product', id: uuidv7() };
    await world.dispatcher.dispatch(
      createCommand('product.create', { sku: 'SKU-7', name: 'Shelf' }, { aggregate: target }),
      { sync: true },
    );
    const outcomes = await Promise.allSettled(
      [1, 2].map((units) =>
        world.dispatcher.dispatch(
          createCommand('product.restock', { units }, { aggregate: target }),
          { sync: true },
        ),
      ),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const [lost] = outcomes.filter((o) => o.status === 'rejected') as PromiseRejectedResult[];
    expect(isCommandError(lost?.reason, 'VERSION_CONFLICT')).toBe(true);
    expect((await world.products.fetch(target.id)).version).toBe(2);
  });

  it('deletes through the built-in command, records the deletion as a version-0 event, and lets the aggregate be created again', async () => {
    world.defer(
      await handleAggregateCommands(world.handler, world.products, { commands: Product.commands }),
    );
    world.defer(
      await handleBuiltinCommands(world.handler, world.repository, {
        publishEvents: { store: world.store }, // a withBus store: stored, then published
      }),
    );
    const id = uuidv7();
    const target = { name: 'product', id };
    for (const command of [
      createCommand('product.create', { sku: 'SKU-8', name: 'Bench' }, { aggregate: target }),
      createCommand('product.price', { cents: 4_000 }, { aggregate: target }),
      createCommand('product.restock', { units: 5 }, { aggregate: target }),
    ]) {
      await world.dispatcher.dispatch(command, { sync: true });
    }
    expect(await drain(world.snapshots.query({ ids: [id] }))).not.toEqual([]);

    await expect(
      world.dispatcher.dispatch(deleteAggregateCommand(target), { sync: true }),
    ).resolves.toBeUndefined();

    const [record, ...rest] = await stored(world, id);
    expect(rest).toEqual([]);
    expect(record).toMatchObject({
      name: AGGREGATE_DELETED_EVENT,
      aggregate: { name: 'product', id, version: 0 },
      data: { version: 3 },
    });
    await until(
      () =>
        world.published.some((e) => e.name === AGGREGATE_DELETED_EVENT && e.aggregate?.id === id),
      'the deletion event',
    );
    expect(await drain(world.snapshots.query({ ids: [id] }))).toEqual([]);
    expect(isGoesError(await rejection(world.products.fetch(id)), 'AGGREGATE_NOT_FOUND')).toBe(
      true,
    );

    // Created again under the same id: version 1, nothing of the old state (events or snapshot).
    await world.dispatcher.dispatch(
      createCommand('product.create', { sku: 'SKU-9', name: 'Stool' }, { aggregate: target }),
      { sync: true },
    );
    const again = await world.products.fetch(id);
    expect(again).toMatchObject({ sku: 'SKU-9', name: 'Stool', cents: 0, stock: 0, version: 1 });
    expect(again.applied).toEqual(['product.created']);
    expect(summary(await stored(world, id))).toEqual([
      [AGGREGATE_DELETED_EVENT, 0],
      ['product.created', 1],
    ]);
    expect(
      (await drain(world.products.query())).filter((p) => p.id === id).map((p) => p.version),
    ).toEqual([1]);

    // Deleting the new incarnation removes the old record with the rest and writes a new one.
    await world.dispatcher.dispatch(deleteAggregateCommand(target), { sync: true });
    const records = await stored(world, id);
    expect(records.map((e) => [e.name, e.aggregate?.version, e.data])).toEqual([
      [AGGREGATE_DELETED_EVENT, 0, { version: 1 }],
    ]);
  });

  it('refuses to delete an aggregate that has no stored version with AGGREGATE_NOT_FOUND, and keeps the record of an earlier delete', async () => {
    world.defer(
      await handleAggregateCommands(world.handler, world.products, { commands: Product.commands }),
    );
    world.defer(
      await handleBuiltinCommands(world.handler, world.repository, {
        publishEvents: { store: world.store },
      }),
    );
    const unknown = { name: 'product', id: uuidv7() };
    const error = await rejection(
      world.dispatcher.dispatch(deleteAggregateCommand(unknown), { sync: true }),
    );
    expect(isCommandError(error, 'AGGREGATE_NOT_FOUND')).toBe(true);
    expect((error as Error).message).toContain(unknown.id);
    expect(await stored(world, unknown.id)).toEqual([]);

    const target = { name: 'product', id: uuidv7() };
    await world.dispatcher.dispatch(
      createCommand('product.create', { sku: 'SKU-10', name: 'Mirror' }, { aggregate: target }),
      { sync: true },
    );
    await world.dispatcher.dispatch(deleteAggregateCommand(target), { sync: true });
    const again = await rejection(
      world.dispatcher.dispatch(deleteAggregateCommand(target), { sync: true }),
    );
    expect(isCommandError(again, 'AGGREGATE_NOT_FOUND')).toBe(true);
    expect(summary(await stored(world, target.id))).toEqual([[AGGREGATE_DELETED_EVENT, 0]]);
    await until(
      () =>
        world.published.some(
          (e) => e.aggregate?.id === target.id && e.name === AGGREGATE_DELETED_EVENT,
        ),
      'the deletion event',
    );
    expect(
      world.published.filter((e) => e.name === AGGREGATE_DELETED_EVENT).map((e) => e.aggregate?.id),
    ).toEqual([target.id]);
  });
});
