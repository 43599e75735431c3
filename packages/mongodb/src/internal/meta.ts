import type { Collection } from 'mongodb';
import { formatPosition, parsePosition } from './documents.js';
import { isDuplicateKey } from './driver-errors.js';

/**
 * A commit marker in the small metadata collection: `_id` `c:<position>` says that everything
 * up to the position is settled. Old markers are pruned, so reading the collection is cheap even
 * on servers that scan a whole collection for every query (FerretDB).
 *
 * @internal
 */
export interface MetaDocument {
  _id: string;
}

/** Every PRUNE_EVERY-th marker of a process removes the markers below it. */
const PRUNE_EVERY = 16;

const MARKERS = { $gte: 'c:', $lt: 'c;' } as const;

/** The metadata collection: commit markers. @internal */
export class Meta {
  readonly #collection: Collection<MetaDocument>;
  #markers = 0;

  constructor(collection: Collection<MetaDocument>) {
    this.#collection = collection;
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

  async #insertIgnoringDuplicate(_id: string): Promise<void> {
    try {
      await this.#collection.insertOne({ _id });
    } catch (error) {
      if (!isDuplicateKey(error as { code?: unknown })) throw error;
    }
  }
}
