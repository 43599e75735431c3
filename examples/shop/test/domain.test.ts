import { given } from '@goes/testing';
import { describe, it } from '@jest/globals';
import { Customer } from '../src/domain/customer.js';
import { Order } from '../src/domain/order.js';
import { Product } from '../src/domain/product.js';

const id = '01a21e4e-9312-7352-a684-a25dc801f618';
const orderId = '01a21e4e-9312-7352-a684-a25dc801f619';
const created = {
  name: 'product.created',
  data: { name: 'Mouse', priceCents: 2_999, stock: 5 },
} as const;

describe('Product', () => {
  it('is created once', async () => {
    await given(() => new Product(id))
      .when((p) => p.create('Mouse', 2_999, 5))
      .thenRaised(created);
    await given(() => new Product(id), created)
      .when((p) => p.create('Mouse', 2_999, 5))
      .thenThrew('PRODUCT_EXISTS');
  });

  it('refuses prices and quantities that are not positive whole numbers', async () => {
    await given(() => new Product(id))
      .when((p) => p.create('Mouse', 0, 5))
      .thenThrew('INVALID_PRICE');
    await given(() => new Product(id), created)
      .when((p) => p.restock(1.5))
      .thenThrew('INVALID_QUANTITY');
    await given(() => new Product(id), created)
      .when((p) => p.changePrice(-1))
      .thenThrew('INVALID_PRICE');
  });

  it('reserves stock for an order once, and refuses more than is in stock', async () => {
    await given(() => new Product(id), created)
      .when((p) => p.reserve(orderId, 3))
      .thenRaised({ name: 'product.reserved', data: { orderId, quantity: 3 } });
    await given(() => new Product(id), created, {
      name: 'product.reserved',
      data: { orderId, quantity: 3 },
    })
      .when((p) => p.reserve(orderId, 3))
      .thenNothing();
    await given(() => new Product(id), created)
      .when((p) => p.reserve(orderId, 6))
      .thenThrew('OUT_OF_STOCK');
  });

  it('releases what an order holds, once', async () => {
    const reserved = { name: 'product.reserved', data: { orderId, quantity: 2 } } as const;
    await given(() => new Product(id), created, reserved)
      .when((p) => p.release(orderId))
      .thenRaised({ name: 'product.released', data: { orderId, quantity: 2 } });
    await given(() => new Product(id), created, reserved, {
      name: 'product.released',
      data: { orderId, quantity: 2 },
    })
      .when((p) => p.release(orderId))
      .thenNothing();
  });

  it('refuses commands for a product that does not exist', async () => {
    await given(() => new Product(id))
      .when((p) => p.reserve(orderId, 1))
      .thenThrew('UNKNOWN_PRODUCT');
  });

  it('does not raise a price change to the same price', async () => {
    await given(() => new Product(id), created)
      .when((p) => p.changePrice(2_999))
      .thenNothing();
  });
});

describe('Customer', () => {
  it('registers with a normalized e-mail address', async () => {
    await given(() => new Customer(id))
      .when((c) => c.register('Ada', ' ADA@Example.com '))
      .thenRaised({ name: 'customer.registered', data: { name: 'Ada', email: 'ada@example.com' } });
  });

  it('refuses an address that is not one', async () => {
    await given(() => new Customer(id))
      .when((c) => c.register('Ada', 'ada-at-example'))
      .thenThrew('INVALID_EMAIL');
  });
});

describe('Order', () => {
  const line = { productId: id, name: 'Mouse', quantity: 2, unitPriceCents: 2_999 };

  it('is placed with its total', async () => {
    await given(() => new Order(orderId))
      .when((o) => o.place(id, [line]))
      .thenRaised({
        name: 'order.placed',
        data: { customerId: id, lines: [line], totalCents: 5_998 },
      });
  });

  it('is cancelled once and cannot be placed again', async () => {
    const placed = {
      name: 'order.placed',
      data: { customerId: id, lines: [line], totalCents: 5_998 },
    } as const;
    await given(() => new Order(orderId), placed)
      .when((o) => o.cancel('too late'))
      .thenRaised({ name: 'order.cancelled', data: { reason: 'too late' } });
    await given(() => new Order(orderId), placed, {
      name: 'order.cancelled',
      data: { reason: 'too late' },
    })
      .when((o) => o.cancel('again'))
      .thenNothing();
    await given(() => new Order(orderId), placed)
      .when((o) => o.place(id, [line]))
      .thenThrew('ORDER_EXISTS');
  });

  it('refuses an empty order', async () => {
    await given(() => new Order(orderId))
      .when((o) => o.place(id, []))
      .thenThrew('EMPTY_ORDER');
  });
});
