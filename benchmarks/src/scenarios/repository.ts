/**
 * Repository scenarios (issue 3), in memory:
 * - R1: rehydrating an aggregate from 1,000 stored events through the typed repository, against
 *   a hand-written apply loop over the same events (the raw limit: no store, no iteration
 *   protocol, no validation). Goal: ≥ 1M events/s applied.
 * - R2: fetching a 10,000-event aggregate with a snapshot every 100 events, against the same
 *   fetch without snapshots; the ratio is the speed-up. Goal: ≥ 10×. R2b is the worst case of
 *   that schedule: 99 events after the newest snapshot.
 */
import {
  AggregateRoot,
  createMemorySnapshotStore,
  next,
  type SnapshotHooks,
  snapshotEvery,
} from '@goes/aggregate';
import { createMemoryEventStore, type Event, query, uuidv7 } from '@goes/event';
import { createRepository, type TypedRepository } from '@goes/repository';
import { drain } from '@goes/streams';
import { measure, type Scenario } from '../harness.js';

type OrderEvents = {
  'order.placed': { customerId: string; currency: string };
  'order.item_added': { sku: string; quantity: number; cents: number };
  'order.item_removed': { sku: string };
  'order.paid': { cents: number; method: string };
};

interface OrderState {
  customerId: string;
  currency: string;
  items: Record<string, { quantity: number; cents: number }>;
  total: number;
  paid: number;
}

class Order extends AggregateRoot<OrderEvents> implements SnapshotHooks<OrderState> {
  state: OrderState = { customerId: '', currency: '', items: {}, total: 0, paid: 0 };

  constructor(id: string) {
    super('order', id);
    this.applyWith({
      'order.placed': (event) => {
        this.state.customerId = event.data.customerId;
        this.state.currency = event.data.currency;
      },
      'order.item_added': (event) => {
        const { sku, quantity, cents } = event.data;
        this.state.items[sku] = { quantity, cents };
        this.state.total += quantity * cents;
      },
      'order.item_removed': (event) => {
        const item = this.state.items[event.data.sku];
        if (item) this.state.total -= item.quantity * item.cents;
        delete this.state.items[event.data.sku];
      },
      'order.paid': (event) => {
        this.state.paid += event.data.cents;
      },
    });
  }

  place(customerId: string) {
    next(this, 'order.placed', { customerId, currency: 'EUR' });
  }

  /** A realistic mix of events, ~150–200 B of data each. */
  work(i: number) {
    const sku = `SKU-${String(i % 50).padStart(5, '0')}`;
    if (i % 10 === 9) next(this, 'order.paid', { cents: 1_000 + i, method: 'card' });
    else if (i % 7 === 6) next(this, 'order.item_removed', { sku });
    else next(this, 'order.item_added', { sku, quantity: 1 + (i % 3), cents: 250 + (i % 100) });
  }

  snapshotState(): OrderState {
    return this.state;
  }

  restoreSnapshot(state: OrderState): void {
    this.state = state;
  }
}

/** The raw twin of Order's appliers: the same state changes in one switch, no framework. */
function rawApply(events: readonly Event[]): OrderState {
  const state: OrderState = { customerId: '', currency: '', items: {}, total: 0, paid: 0 };
  for (const event of events) {
    switch (event.name) {
      case 'order.placed': {
        const data = event.data as OrderEvents['order.placed'];
        state.customerId = data.customerId;
        state.currency = data.currency;
        break;
      }
      case 'order.item_added': {
        const { sku, quantity, cents } = event.data as OrderEvents['order.item_added'];
        state.items[sku] = { quantity, cents };
        state.total += quantity * cents;
        break;
      }
      case 'order.item_removed': {
        const { sku } = event.data as OrderEvents['order.item_removed'];
        const item = state.items[sku];
        if (item) state.total -= item.quantity * item.cents;
        delete state.items[sku];
        break;
      }
      case 'order.paid':
        state.paid += (event.data as OrderEvents['order.paid']).cents;
        break;
    }
  }
  return state;
}

/** Writes an order of `count` events through the repository, `perSave` events per save. */
async function writeOrder(orders: TypedRepository<Order>, count: number, perSave = 100) {
  const id = uuidv7();
  for (let version = 0; version < count; ) {
    const order = await orders.use(id, (o) => {
      if (o.version === 0) o.place(uuidv7());
      const until = Math.min(count, o.version + perSave);
      while (o.currentVersion < until) o.work(o.currentVersion);
    });
    version = order.version;
  }
  return id;
}

