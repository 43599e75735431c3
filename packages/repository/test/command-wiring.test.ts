import {
  AGGREGATE_DELETED_EVENT,
  type BuiltinCommands,
  type CommandBus,
  type CommandHandlerMap,
  type CommandSpec,
  createCommand,
  createLocalCommandBus,
  deleteAggregateCommand,
  isCommandError,
} from '@goes/command';
import {
  createEvent,
  createMemoryEventBus,
  createMemoryEventStore,
  type Event,
  type EventBus,
  type EventStore,
  isGoesError,
  query,
  uuidv7,
} from '@goes/event';
import { drain } from '@goes/streams';
import { afterEach, describe, expect, it } from '@jest/globals';
import {
  aggregateDeletedEvent,
  type BuiltinCommandsOptions,
  createRepository,
  DELETED_EVENT_FAILED,
  handleAggregateCommands,
  handleBuiltinCommands,
  type Repository,
  type TypedRepository,
} from '../src/index.js';
import { barrier, rejection, type ShopCommands, until } from './command-world.js';
import { Counter, Product, type ProductCommands } from './fixtures.js';

const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const resource of opened.splice(0).reverse()) await resource.close();
});

function setup(store: EventStore = createMemoryEventStore()): {
  bus: CommandBus<ShopCommands>;
  repository: Repository;
  products: TypedRepository<Product>;
  store: EventStore;
  errors: unknown[];
} {
  const errors: unknown[] = [];
  const bus = createLocalCommandBus<ShopCommands>({ onError: (error) => errors.push(error) });
  opened.push(bus);
  const repository = createRepository({ store, retry: { backoff: { initialMs: 1, maxMs: 5 } } });
  return { bus, repository, products: repository.typed((id) => new Product(id)), store, errors };
}

function invalidArgument(fn: () => Promise<unknown>, ...fragments: string[]) {
  return async () => {
    const error = await rejection(fn());
    expect(isGoesError(error, 'INVALID_ARGUMENT')).toBe(true);
    for (const fragment of fragments) expect((error as Error).message).toContain(fragment);
  };
}

const target = () => ({ name: 'product', id: uuidv7() });

async function createProduct(bus: CommandBus<ShopCommands>, ref: { name: string; id: string }) {
  await bus.dispatch(
    createCommand('product.create', { sku: 'SKU-1', name: 'Chair' }, { aggregate: ref }),
    { sync: true },
  );
}

describe('handleAggregateCommands: bad input', () => {
  it(
    'refuses something that is not a command bus',
    invalidArgument(
      () =>
        handleAggregateCommands({} as CommandBus, setup().products, {
          commands: Product.commands,
        }),
      'needs a command bus',
    ),
  );

  it(
    'refuses an untyped repository, pointing at repository.typed',
    invalidArgument(
      () =>
        handleAggregateCommands(setup().bus, setup().repository as never, {
          commands: Product.commands,
        }),
      'repository.typed',
    ),
  );

  it('refuses a missing or malformed handler map, naming the value', async () => {
    const { bus, products } = setup();
    for (const commands of [undefined, null, [], 'product.create']) {
      const error = await rejection(handleAggregateCommands(bus, products, { commands } as never));
      expect(isGoesError(error, 'INVALID_ARGUMENT')).toBe(true);
      expect((error as Error).message).toContain('options.commands');
      expect((error as Error).message).toContain(JSON.stringify(commands) ?? 'undefined');
    }
  });

  it(
    'refuses a handler that is not a function, naming the command',
    invalidArgument(
      () =>
        handleAggregateCommands(setup().bus, setup().products, {
          commands: { ...Product.commands, 'product.price': 42 } as never,
        }),
      'the handler of "product.price" must be a function, got 42',
    ),
  );

  it(
    'refuses a map without handlers',
    invalidArgument(
      () => handleAggregateCommands(setup().bus, setup().products, { commands: {} }),
      '"product" aggregate declares no command handler',
    ),
  );

  it(
    'refuses hooks for a command the map does not handle (a typo), naming it',
    invalidArgument(
      () =>
        handleAggregateCommands(setup().bus, setup().products, {
          commands: { 'product.create': (product) => product.create('S', 'N') },
          after: { 'product.price': () => {} },
        }),
      'options.after has hooks for "product.price", which is not among the handled commands ("product.create")',
    ),
  );

  it(
    'refuses a hook that is not a function, naming its place',
    invalidArgument(
      () =>
        handleAggregateCommands(setup().bus, setup().products, {
          commands: Product.commands,
          before: { '*': [() => {}, 'audit' as never] },
        }),
      'options.before["*"][1] must be a function, got "audit"',
    ),
  );

  it('registers nothing when it refuses', async () => {
    const { bus, products } = setup();
    await rejection(
      handleAggregateCommands(bus, products, {
        commands: Product.commands,
        before: { 'product.rename': () => {} } as never,
      }),
    );
    const error = await rejection(
      bus.dispatch(
        createCommand('product.create', { sku: 'S', name: 'N' }, { aggregate: target() }),
        {
          sync: true,
        },
      ),
    );
    expect(isGoesError(error, 'COMMAND_NO_HANDLER')).toBe(true);
  });

  it('closes the handlers it registered when a later name is already handled', async () => {
    const { bus, products } = setup();
    // Names register in the map's order: create, price, restock, discontinue.
    await bus.handle('product.restock', () => ({ stock: 0 }));
    const error = await rejection(
      handleAggregateCommands(bus, products, { commands: Product.commands }),
    );
    expect(isGoesError(error, 'COMMAND_ALREADY_SUBSCRIBED')).toBe(true);
    expect((error as Error).message).toContain('"product.restock"');
    // create and price were registered, then closed again: the names are free.
    await expect(bus.handle('product.create', () => undefined)).resolves.toBeDefined();
    await expect(bus.handle('product.price', () => ({ previous: 0 }))).resolves.toBeDefined();
  });
});

