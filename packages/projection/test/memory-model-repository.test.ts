import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { createMemoryModelRepository, Progressor, type Target } from '../src/index.js';

class Summary extends Progressor implements Target {
  count = 0;
  readonly items = new Map<string, number>();
  constructor(readonly id: string) {
    super();
  }
  applyEvent(): void {
    this.count++;
  }
  describe(): string {
    return `${this.id}: ${this.count}`;
  }
}

describe('in-memory model repository', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('keeps class instances working (prototype restored) and copies Maps', async () => {
    const models = createMemoryModelRepository<Summary>();
    const summary = new Summary('s1');
    summary.count = 2;
    summary.items.set('a', 1);
    summary.setProgress(9);
    await models.save(summary);
    const fetched = await models.fetch('s1');
    expect(fetched).toBeInstanceOf(Summary);
    expect(fetched).not.toBe(summary);
    expect(fetched.describe()).toBe('s1: 2');
    expect(fetched.progress()).toBe(9);
    expect(fetched.items.get('a')).toBe(1);
    expect(models.size).toBe(1);
    expect([...models.snapshot().keys()]).toEqual(['s1']);
  });

  it('shares instances when asked to (goes semantics) and takes a custom id', async () => {
    const models = createMemoryModelRepository<{ key: string; n: number }>({
      modelId: (m) => m.key,
      clone: (m) => m,
    });
    const model = { key: 'k', n: 1 };
    await models.save(model);
    expect(await models.fetch('k')).toBe(model);
  });

  it('explains models it cannot copy or identify', async () => {
    const models = createMemoryModelRepository<{ id: string; fn?: () => void }>();
    await expect(models.save({ id: 'x', fn: () => {} })).rejects.toThrow(/cannot be copied/);
    const anonymous = createMemoryModelRepository<{ name: string }>();
    await expect(anonymous.save({ name: 'x' })).rejects.toThrow(/no string "id" property/);
    await expect(
      createMemoryModelRepository<Summary>().use('a', () => {}, { create: () => new Summary('b') }),
    ).rejects.toThrow(/made a model with id "b"/);
  });

  it('serves concurrent use calls without polling a timer (goes waited 50 ms per call)', async () => {
    // With every timer frozen, a repository that polled could never finish.
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const models = createMemoryModelRepository<Summary>();
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        models.use(
          'hot',
          async (summary) => {
            await Promise.resolve();
            summary.count++;
            order.push(i);
          },
          { create: (id) => new Summary(id) },
        ),
      ),
    );
    expect((await models.fetch('hot')).count).toBe(50);
    expect(order).toEqual(Array.from({ length: 50 }, (_, i) => i)); // first come, first served
  });

  it('lets a use call waiting for its turn be aborted without blocking the ones after it', async () => {
    const models = createMemoryModelRepository<Summary>();
    await models.save(new Summary('m'));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const first = models.use('m', async (s) => {
      await gate;
      s.count++;
    });
    const controller = new AbortController();
    const second = models.use('m', (s) => void s.count++, { signal: controller.signal });
    const third = models.use('m', (s) => void s.count++);
    controller.abort(new Error('not any more'));
    await expect(second).rejects.toThrow('not any more');
    release();
    await first;
    await third;
    expect((await models.fetchVersioned('m')).model.count).toBe(2);
  });
});
