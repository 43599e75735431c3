import { createEvent, type Event, uuidv7 } from '@goes/event';
import { fromArray } from '@goes/streams';
import { describe, expect, it } from '@jest/globals';
import {
  applyHistory,
  applyHistoryStream,
  isConsistencyError,
  isUnknownEventError,
  UncommittedChangesError,
} from '../src/index.js';
import { Product, productHistory, thrown } from './product.js';

describe('applyHistory', () => {
  it('applies the events in order and commits their version', () => {
    const id = uuidv7();
    const product = new Product(id);
    applyHistory(product, productHistory(id, [100, 250]));
    expect(product.sku).toBe('SKU-1');
    expect(product.cents).toBe(250);
    expect(product.version).toBe(3);
    expect(product.changes).toEqual([]);
    expect(product.lastEventTime).toBe(productHistory(id, [100, 250])[2]?.time);
  });

  it('continues from the aggregate version', () => {
    const id = uuidv7();
    const history = productHistory(id, [1, 2, 3]);
    const product = new Product(id);
    applyHistory(product, history.slice(0, 2));
    applyHistory(product, history.slice(2));
    expect(product.version).toBe(4);
    expect(product.cents).toBe(3);
  });

  it('refuses an aggregate with uncommitted changes instead of committing them (goes bug 2)', () => {
    const id = uuidv7();
    const product = new Product(id);
    product.create('A', 'Chair');
    const error = thrown(() => applyHistory(product, []));
    expect(error).toBeInstanceOf(UncommittedChangesError);
    expect(String(error)).toContain('1 uncommitted change');
    expect(product.version).toBe(0);
    expect(product.changes).toHaveLength(1);
    expect(() => applyHistory(product, productHistory(id))).toThrow(UncommittedChangesError);
    expect(product.changes).toHaveLength(1);
  });

  it('validates the whole history before applying any of it', () => {
    const id = uuidv7();
    const [v1, v2, v3] = productHistory(id, [10, 20]) as [Event, Event, Event];
    const product = new Product(id);
    const error = thrown(() => applyHistory(product, [v1, v3, v2]));
    expect(isConsistencyError(error)).toBe(true);
    expect(product.applied).toEqual([]);
    expect(product.version).toBe(0);
  });

  it('refuses an event of another aggregate in the history', () => {
    const id = uuidv7();
    const history = productHistory(id, [10]);
    const foreign = productHistory(uuidv7(), [10])[1] as Event;
    const product = new Product(id);
    const error = thrown(() => applyHistory(product, [history[0] as Event, foreign]));
    expect(error).toMatchObject({ code: 'AGGREGATE_INCONSISTENT', kind: 'id', index: 1 });
    expect(product.applied).toEqual([]);
  });

  it('answers an event with an unknown name with UnknownEventError', () => {
    const id = uuidv7();
    const product = new Product(id);
    const unknown = createEvent(
      'product.renamed',
      { name: 'x' },
      {
        aggregate: { name: 'product', id, version: 2 },
      },
    );
    const error = thrown(() =>
      applyHistory(product, [productHistory(id, [])[0] as Event, unknown]),
    );
    expect(isUnknownEventError(error)).toBe(true);
    expect(String(error)).toContain('"product.renamed"');
    expect(product.version).toBe(0);
  });

  it('does not check times unless asked to', () => {
    const id = uuidv7();
    const [v1, v2] = productHistory(id, [10]) as [Event, Event];
    const backwards = { ...v2, time: v1.time - 1n };
    applyHistory(new Product(id), [v1, backwards]);
    expect(() => applyHistory(new Product(id), [v1, backwards], { checkTime: true })).toThrow(
      /time/,
    );
  });

  it('skips validation when told to', () => {
    const id = uuidv7();
    const [v1, , v3] = productHistory(id, [10, 20]) as [Event, Event, Event];
    const product = new Product(id);
    applyHistory(product, [v1, v3], { validate: false });
    expect(product.version).toBe(3);
  });
});

describe('applyHistoryStream', () => {
  it('applies a stream, validating as events arrive, and resolves to the count', async () => {
    const id = uuidv7();
    const product = new Product(id);
    expect(await applyHistoryStream(product, fromArray(productHistory(id, [1, 2, 3])))).toBe(4);
    expect(product.version).toBe(4);
    expect(product.cents).toBe(3);
    expect(await applyHistoryStream(product, fromArray([]))).toBe(0);
    expect(product.version).toBe(4);
  });

  it('stops at the first inconsistent event and leaves the version unchanged', async () => {
    const id = uuidv7();
    const [v1, v2, , v4] = productHistory(id, [1, 2, 3]) as [Event, Event, Event, Event];
    const product = new Product(id);
    const error = await applyHistoryStream(product, fromArray([v1, v2, v4])).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ kind: 'version', index: 2 });
    expect(product.version).toBe(0);
  });

  it('refuses an aggregate with uncommitted changes', async () => {
    const product = new Product(uuidv7());
    product.create('A', 'B');
    await expect(applyHistoryStream(product, fromArray([]))).rejects.toBeInstanceOf(
      UncommittedChangesError,
    );
  });

  it('stops when the signal aborts', async () => {
    const id = uuidv7();
    const controller = new AbortController();
    const product = new Product(id);
    const events = productHistory(id, [1, 2, 3]);
    async function* slow() {
      yield events[0] as Event;
      controller.abort(new Error('stop'));
      yield events[1] as Event;
    }
    await expect(
      applyHistoryStream(product, slow(), { signal: controller.signal }),
    ).rejects.toThrow('stop');
    expect(product.version).toBe(0);
  });
});