describe('handleAggregateCommands: registration', () => {
  it('stops handling every name on close() (idempotent) and on dispose', async () => {
    const { bus, products } = setup();
    const handling = await handleAggregateCommands(bus, products, { commands: Product.commands });
    expect(handling.registrations.map((r) => r.name)).toEqual(handling.names);
    await createProduct(bus, target());
    await Promise.all([handling.close(), handling.close()]);
    for (const name of handling.names) {
      const error = await rejection(
        (bus as CommandBus).dispatch(createCommand(name, {}, { aggregate: target() }), {
          sync: true,
        }),
      );
      expect(isGoesError(error, 'COMMAND_NO_HANDLER')).toBe(true);
    }
    {
      await using _again = await handleAggregateCommands(bus, products, {
        commands: Product.commands,
      });
      await createProduct(bus, target());
    }
    const error = await rejection(
      bus.dispatch(
        createCommand('product.create', { sku: 'S', name: 'N' }, { aggregate: target() }),
        {
          sync: true,
        },
      ),
    );
    expect(isGoesError(error, 'COMMAND_NO_HANDLER')).toBe(true);
  });

  it('closes when its signal aborts', async () => {
    const { bus, products } = setup();
    const controller = new AbortController();
    await handleAggregateCommands(bus, products, {
      commands: Product.commands,
      signal: controller.signal,
    });
    await createProduct(bus, target());
    controller.abort();
    // The registration closes in the background; poll until the bus no longer has the handler.
    const deadline = Date.now() + 2_000;
    let outcome: unknown;
    do {
      outcome = await bus
        .dispatch(
          createCommand('product.create', { sku: 'S', name: 'N' }, { aggregate: target() }),
          {
            sync: true,
          },
        )
        .catch((error: unknown) => error);
    } while (!isGoesError(outcome, 'COMMAND_NO_HANDLER') && Date.now() < deadline);
    expect(isGoesError(outcome, 'COMMAND_NO_HANDLER')).toBe(true);
  });

  it('runs commands concurrently up to `concurrency`', async () => {
    const { bus, products } = setup();
    const gate = barrier(3); // passes only when 3 handlers are inside at once
    await using _handling = await handleAggregateCommands(bus, products, {
      commands: Product.commands,
      before: { 'product.create': () => gate() },
      concurrency: 3,
    });
    await Promise.all([target(), target(), target()].map((ref) => createProduct(bus, ref)));
  });

  it('saves nothing when the execution timeout ends the command while the handler runs', async () => {
    const { bus, products, store } = setup();
    let ran = false;
    await using _handling = await handleAggregateCommands(bus, products, {
      commands: {
        ...Product.commands,
        'product.create': (product, { payload }) => {
          ran = true;
          product.create(payload.sku, payload.name);
        },
      },
      before: {
        'product.create': (_product, { signal }) =>
          new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve())),
      },
    });
    const ref = target();
    const error = await rejection(
      bus.dispatch(createCommand('product.create', { sku: 'S', name: 'N' }, { aggregate: ref }), {
        sync: true,
        timeout: 20,
      }),
    );
    expect(isGoesError(error, 'COMMAND_EXECUTION_TIMEOUT')).toBe(true);
    await until(() => ran, 'the handler to run after the hook');
    await new Promise((resolve) => setTimeout(resolve, 10)); // let the aborted save settle
    expect(await drain(store.query(query().aggregateId(ref.id)))).toEqual([]);
  });

  it('takes the aggregate name from the typed repository: commands for it only', async () => {
    const { bus, repository } = setup();
    const counters = repository.typed((id) => new Counter(id));
    type CounterCommands = { 'counter.increment': CommandSpec<{ by: number }, number> };
    const commands: CommandHandlerMap<CounterCommands, Counter> = {
      'counter.increment': (counter, { payload }) => {
        counter.increment(payload.by);
        return counter.count;
      },
    };
    const loose: CommandBus = bus;
    await using _handling = await handleAggregateCommands(loose, counters, { commands });
    const id = uuidv7();
    const one = createCommand(
      'counter.increment',
      { by: 2 },
      { aggregate: { name: 'counter', id } },
    );
    await expect(loose.dispatch(one, { sync: true })).resolves.toBe(2);
    const wrong = createCommand(
      'counter.increment',
      { by: 2 },
      { aggregate: { name: 'product', id } },
    );
    expect(
      isCommandError(await rejection(loose.dispatch(wrong, { sync: true })), 'INVALID_COMMAND'),
    ).toBe(true);
  });
});

