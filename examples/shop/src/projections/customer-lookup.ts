import { AGGREGATE_DELETED_EVENT, type BuiltinEvents } from '@goes/command';
import type { EventBus, EventStore } from '@goes/event';
import { createLookup, type Lookup } from '@goes/projection';
import type { CustomerEvents } from '../domain/events.js';

/**
 * The customer lookup: e-mail address → customer id (and the customer's name), kept from the
 * customer events by the projection layer's lookup table. The command handlers ask it whether an
 * e-mail address is taken; clients ask it whose address an e-mail is.
 *
 * It is eventually consistent: two registrations with the same address that run at the same
 * moment can both pass the check. A shop that must never allow that reserves the address in an
 * aggregate of its own (e.g. keyed by a UUIDv5 of the address) inside the same command.
 */
export function createCustomerLookup(store: EventStore, bus: EventBus): Lookup {
  return createLookup<CustomerEvents & BuiltinEvents>(store, bus, {
    'customer.registered': (event, table) => {
      table.provide('email', event.data.email);
      table.provide('name', event.data.name);
    },
    'customer.email_changed': (event, table) => table.provide('email', event.data.email),
    // A deleted aggregate (the built-in delete command) frees its address.
    [AGGREGATE_DELETED_EVENT]: (event, table) => {
      if (event.aggregate?.name === 'customer') table.remove('email', 'name');
    },
  });
}
