/**
 * In-memory event store scenarios (issue: foundation). Raw twins: pushing into and scanning a
 * plain array with a sync loop — the physical limit of the in-memory backend.
 */
import { createEvent, createMemoryEventStore, type Event, query, uuidv7 } from '@goes/event';
import { measure, type Scenario } from '../harness.js';

const COUNT = 200_000;
const names = ['order.placed', 'order.paid', 'order.shipped', 'order.cancelled'];

function makeEvents(count: number): Event[] {
  const events: Event[] = [];
  while (events.length < count) {
    const id = uuidv7();
    for (let v = 1; v <= 10 && events.length < count; v++) {
      events.push(
        createEvent(
          names[v % names.length] as string,
          { orderId: id, amount: v * 100, currency: 'EUR' },
          { aggregate: { name: 'order', id, version: v } },
        ),
      );
    }
  }
  return events;
}

const events = makeEvents(COUNT);
const paid = events.filter((e) => e.name === 'order.paid').length;
const store = createMemoryEventStore();

export const scenarios: Scenario[] = [
  {
    id: 'M1a',
    backend: 'memory',
    title: 'append 200k events in batches of 100 (version-checked) vs array push',
    unit: 'events',
    async framework() {
      const s = createMemoryEventStore();
      return measure(COUNT, async () => {
        for (let i = 0; i < events.length; i += 100) await s.insert(events.slice(i, i + 100));
      });
    },
    async raw() {
      return measure(COUNT, async () => {
        const log: Event[] = [];
        for (let i = 0; i < events.length; i += 100) {
          const batch = events.slice(i, i + 100);
          for (const e of batch) log.push({ ...e, position: log.length + 1 });
          await Promise.resolve();
        }
      });
    },
  },
  {
    id: 'M1b',
    backend: 'memory',
    title: 'query stream 200k events (all, position order) vs sync array loop',
    unit: 'events',
    goal: '≥ 5M events/s',
    async setup() {
      for (let i = 0; i < events.length; i += 1000) await store.insert(events.slice(i, i + 1000));
    },
    async framework() {
      let n = 0;
      const m = await measure(COUNT, async () => {
        for await (const _ of store.query({})) n++;
      });
      if (n !== COUNT) throw new Error(`expected ${COUNT} events, got ${n}`);
      return m;
    },
    async raw() {
      let n = 0;
      const m = await measure(COUNT, () => {
        for (const e of events) if (e) n++;
      });
      if (n !== COUNT) throw new Error(`expected ${COUNT} events, got ${n}`);
      return m;
    },
  },
  {
    id: 'M1c',
    backend: 'memory',
    title: 'query by name (a fifth of 200k) vs sync filter loop',
    unit: 'events',
    async framework() {
      let n = 0;
      const m = await measure(paid, async () => {
        for await (const _ of store.query(query().name('order.paid'))) n++;
      });
      if (n !== paid) throw new Error(`expected ${paid}, got ${n}`);
      return m;
    },
    async raw() {
      let n = 0;
      const m = await measure(paid, () => {
        for (const e of events) if (e.name === 'order.paid') n++;
      });
      if (n !== paid) throw new Error(`expected ${paid}, got ${n}`);
      return m;
    },
  },
];
