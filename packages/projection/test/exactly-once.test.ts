import { createEvent, createMemoryEventStore, type Event, query, uuidv7 } from '@goes/event';
import { describe, expect, it } from '@jest/globals';
import { createJob, createMemoryModelRepository, Progressor, type Target } from '../src/index.js';
import { names } from './helpers.js';

/** A read model that counts the events applied to it, per aggregate id. */
class Totals extends Progressor implements Target {
  readonly perAggregate: Record<string, number> = {};
  constructor(readonly id: string) {
    super();
  }
  applyEvent(event: Event): void {
    const id = event.aggregate?.id as string;
    this.perAggregate[id] = (this.perAggregate[id] ?? 0) + 1;
  }
}

describe('exactly once into progress-aware targets', () => {
  it('applyToModels: a model fed by several aggregates (modelId) gets every event of each once', async () => {
    const ns = names();
    const store = createMemoryEventStore();
    const order = ns.name('order');
    const [a, b] = [uuidv7(), uuidv7()];
    const event = (id: string, version: number) =>
      createEvent(ns.name('placed'), { version }, { aggregate: { name: order, id, version } });
    // Interleaved: a@1, b@2, a@3, b@4. Per aggregate in first-seen order (a, then b), the model's
    // progress reaches a's last position before b's older events are read.
    await store.insert([event(a, 1)]);
    await store.insert([event(b, 1)]);
    await store.insert([event(a, 2)]);
    await store.insert([event(b, 2)]);
    const models = createMemoryModelRepository<Totals>();
    const options = { modelId: () => 'all', create: () => new Totals('all') };
    {
      await using job = createJob(store, { query: query().name(ns.name('placed')) });
      const result = await job.applyToModels(models, options);
      expect(result).toMatchObject({ models: 1, saved: 1, applied: 4 });
    }
    expect((await models.fetch('all')).perAggregate).toEqual({ [a]: 2, [b]: 2 });
    // A later job applies nothing twice.
    await store.insert([event(b, 3)]);
    {
      await using job = createJob(store, { query: query().name(ns.name('placed')) });
      const result = await job.applyToModels(models, options);
      expect(result).toMatchObject({ applied: 1 });
    }
    expect((await models.fetch('all')).perAggregate).toEqual({ [a]: 2, [b]: 3 });
  });
});
