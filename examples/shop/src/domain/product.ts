import { AggregateRoot, next, type SnapshotHooks } from '@goes/aggregate';
import type { CommandHandlerMap } from '@goes/command';
import type { ShopCommands } from '../commands/commands.js';
import type { ProductEvents } from './events.js';
import { reject } from './rejections.js';

/** What a product snapshot holds: everything its events built. */
export interface ProductState {
  readonly name: string;
  readonly priceCents: number;
  readonly stock: number;
  readonly reservations: Readonly<Record<string, number>>;
}

/**
 * A product: its name, price and stock. Orders reserve units and cancelled orders release them;
 * the product remembers what each order holds, so a reservation or a release is never applied
 * twice. Products take many events (one per order line), so the repository snapshots them.
 */
export class Product extends AggregateRoot<ProductEvents> implements SnapshotHooks<ProductState> {
  /**
   * The commands a product handles itself (goes' aggregate-owned handlers): the repository loads
   * the product a command targets, runs the method and saves it (`handleAggregateCommands`).
   */
  static readonly commands: CommandHandlerMap<ShopCommands, Product> = {
    'product.create': (product, { payload }) =>
      product.create(payload.name, payload.priceCents, payload.stock),
    'product.change_price': (product, { payload }) => product.changePrice(payload.priceCents),
    'product.restock': (product, { payload }) => product.restock(payload.quantity),
  };

  name = '';
  priceCents = 0;
  /** Units available for new orders. */
  stock = 0;
  /** Units held per order id. */
  reservations: Record<string, number> = {};

  constructor(id: string) {
    super('product', id);
    this.applyWith({
      'product.created': ({ data }) => {
        this.name = data.name;
        this.priceCents = data.priceCents;
        this.stock = data.stock;
      },
      'product.price_changed': ({ data }) => {
        this.priceCents = data.priceCents;
      },
      'product.restocked': ({ data }) => {
        this.stock += data.quantity;
      },
      'product.reserved': ({ data }) => {
        this.stock -= data.quantity;
        this.reservations[data.orderId] = data.quantity;
      },
      'product.released': ({ data }) => {
        this.stock += data.quantity;
        delete this.reservations[data.orderId];
      },
    });
  }

  /** True once the product was created. */
  get exists(): boolean {
    return this.currentVersion > 0;
  }

  create(name: string, priceCents: number, stock: number): void {
    if (this.exists) throw reject('PRODUCT_EXISTS', `product ${this.id} exists already`);
    if (name.trim() === '') throw reject('INVALID_NAME', 'a product needs a name');
    checkPrice(priceCents);
    checkQuantity(stock, true);
    next(this, 'product.created', { name, priceCents, stock });
  }

  changePrice(priceCents: number): void {
    this.#mustExist();
    checkPrice(priceCents);
    if (priceCents !== this.priceCents) next(this, 'product.price_changed', { priceCents });
  }

  restock(quantity: number): void {
    this.#mustExist();
    checkQuantity(quantity, false);
    next(this, 'product.restocked', { quantity });
  }

  /** Sets units aside for an order; a second reservation for the same order changes nothing. */
  reserve(orderId: string, quantity: number): void {
    this.#mustExist();
    checkQuantity(quantity, false);
    if (this.reservations[orderId] !== undefined) return;
    if (quantity > this.stock) {
      throw reject('OUT_OF_STOCK', `${this.name}: ${quantity} wanted, ${this.stock} in stock`, {
        productId: this.id,
        wanted: quantity,
        available: this.stock,
      });
    }
    next(this, 'product.reserved', { orderId, quantity });
  }

  /** Puts an order's units back; releasing an order that holds none changes nothing. */
  release(orderId: string): void {
    const quantity = this.reservations[orderId];
    if (quantity !== undefined) next(this, 'product.released', { orderId, quantity });
  }

  snapshotState(): ProductState {
    return {
      name: this.name,
      priceCents: this.priceCents,
      stock: this.stock,
      reservations: { ...this.reservations },
    };
  }

  restoreSnapshot(state: ProductState): void {
    this.name = state.name;
    this.priceCents = state.priceCents;
    this.stock = state.stock;
    this.reservations = { ...state.reservations };
  }

  #mustExist(): void {
    if (!this.exists) throw reject('UNKNOWN_PRODUCT', `there is no product ${this.id}`);
  }
}

function checkPrice(priceCents: number): void {
  if (!Number.isSafeInteger(priceCents) || priceCents <= 0) {
    throw reject('INVALID_PRICE', `price ${priceCents} must be a positive number of cents`);
  }
}

function checkQuantity(quantity: number, zeroAllowed: boolean): void {
  if (!Number.isSafeInteger(quantity) || quantity < (zeroAllowed ? 0 : 1)) {
    throw reject('INVALID_QUANTITY', `quantity ${quantity} must be a whole number of units`);
  }
}
