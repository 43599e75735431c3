/**
 * Projection scenarios (issue: projections). A counting projection catches up over 100,000
 * in-memory events through the framework (a continuous schedule's startup job: store read,
 * progress check, guard, apply) against the raw loop over the same store read, and against a
 * synchronous loop over the events in an array (the physical limit, for reference).
 */
import {
  createEvent,
  createMemoryEventBus,
  createMemoryEventStore,
  type Event,
  uuidv7,
} from '@goes/event';
import { continuously, createJob, Progressor, type Target } from '@goes/projection';
import { measure, type Scenario } from '../harness.js';

const COUNT = 100_000;
const names = ['order.placed', 'order.paid', 'order.shipped', 'order.delivered'];

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

/** The counting projection: progress-aware, so the framework does its full per-event work. */
class Counter extends Progressor implements Target {
  count = 0;
  applyEvent(): void {
    this.count++;
  }
}

const events = makeEvents(COUNT);
const store = createMemoryEventStore();
const bus = createMemoryEventBus();
const q = { names };

let filled: Promise<void> | undefined;
/** Fills the shared store once, whichever scenario runs first (the filter may skip some). */
function fillStore(): Promise<void> {
  filled ??= (async () => {
    for (let i = 0; i < events.length; i += 1000) await store.insert(events.slice(i, i + 1000));
  })();
  return filled;
}

function check(n: number, expected = COUNT): void {
  if (n !== expected) throw new Error(`expected ${expected} events, got ${n}`);
}

async function rawLoop(): Promise<number> {
  let count = 0;
  for await (const _ of store.query(q)) count++;
  return count;
}

export const scenarios: Scenario[] = [
  {
    id: 'P1a',
    backend: 'memory',
    title:
      'projection catch-up, 100k events, counting projection (schedule startup) vs raw store loop',
    unit: 'events',
    goal: '≥ 0.5×',
    pairs: 9,
    warmups: 8,
    setup: fillStore,
    async framework() {
      const counter = new Counter();
      const schedule = continuously(bus, store, names);
      let subscription: Awaited<ReturnType<typeof schedule.subscribe>> | undefined;
      const m = await measure(COUNT, async () => {
        subscription = await schedule.subscribe(async (job) => void (await job.apply(counter)), {
          startup: true,
        });
      });
      await subscription?.close();
      check(counter.count);
      return m;
    },
    async raw() {
      let n = 0;
      const m = await measure(COUNT, async () => {
        n = await rawLoop();
      });
      check(n);
      return m;
    },
  },
  {
    id: 'P1b',
    backend: 'memory',
    title: 'projection catch-up, 100k events (job.apply) vs sync loop over an array (reference)',
    unit: 'events',
    setup: fillStore,
    async framework() {
      const counter = new Counter();
      const m = await measure(COUNT, async () => {
        const job = createJob(store, { query: q });
        await job.apply(counter);
        job.close();
      });
      check(counter.count);
      return m;
    },
    async raw() {
      let n = 0;
      const m = await measure(COUNT, () => {
        for (const e of events) if (e) n++;
      });
      check(n);
      return m;
    },
  },
  {
    id: 'P1c',
    backend: 'memory',
    title: '5 counting projections in one job (one cached read) vs 5 raw store loops',
    unit: 'events',
    goal: '> 1× (the job reads the store once)',
    setup: fillStore,
    async framework() {
      const counters = Array.from({ length: 5 }, () => new Counter());
      const m = await measure(5 * COUNT, async () => {
        const job = createJob(store, { query: q });
        for (const counter of counters) await job.apply(counter);
        job.close();
      });
      for (const counter of counters) check(counter.count);
      return m;
    },
    async raw() {
      let n = 0;
      const m = await measure(5 * COUNT, async () => {
        for (let i = 0; i < 5; i++) n += await rawLoop();
      });
      check(n, 5 * COUNT);
      return m;
    },
  },
];
