import { createEvent, type Event, uuidv7 } from '@goes/event';
import { drain, fromArray } from '@goes/streams';
import { describe, expect, it } from '@jest/globals';
import { type History, histories, isConsistencyError, UnknownEventError } from '../src/index.js';
import { Product, productHistory } from './product.js';

const policy = { deleteEvents: ['product.discontinued'], restoreEvents: ['product.relisted'] };

function interleave(...lists: Event[][]): Event[] {
  const out: Event[] = [];
  for (let i = 0; lists.some((l) => i < l.length); i++) {
    for (const list of lists) if (i < list.length) out.push(list[i] as Event);
  }
  return out;
}

function discontinued(id: string, version: number): Event {
  return createEvent('product.discontinued', {}, { aggregate: { name: 'product', id, version } });
}

const ids = (list: readonly History[]) => list.map((h) => h.aggregate.id);

describe('histories', () => {
  it('groups an interleaved, unsorted stream into one sorted history per aggregate', async () => {
    const [a, b] = [uuidv7(), uuidv7()];
    const events = interleave(productHistory(a, [1, 2]), productHistory(b, [5])).reverse();
    const result = await drain(histories(fromArray(events)));
    expect(ids(result).sort()).toEqual([a, b].sort());
    for (const history of result) {
      expect(history.events.map((e) => e.aggregate?.version)).toEqual(
        history.aggregate.id === a ? [1, 2, 3] : [1, 2],
      );
      expect(history.version).toBe(history.events.length);
      expect(history.softDeleted).toBe(false);
      const product = new Product(history.aggregate.id);
      history.apply(product);
      expect(product.version).toBe(history.version);
      expect(product.cents).toBe(history.aggregate.id === a ? 2 : 5);
    }
  });

  it('emits grouped histories as soon as the next aggregate starts', async () => {
    const [a, b] = [uuidv7(), uuidv7()];
    const first = productHistory(a, [1]);
    const second = productHistory(b, [2]);
    const seen: string[] = [];
    async function* source() {
      for (const event of first) yield event;
      seen.push('a done');
      for (const event of second) yield event;
      seen.push('b done');
    }
    const emitted: string[] = [];
    for await (const history of histories(source(), { grouped: true, sorted: true })) {
      emitted.push(`${history.aggregate.id === a ? 'a' : 'b'} after [${seen.join(',')}]`);
    }
    expect(emitted).toEqual(['a after [a done]', 'b after [a done,b done]']);
  });

  it('sorts each group unless told the input is sorted', async () => {
    const a = uuidv7();
    const shuffled = productHistory(a, [1, 2]).reverse();
    const [sorted] = await drain(histories(fromArray(shuffled), { grouped: true }));
    expect(sorted?.events.map((e) => e.aggregate?.version)).toEqual([1, 2, 3]);
    const error = await drain(
      histories(fromArray(shuffled), { grouped: true, sorted: true }),
    ).catch((e: unknown) => e);
    expect(isConsistencyError(error)).toBe(true);
  });

  it('throws the first inconsistent history without onError, and skips and reports it with onError', async () => {
    const [a, b] = [uuidv7(), uuidv7()];
    const broken = productHistory(a, [1, 2]);
    broken.splice(1, 1);
    const good = productHistory(b, [3]);
    const events = [...broken, ...good];
    await expect(drain(histories(fromArray(events), { grouped: true }))).rejects.toMatchObject({
      kind: 'version',
      aggregate: { name: 'product', id: a },
    });
    const errors: unknown[] = [];
    const result = await drain(
      histories(fromArray(events), { grouped: true, onError: (e) => errors.push(e) }),
    );
    expect(ids(result)).toEqual([b]);
    expect(errors).toHaveLength(1);
    expect(isConsistencyError(errors[0])).toBe(true);
  });

  it('validates from version 1: a history that starts later is inconsistent', async () => {
    const events = productHistory(uuidv7(), [1, 2]).slice(1);
    await expect(drain(histories(fromArray(events)))).rejects.toMatchObject({ kind: 'version' });
    expect(await drain(histories(fromArray(events), { validate: false }))).toHaveLength(1);
  });

  it('reports events without an aggregate', async () => {
    const loose = createEvent('product.created', {});
    await expect(drain(histories(fromArray([loose])))).rejects.toMatchObject({
      code: 'INVALID_EVENT',
    });
    const errors: unknown[] = [];
    const a = uuidv7();
    const result = await drain(
      histories(fromArray([loose, ...productHistory(a)]), { onError: (e) => errors.push(e) }),
    );
    expect(ids(result)).toEqual([a]);
    expect(String(errors[0])).toContain(loose.id);
  });

  it('drops events that a filter refuses', async () => {
    const [a, b] = [uuidv7(), uuidv7()];
    const events = [...productHistory(a), ...productHistory(b)];
    const result = await drain(
      histories(fromArray(events), { filter: [(e) => e.aggregate?.id !== b] }),
    );
    expect(ids(result)).toEqual([a]);
    const single = await drain(
      histories(fromArray(events), { filter: (e) => e.aggregate?.id === b }),
    );
    expect(ids(single)).toEqual([b]);
  });

  it('skips soft-deleted aggregates unless asked to include them, and honours restores', async () => {
    const [a, b, c] = [uuidv7(), uuidv7(), uuidv7()];
    const deleted = [...productHistory(a, []), discontinued(a, 2)];
    const restored = [
      ...productHistory(b, []),
      discontinued(b, 2),
      createEvent('product.relisted', {}, { aggregate: { name: 'product', id: b, version: 3 } }),
    ];
    const plain = productHistory(c, []);
    const events = [...deleted, ...restored, ...plain];
    expect(ids(await drain(histories(fromArray(events), { softDelete: policy })))).toEqual([b, c]);
    const all = await drain(
      histories(fromArray(events), { softDelete: policy, includeSoftDeleted: true }),
    );
    expect(all.map((h) => h.softDeleted)).toEqual([true, false, false]);
    expect(ids(await drain(histories(fromArray(events))))).toEqual([a, b, c]);
  });

  it('ends with the error of the input stream', async () => {
    async function* failing() {
      yield productHistory(uuidv7())[0] as Event;
      throw new Error('cursor lost');
    }
    await expect(drain(histories(failing()))).rejects.toThrow('cursor lost');
  });

  it('stops when the signal aborts and closes the input', async () => {
    const controller = new AbortController();
    let closed = false;
    const [a, b] = [uuidv7(), uuidv7()];
    async function* source() {
      try {
        for (const event of productHistory(a)) yield event;
        controller.abort(new Error('enough'));
        for (const event of productHistory(b)) yield event;
      } finally {
        closed = true;
      }
    }
    await expect(
      drain(histories(source(), { grouped: true, signal: controller.signal })),
    ).rejects.toThrow('enough');
    expect(closed).toBe(true);
  });

  it('throws from apply when the aggregate cannot apply the history', async () => {
    const [history] = await drain(histories(fromArray(productHistory(uuidv7()))));
    const wrongId = new Product(uuidv7());
    expect(() => history?.apply(wrongId)).toThrow(/aggregate id/);
    const renamed = createEvent(
      'product.renamed',
      {},
      {
        aggregate: { name: 'product', id: history?.aggregate.id as string, version: 4 },
      },
    );
    const [longer] = await drain(histories(fromArray([...(history?.events ?? []), renamed])));
    expect(() => longer?.apply(new Product(history?.aggregate.id as string))).toThrow(
      UnknownEventError,
    );
  });
});
