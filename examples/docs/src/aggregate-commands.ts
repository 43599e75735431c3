/** The aggregate-owned handlers of docs/guides/commands.md, run by ../test/commands.test.ts. */
// #region aggregate-owned
import { AggregateRoot, next } from '@goes/aggregate';
import {
  type BuiltinCommands,
  type CommandHandlerMap,
  type CommandSpec,
  createCommand,
  createLocalCommandBus,
  deleteAggregateCommand,
} from '@goes/command';
import { createMemoryEventBus, createMemoryEventStore, uuidv7, withBus } from '@goes/event';
import { createRepository, handleAggregateCommands, handleBuiltinCommands } from '@goes/repository';

type CartCommands = {
  'cart.add': CommandSpec<{ sku: string; quantity: number }, { items: number }>;
  'cart.clear': CommandSpec<Record<string, never>, void>;
};
type CartEvents = {
  'cart.item_added': { sku: string; quantity: number };
  'cart.cleared': Record<string, never>;
};

class Cart extends AggregateRoot<CartEvents> {
  items = 0;

  // The commands the cart handles itself: (aggregate, command context) → result.
  static readonly commands: CommandHandlerMap<CartCommands & BuiltinCommands, Cart> = {
    'cart.add': (cart, { payload }) => cart.add(payload.sku, payload.quantity),
    'cart.clear': (cart) => cart.clear(),
  };

  constructor(id: string) {
    super('cart', id);
    this.applyWith({
      'cart.item_added': ({ data }) => {
        this.items += data.quantity;
      },
      'cart.cleared': () => {
        this.items = 0;
      },
    });
  }

  add(sku: string, quantity: number) {
    if (quantity < 1) throw new RangeError(`quantity ${quantity} must be at least 1`);
    next(this, 'cart.item_added', { sku, quantity });
    return { items: this.items };
  }

  clear() {
    if (this.items > 0) next(this, 'cart.cleared', {});
  }
}

export async function cartCommands() {
  const store = withBus(createMemoryEventStore(), createMemoryEventBus());
  const repository = createRepository({ store });
  const bus = createLocalCommandBus<CartCommands & BuiltinCommands>();

  // One bus handler per command of the map: check the target, repository.use → method → save,
  // retrying on version conflicts with a fresh cart; the method's result goes to the dispatcher.
  await handleAggregateCommands(
    bus,
    repository.typed((id) => new Cart(id)),
    {
      commands: Cart.commands,
      before: { '*': (cart, { name }) => console.log(`${name} on cart v${cart.version}`) },
      concurrency: 4,
    },
  );
  // goes' built-in delete command, for every aggregate of the repository.
  await handleBuiltinCommands(bus, repository, { publishEvents: { store } });

  const cart = { aggregate: { name: 'cart', id: uuidv7() } };
  const { items } = await bus.dispatch(
    createCommand('cart.add', { sku: 'A-1', quantity: 2 }, cart),
    { sync: true },
  ); // items: 2
  await bus.dispatch(deleteAggregateCommand(cart.aggregate), { sync: true });
  // #endregion aggregate-owned
  await bus.close();
  return { items, stored: await store.query({ aggregateIds: [cart.aggregate.id] }) };
}
