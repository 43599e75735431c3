import { AggregateRoot, next } from '@goes/aggregate';
import type { CommandHandlerMap } from '@goes/command';
import type { ShopCommands } from '../commands/commands.js';
import type { CustomerEvents } from './events.js';
import { reject } from './rejections.js';

// Deliberately simple: one "@", something before it, a dot after it.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** A customer: a name and an e-mail address (which the customer lookup maps back to the id). */
export class Customer extends AggregateRoot<CustomerEvents> {
  /** The commands a customer handles itself (see `Product.commands`). */
  static readonly commands: CommandHandlerMap<ShopCommands, Customer> = {
    'customer.register': (customer, { payload }) => customer.register(payload.name, payload.email),
    'customer.change_email': (customer, { payload }) => customer.changeEmail(payload.email),
  };

  name = '';
  email = '';

  constructor(id: string) {
    super('customer', id);
    this.applyWith({
      'customer.registered': ({ data }) => {
        this.name = data.name;
        this.email = data.email;
      },
      'customer.email_changed': ({ data }) => {
        this.email = data.email;
      },
    });
  }

  /** True once the customer registered. */
  get exists(): boolean {
    return this.currentVersion > 0;
  }

  register(name: string, email: string): void {
    if (this.exists) throw reject('CUSTOMER_EXISTS', `customer ${this.id} is registered already`);
    if (name.trim() === '') throw reject('INVALID_NAME', 'a customer needs a name');
    next(this, 'customer.registered', { name, email: normalizeEmail(email) });
  }

  changeEmail(email: string): void {
    if (!this.exists) throw reject('UNKNOWN_CUSTOMER', `there is no customer ${this.id}`);
    const normalized = normalizeEmail(email);
    if (normalized !== this.email) next(this, 'customer.email_changed', { email: normalized });
  }
}

/** E-mail addresses are compared in lower case. */
export function normalizeEmail(email: string): string {
  const normalized = email.trim().toLowerCase();
  if (!EMAIL.test(normalized)) {
    throw reject('INVALID_EMAIL', `${JSON.stringify(email)} is not an e-mail address`);
  }
  return normalized;
}