describe('handleBuiltinCommands', () => {
  async function deleting(options: BuiltinCommandsOptions, store?: EventStore) {
    const world = setup(store);
    await using_(
      await handleAggregateCommands(world.bus, world.products, { commands: Product.commands }),
    );
    await using_(await handleBuiltinCommands(world.bus, world.repository, options));
    return world;
  }
  function using_(resource: { close(): Promise<void> }) {
    opened.push(resource);
  }
  async function subscribe(bus: EventBus, names: readonly string[]): Promise<Event[]> {
    const seen: Event[] = [];
    const subscription = await bus.subscribe(names);
    opened.push(subscription);
    void (async () => {
      for await (const event of subscription) seen.push(event);
    })();
    return seen;
  }

  it('refuses bad options, naming them', async () => {
    const { bus, repository } = setup();
    const cases: [unknown, string][] = [
      [{ publishEvents: {} }, 'needs a store, a bus, or both'],
      [{ publishEvents: { store: {} } }, 'options.publishEvents.store must be an event store'],
      [{ publishEvents: { bus: 'nats' } }, 'options.publishEvents.bus must be an event bus'],
      [{ publishEvents: 'yes' }, 'options.publishEvents must be { store?, bus? }'],
      [{ deleteEvent: 'goes.deleted' }, 'options.deleteEvent must be a function'],
      [{ aggregates: [] }, 'options.aggregates must be a non-empty list'],
      [{ aggregates: ['product', ''] }, 'options.aggregates[1] "" must be a non-empty string'],
    ];
    for (const [options, fragment] of cases) {
      const error = await rejection(handleBuiltinCommands(bus, repository, options as never));
      expect(isGoesError(error, 'INVALID_ARGUMENT')).toBe(true);
      expect((error as Error).message).toContain(fragment);
    }
    for (const [busArg, repositoryArg, fragment] of [
      [{}, repository, 'needs a command bus'],
      [bus, {}, 'needs a repository'],
    ] as const) {
      const error = await rejection(handleBuiltinCommands(busArg as never, repositoryArg as never));
      expect((error as Error).message).toContain(fragment);
    }
    // Nothing was registered by the refused calls.
    await expect(handleBuiltinCommands(bus, repository)).resolves.toBeDefined();
  });

  it('deletes without recording an event when publishEvents is not given (as goes)', async () => {
    const { bus, products, store } = await deleting({});
    const ref = target();
    await createProduct(bus, ref);
    await bus.dispatch(deleteAggregateCommand(ref), { sync: true });
    expect(await drain(store.query(query().aggregateId(ref.id)))).toEqual([]);
    expect(isGoesError(await rejection(products.fetch(ref.id)), 'AGGREGATE_NOT_FOUND')).toBe(true);
  });

  it('refuses aggregates outside `aggregates` and commands without a target with INVALID_COMMAND', async () => {
    const { bus, products } = await deleting({ aggregates: ['product'] });
    const ref = target();
    await createProduct(bus, ref);
    const foreign = await rejection(
      bus.dispatch(deleteAggregateCommand({ name: 'order', id: ref.id }), { sync: true }),
    );
    expect(isCommandError(foreign, 'INVALID_COMMAND')).toBe(true);
    expect((foreign as Error).message).toContain(
      'may not delete "order" aggregates here (allowed: "product")',
    );
    const untargeted = await rejection(
      bus.dispatch(createCommand('goes.command.aggregate.delete', {}), { sync: true }),
    );
    expect(isCommandError(untargeted, 'INVALID_COMMAND')).toBe(true);
    expect((untargeted as Error).message).toContain('no aggregate target');
    await bus.dispatch(deleteAggregateCommand(ref), { sync: true });
    expect(isGoesError(await rejection(products.fetch(ref.id)), 'AGGREGATE_NOT_FOUND')).toBe(true);
  });

  it('publishes on a bus only (not stored), also a custom event with any version (goes parity)', async () => {
    const events = createMemoryEventBus();
    opened.push(events);
    const seen = await subscribe(events, ['product.erased']);
    const { bus, store } = await deleting({
      publishEvents: { bus: events },
      deleteEvent: ({ aggregate, version }) =>
        createEvent(
          'product.erased',
          { was: version },
          { aggregate: { ...aggregate, version: 173 } },
        ),
    });
    const ref = target();
    await createProduct(bus, ref);
    await bus.dispatch(deleteAggregateCommand(ref), { sync: true });
    await until(() => seen.length === 1, 'the custom event');
    expect(seen[0]).toMatchObject({
      name: 'product.erased',
      data: { was: 1 },
      aggregate: { ...ref, version: 173 },
    });
    expect(await drain(store.query(query().aggregateId(ref.id)))).toEqual([]);
  });

  it('stores a custom version-0 event, and refuses a stored one with another version before deleting anything', async () => {
    const store = createMemoryEventStore();
    let version = 0;
    const { bus, products } = await deleting(
      {
        publishEvents: { store },
        deleteEvent: (deleted) =>
          createEvent(
            'product.erased',
            { was: deleted.version },
            { aggregate: { ...deleted.aggregate, version } },
          ),
      },
      store,
    );
    const ref = target();
    await createProduct(bus, ref);
    version = 5;
    const error = await rejection(bus.dispatch(deleteAggregateCommand(ref), { sync: true }));
    expect(isCommandError(error, 'INVALID_EVENT')).toBe(true);
    expect((error as Error).message).toContain('has aggregate version 5');
    expect((await products.fetch(ref.id)).version).toBe(1); // not deleted

    version = 0;
    await bus.dispatch(deleteAggregateCommand(ref), { sync: true });
    const stored = await drain(store.query(query().aggregateId(ref.id)));
    expect(stored.map((e) => [e.name, e.aggregate?.version, e.data])).toEqual([
      ['product.erased', 0, { was: 1 }],
    ]);
  });

  it('fails with AGGREGATE_DELETED_EVENT_FAILED (details: aggregate and version) when the record cannot be stored', async () => {
    const inner = createMemoryEventStore();
    let refuse = false;
    const store: EventStore = {
      insert: (events, options) =>
        refuse ? Promise.reject(new Error('disk full')) : inner.insert(events, options),
      find: (id, options) => inner.find(id, options),
      query: (q, options) => inner.query(q, options),
      delete: (events, options) => inner.delete(events, options),
      close: () => inner.close(),
      [Symbol.asyncDispose]: () => inner.close(),
    };
    const { bus, products } = await deleting({ publishEvents: { store } }, store);
    const ref = target();
    await createProduct(bus, ref);
    refuse = true;
    const error = await rejection(bus.dispatch(deleteAggregateCommand(ref), { sync: true }));
    expect(isCommandError(error, DELETED_EVENT_FAILED)).toBe(true);
    expect(error).toMatchObject({ details: { aggregate: ref, version: 1 } });
    expect((error as Error).message).toContain('was deleted at version 1');
    expect((error as Error).message).toContain('could not be stored: disk full');
    expect(isGoesError(await rejection(products.fetch(ref.id)), 'AGGREGATE_NOT_FOUND')).toBe(true);
  });

  it('succeeds when only the publish fails after the record was stored (the store is the source of truth)', async () => {
    const store = createMemoryEventStore();
    const failingBus: EventBus = {
      publish: () => Promise.reject(new Error('bus down')),
      subscribe: () => Promise.reject(new Error('bus down')),
      close: async () => {},
      [Symbol.asyncDispose]: async () => {},
    };
    const reported: [unknown, Event][] = [];
    const { bus } = await deleting(
      {
        publishEvents: {
          store,
          bus: failingBus,
          onPublishError: (error, event) => reported.push([error, event]),
        },
      },
      store,
    );
    const ref = target();
    await createProduct(bus, ref);
    await bus.dispatch(deleteAggregateCommand(ref), { sync: true });
    expect(reported).toHaveLength(1);
    const [[publishError, unpublished]] = reported as [[unknown, Event]];
    expect(publishError).toMatchObject({ message: 'bus down' });
    expect(unpublished).toMatchObject({ name: AGGREGATE_DELETED_EVENT, data: { version: 1 } });
    const stored = await drain(store.query(query().aggregateId(ref.id)));
    expect(stored.map((e) => e.name)).toEqual([AGGREGATE_DELETED_EVENT]);

    // Without a store, the publish is the only record: its failure fails the command.
    const alone = await deleting({ publishEvents: { bus: failingBus } });
    const other = target();
    await createProduct(alone.bus, other);
    const error = await rejection(
      alone.bus.dispatch(deleteAggregateCommand(other), { sync: true }),
    );
    expect(isCommandError(error, DELETED_EVENT_FAILED)).toBe(true);
    expect((error as Error).message).toContain('could not be published: bus down');
  });

  it('leaves an aggregate deleted by two concurrent delete commands with only deletion records', async () => {
    const store = createMemoryEventStore();
    const world = setup(store);
    using_(
      await handleAggregateCommands(world.bus, world.products, { commands: Product.commands }),
    );
    using_(
      await handleBuiltinCommands(world.bus, world.repository, {
        publishEvents: { store },
        concurrency: 2,
      }),
    );
    const ref = target();
    await createProduct(world.bus, ref);
    const outcomes = await Promise.allSettled([
      world.bus.dispatch(deleteAggregateCommand(ref), { sync: true }),
      world.bus.dispatch(deleteAggregateCommand(ref), { sync: true }),
    ]);
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') {
        expect(isCommandError(outcome.reason, 'AGGREGATE_NOT_FOUND')).toBe(true);
      }
    }
    expect(outcomes.some((o) => o.status === 'fulfilled')).toBe(true);
    const left = await drain(store.query(query().aggregateId(ref.id)));
    expect(left.length).toBeGreaterThan(0);
    for (const event of left) {
      expect(event).toMatchObject({
        name: AGGREGATE_DELETED_EVENT,
        aggregate: { version: 0 },
        data: { version: 1 },
      });
    }
  });

  it('aggregateDeletedEvent makes goes.command.aggregate.deleted { version } at version 0', () => {
    const ref = target();
    const event = aggregateDeletedEvent({ aggregate: ref, version: 7 });
    expect(event).toMatchObject({
      name: 'goes.command.aggregate.deleted',
      data: { version: 7 },
      aggregate: { ...ref, version: 0 },
    });
  });
});

