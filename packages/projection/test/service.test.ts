import { createRegistry } from '@goes/codec';
import {
  createEvent,
  createMemoryEventBus,
  createMemoryEventStore,
  type EventBus,
  isGoesError,
  query,
  uuidv7,
  withBus,
} from '@goes/event';
import { afterEach, describe, expect, it } from '@jest/globals';
import {
  continuously,
  createProjectionService,
  type Job,
  type ProjectionService,
  registerProjectionEvents,
  type ScheduleSubscription,
  TRIGGERED_EVENT,
  triggerFromJson,
  triggerToJson,
} from '../src/index.js';
import { insertAll, makeEvents, names, Recorder, tick } from './helpers.js';

const cleanup: (ScheduleSubscription | ProjectionService)[] = [];
afterEach(async () => {
  for (const resource of cleanup.splice(0)) await resource.close();
});

/** A bus that round-trips every event through a strict JSON codec, as a network bus would. */
function codecBus(): EventBus {
  const codec = registerProjectionEvents(createRegistry({ strict: true }));
  return createMemoryEventBus({ codec });
}

async function scheduled(bus: EventBus) {
  const placed = names().name('placed');
  const raw = createMemoryEventStore();
  const store = withBus(raw, bus);
  await insertAll(raw, makeEvents(placed, 5)); // stored before anyone listens: not published
  const schedule = continuously(bus, store, [placed]);
  const jobs: Job[] = [];
  const waiters: (() => void)[] = [];
  const counter = new Recorder();
  const subscription = await schedule.subscribe(async (job) => {
    jobs.push(job);
    await job.apply(counter);
    for (const wake of waiters.splice(0)) wake();
  });
  cleanup.push(subscription);
  const nextJob = () => new Promise<void>((resolve) => waiters.push(resolve));
  return { schedule, jobs, counter, nextJob, placed };
}

describe('projection service', () => {
  it('fails with UnhandledTriggerError when no service has the schedule', async () => {
    const bus = codecBus();
    const running = createProjectionService(bus, { triggerTimeout: 50 });
    await running.start();
    cleanup.push(running);
    const error = await createProjectionService(bus, { triggerTimeout: 50 })
      .trigger('nobody')
      .catch((e: unknown) => e);
    expect(isGoesError(error, 'UNHANDLED_TRIGGER')).toBe(true);
    expect((error as Error).message).toContain('"nobody"');
  });

  it('fails with UnhandledTriggerError when the service that has it is not running', async () => {
    const bus = codecBus();
    const { schedule } = await scheduled(bus);
    createProjectionService(bus, { schedules: { orders: schedule } }); // never started
    await expect(
      createProjectionService(bus, { triggerTimeout: 50 }).trigger('orders'),
    ).rejects.toMatchObject({ code: 'UNHANDLED_TRIGGER' });
  });

  it('triggers a schedule of a running service over the bus', async () => {
    const bus = codecBus();
    const { schedule, jobs, counter, nextJob } = await scheduled(bus);
    const service = createProjectionService(bus);
    service.register('orders', schedule);
    await service.start();
    cleanup.push(service);
    const ran = nextJob();
    await createProjectionService(bus).trigger('orders');
    await ran;
    expect(jobs.at(-1)?.kind).toBe('trigger');
    expect(counter.count).toBe(5);
  });

  it('carries every trigger option through a JSON codec, queries included (goes bug 26)', async () => {
    const bus = codecBus();
    const { schedule, jobs, nextJob, placed } = await scheduled(bus);
    const service = createProjectionService(bus, { schedules: { orders: schedule } });
    await service.start();
    cleanup.push(service);
    const since = 1_700_000_000_123_456_789n;
    const id = uuidv7();
    const ran = nextJob();
    await createProjectionService(bus).trigger('orders', {
      reset: true,
      from: 2,
      query: query().name(placed).timeMin(since),
      aggregateQuery: query().aggregate('order', id),
      filter: [query().versionMin(2)],
    });
    await ran;
    const job = jobs.at(-1) as Job;
    expect(job.reset).toBe(true);
    expect(job.from).toBe(2);
    expect(job.query.times?.min).toBe(since);
    expect(job.query.names).toEqual([placed]);
  });

  it('reports malformed triggers and keeps running', async () => {
    const bus = createMemoryEventBus();
    const { schedule, nextJob } = await scheduled(bus);
    const errors: unknown[] = [];
    const service = createProjectionService(bus, {
      schedules: { orders: schedule },
      onError: (error) => errors.push(error),
    });
    await service.start();
    cleanup.push(service);
    await bus.publish([createEvent(TRIGGERED_EVENT, { nonsense: true })]);
    await bus.publish([
      createEvent(TRIGGERED_EVENT, {
        triggerId: uuidv7(),
        schedule: 'orders',
        trigger: { query: { ids: ['x'] } },
      }),
    ]);
    while (errors.length < 2) await tick();
    expect(isGoesError(errors[0], 'INVALID_ARGUMENT')).toBe(true);
    expect(isGoesError(errors[1], 'INVALID_QUERY')).toBe(true);
    const ran = nextJob();
    await createProjectionService(bus).trigger('orders');
    await ran;
  });

  it('stops waiting when the signal aborts, and checks its arguments', async () => {
    const bus = createMemoryEventBus();
    const client = createProjectionService(bus, { triggerTimeout: 0 });
    const controller = new AbortController();
    const waiting = client.trigger('orders', {}, { signal: controller.signal });
    controller.abort(new Error('gave up'));
    await expect(waiting).rejects.toThrow('gave up');
    await expect(client.trigger('')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(client.trigger('x', { query: { names: [''] } })).rejects.toMatchObject({
      code: 'INVALID_QUERY',
    });
    expect(() => createProjectionService(bus, { triggerTimeout: -1 })).toThrow(/triggerTimeout -1/);
    expect(() => client.register('x', {} as never)).toThrow(/not a schedule/);
  });
});

describe('trigger JSON', () => {
  it('round-trips through JSON text', () => {
    const trigger = {
      reset: true,
      from: 7,
      query: query().name('a').timeRange(1n, 2n).sortBy('time', 'desc'),
      aggregateQuery: query().aggregateName('order'),
      filter: [query().versionMin(3), query().positionMax(99)],
    };
    const back = triggerFromJson(JSON.parse(JSON.stringify(triggerToJson(trigger))));
    expect(back).toEqual({
      reset: true,
      from: 7,
      query: { ...trigger.query.build() },
      aggregateQuery: { ...trigger.aggregateQuery.build() },
      filter: trigger.filter.map((f) => ({ ...f.build() })),
    });
    expect(triggerFromJson(triggerToJson({}))).toEqual({});
    expect(triggerToJson({ filter: query().name('x') }).filter).toHaveLength(1);
  });

  it('names what is wrong with a malformed trigger', () => {
    expect(() => triggerFromJson(null)).toThrow(/must be an object/);
    expect(() => triggerFromJson({ reset: 'yes' })).toThrow(/reset "yes"/);
    expect(() => triggerFromJson({ extra: 1 })).toThrow(/unknown field "extra"/);
    expect(() => triggerFromJson({ filter: {} })).toThrow(/filter must be an array/);
    expect(() => triggerFromJson({ query: 'names' })).toThrow(/query must be a query object/);
    expect(() => triggerFromJson({ from: -1 })).toThrow(/from -1/);
    expect(() => triggerFromJson({ query: { times: { min: 'soon' } } })).toThrow(
      /times.min "soon"/,
    );
  });
});
