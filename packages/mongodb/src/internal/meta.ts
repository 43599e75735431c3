import type { Collection } from 'mongodb';
import { formatPosition, parsePosition } from './documents.js';
import { isDuplicateKey } from './driver-errors.js';

/**
 * A document of the small metadata collection, one of three kinds told apart by `_id`:
 * - `c:<position>`: a commit marker, everything up to the position is settled;
 * - `d:<sequence>`: the latest delete, so writers know their cached versions may be stale;
 * - `b:<aggregate key>`: an aggregate whose version 1 was deleted while later versions remain,
 *   so appending version 1 must be checked against the events.
 * The collection stays small (old markers and deletes are pruned), so reading all of it is cheap
 * even on servers that scan whole collections for every query (FerretDB).
 *
 * @internal
 */
export interface MetaDocument {
  _id: string;
}

/** What writers need from the metadata: the latest delete and the blocked aggregates. */
export interface MetaState {
  readonly deletes: number;
  readonly blocked: ReadonlySet<string>;
}

/** Every PRUNE_EVERY-th marker of a process removes the markers below it. */
const PRUNE_EVERY = 16;

const MARKERS = { $gte: 'c:', $lt: 'c;' } as const;
const DELETES = { $gte: 'd:', $lt: 'd;' } as const;

/** The metadata collection. @internal */
export class Meta {
  readonly #collection: Collection<MetaDocument>;
  #markers = 0;

  constructor(collection: Collection<MetaDocument>) {
    this.#collection = collection;
  }

  /** The latest delete and the blocked aggregates (one read of the whole, small collection). */
  async state(): Promise<MetaState> {
    let deletes = 0;
    const blocked = new Set<string>();
    for (const { _id } of await this.#collection.find({}).toArray()) {
      if (_id.startsWith('d:')) deletes = Math.max(deletes, parsePosition(_id.slice(2)));
      else if (_id.startsWith('b:')) blocked.add(_id.slice(2));
    }
    return { deletes, blocked };
  }

  /** The highest commit marker, 0 when there is none. */
  async marker(): Promise<number> {
    const [last] = await this.#collection
      .find({ _id: MARKERS }, { sort: { _id: -1 }, limit: 1 })
      .toArray();
    return last ? parsePosition(last._id.slice(2)) : 0;
  }

  /** Records that everything up to `position` is settled. */
  async mark(position: number): Promise<void> {
    const _id = `c:${formatPosition(position)}`;
    await this.#insertIgnoringDuplicate(_id);
    if (++this.#markers % PRUNE_EVERY === 0) {
      await this.#collection.deleteMany({ _id: { $gte: MARKERS.$gte, $lt: _id } });
    }
  }

  /** Records a delete: writers drop the versions they cached before it. */
  async noteDelete(): Promise<void> {
    for (;;) {
      const [last] = await this.#collection
        .find({ _id: DELETES }, { sort: { _id: -1 }, limit: 1 })
        .toArray();
      const next = (last ? parsePosition(last._id.slice(2)) : 0) + 1;
      const _id = `d:${formatPosition(next)}`;
      try {
        await this.#collection.insertOne({ _id });
      } catch (error) {
        // Another delete took this number: take the next one.
        if (isDuplicateKey(error as { code?: unknown })) continue;
        throw error;
      }
      await this.#collection.deleteMany({ _id: { $gte: DELETES.$gte, $lt: _id } });
      return;
    }
  }

  /** Sets or clears the "version 1 was deleted, later versions remain" flag of an aggregate. */
  async block(key: string, blocked: boolean): Promise<void> {
    if (blocked) await this.#insertIgnoringDuplicate(`b:${key}`);
    else await this.#collection.deleteOne({ _id: `b:${key}` });
  }

  async #insertIgnoringDuplicate(_id: string): Promise<void> {
    try {
      await this.#collection.insertOne({ _id });
    } catch (error) {
      if (!isDuplicateKey(error as { code?: unknown })) throw error;
    }
  }
}