describe('types', () => {
  it('types handler maps, hooks and results from the bus, and refuses buses typed without the commands', () => {
    // Compile-time checks: this function is type-checked, never run.
    const compileOnly = async (
      shop: CommandBus<ShopCommands>,
      productsOnly: CommandBus<ProductCommands>,
      others: CommandBus<{ 'order.place': CommandSpec<{ sku: string }, void> }>,
      untyped: CommandBus,
      products: TypedRepository<Product>,
      repository: Repository,
    ) => {
      await handleAggregateCommands(shop, products, { commands: Product.commands });
      await handleAggregateCommands(untyped, products, { commands: Product.commands });
      await handleAggregateCommands(shop, products, {
        commands: {
          'product.price': (product, { payload }) => ({ previous: product.cents + payload.cents }),
        },
        before: {
          '*': (_product, context) => {
            if (context.name === 'product.restock') {
              const units: number = context.payload.units;
              void units;
            }
          },
        },
        after: {
          'product.price': (_product, _context, result) => {
            const previous: number = result.previous;
            void previous;
          },
        },
      });
      // @ts-expect-error the bus does not carry the product commands
      await handleAggregateCommands(others, products, { commands: Product.commands });
      await handleAggregateCommands(shop, products, {
        // @ts-expect-error the result type of product.price is { previous: number }
        commands: { 'product.price': () => 'done' },
      });
      await handleAggregateCommands(shop, products, {
        commands: Product.commands,
        // @ts-expect-error no such command
        before: { 'product.rename': () => {} },
      });
      await handleBuiltinCommands(shop, repository);
      await handleBuiltinCommands(untyped, repository);
      const typedBuiltins: CommandBus<BuiltinCommands> = createLocalCommandBus<BuiltinCommands>();
      await handleBuiltinCommands(typedBuiltins, repository);
      // @ts-expect-error the bus is not typed for the built-in commands
      await handleBuiltinCommands(productsOnly, repository);
    };
    expect(typeof compileOnly).toBe('function');
  });
});