const R1_EVENTS = 1_000;
const R1_LOADS = 200;
const R2_EVENTS = 10_000;
const R2_LOADS = 20;
/** Fetches from a snapshot are ~100× faster; more of them keep the measured time long enough. */
const R2_SNAPSHOT_LOADS = 400;

const store = createMemoryEventStore();
const snapshots = createMemorySnapshotStore();
const plain = createRepository({ store }).typed((id) => new Order(id));
const snapshotted = createRepository({
  store,
  snapshots: { store: snapshots, schedule: snapshotEvery(100) },
}).typed((id) => new Order(id));

let r1Id = '';
let r1Events: Event[] = [];
let r2Id = '';
let r2bId = '';

function check(order: Order, expected: number) {
  if (order.version !== expected)
    throw new Error(`loaded version ${order.version}, want ${expected}`);
}

export const scenarios: Scenario[] = [
  {
    id: 'R1',
    backend: 'memory',
    title:
      'rehydrate a 1,000-event aggregate via typed repository fetch vs hand-written apply loop',
    unit: 'events',
    goal: '≥ 1M events/s applied',
    async setup() {
      r1Id = await writeOrder(plain, R1_EVENTS);
      r1Events = await drain(store.query(query().aggregate('order', r1Id)));
      if (r1Events.length !== R1_EVENTS) throw new Error(`wrote ${r1Events.length} events`);
      const state = rawApply(r1Events);
      const order = await plain.fetch(r1Id);
      if (JSON.stringify(state) !== JSON.stringify(order.state))
        throw new Error('raw and framework differ');
    },
    async framework() {
      return measure(R1_EVENTS * R1_LOADS, async () => {
        for (let i = 0; i < R1_LOADS; i++) check(await plain.fetch(r1Id), R1_EVENTS);
      });
    },
    async raw() {
      return measure(R1_EVENTS * R1_LOADS, async () => {
        for (let i = 0; i < R1_LOADS; i++) {
          if (rawApply(r1Events).customerId === '') throw new Error('not applied');
          await Promise.resolve();
        }
      });
    },
  },
  {
    id: 'R2',
    backend: 'memory',
    title:
      'fetch a 10,000-event aggregate: snapshot every 100 (framework) vs no snapshots (raw column)',
    unit: 'fetches',
    goal: 'ratio = speed-up ≥ 10×',
    pairs: 7,
    async setup() {
      r2Id = await writeOrder(snapshotted, R2_EVENTS);
      const latest = await snapshots.latest('order', r2Id);
      if (latest.version !== R2_EVENTS) throw new Error(`latest snapshot at ${latest.version}`);
    },
    async framework() {
      return measure(R2_SNAPSHOT_LOADS, async () => {
        for (let i = 0; i < R2_SNAPSHOT_LOADS; i++) check(await snapshotted.fetch(r2Id), R2_EVENTS);
      });
    },
    async raw() {
      return measure(R2_LOADS, async () => {
        for (let i = 0; i < R2_LOADS; i++) check(await plain.fetch(r2Id), R2_EVENTS);
      });
    },
  },
  {
    id: 'R2b',
    backend: 'memory',
    title:
      'fetch a 10,099-event aggregate (99 events after the newest snapshot): snapshots vs none',
    unit: 'fetches',
    goal: 'speed-up, worst case of every(100)',
    pairs: 7,
    async setup() {
      r2bId = await writeOrder(snapshotted, R2_EVENTS + 99);
      const latest = await snapshots.latest('order', r2bId);
      if (latest.version !== R2_EVENTS) throw new Error(`latest snapshot at ${latest.version}`);
    },
    async framework() {
      return measure(R2_SNAPSHOT_LOADS, async () => {
        for (let i = 0; i < R2_SNAPSHOT_LOADS; i++) {
          check(await snapshotted.fetch(r2bId), R2_EVENTS + 99);
        }
      });
    },
    async raw() {
      return measure(R2_LOADS, async () => {
        for (let i = 0; i < R2_LOADS; i++) check(await plain.fetch(r2bId), R2_EVENTS + 99);
      });
    },
  },
];
