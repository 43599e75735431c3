import { abortable } from '@goes/streams';
import type { Document, FindCursor } from 'mongodb';
import { toStoreError } from './driver-errors.js';

/**
 * Streams a query's results from a MongoDB cursor, one driver batch at a time: the documents of
 * a buffered batch are decoded and served with one resolved promise each (no generator frames),
 * the cursor is opened on the first `next()`, and it is closed (killCursors) when the loop
 * breaks, the signal aborts, decoding fails or the results end.
 *
 * @internal
 */
export class DocumentCursor<D extends Document, T> implements AsyncIterator<T> {
  readonly #open: () => Promise<FindCursor<D> | undefined>;
  readonly #decode: (doc: D) => T;
  readonly #signal: AbortSignal | undefined;
  readonly #what: string;
  #cursor: FindCursor<D> | undefined;
  #buffer: D[] = [];
  #index = 0;
  #done = false;
  /** The driver's fetch in flight (`hasNext`), if any: the cursor is closed only after it. */
  #fetching: Promise<unknown> | undefined;

  constructor(
    open: () => Promise<FindCursor<D> | undefined>,
    decode: (doc: D) => T,
    signal: AbortSignal | undefined,
    what: string,
  ) {
    this.#open = open;
    this.#decode = decode;
    this.#signal = signal;
    this.#what = what;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#done) return Promise.resolve({ done: true, value: undefined });
    if (this.#signal?.aborted) return this.#fail(this.#signal.reason);
    if (this.#index < this.#buffer.length) {
      try {
        return Promise.resolve({ done: false, value: this.#decode(this.#nextBuffered()) });
      } catch (error) {
        return this.#fail(error);
      }
    }
    return this.#fill();
  }

  async return(): Promise<IteratorResult<T>> {
    await this.#close();
    return { done: true, value: undefined };
  }

  async #fill(): Promise<IteratorResult<T>> {
    try {
      if (!this.#cursor) {
        const opening = this.#open();
        // A cursor that opens after the reader gave up must still be closed.
        opening.then(
          (cursor) => {
            if (this.#done) cursor?.close().catch(() => {});
          },
          () => {},
        );
        this.#cursor = await abortable(opening, this.#signal);
        if (!this.#cursor) {
          this.#done = true;
          return { done: true, value: undefined };
        }
      }
      const cursor = this.#cursor;
      while (this.#index >= this.#buffer.length) {
        const fetching = cursor.hasNext();
        this.#fetching = fetching;
        // Forgotten when the driver's fetch settles, not when an abort rejects the wait for it.
        const settled = () => {
          if (this.#fetching === fetching) this.#fetching = undefined;
        };
        fetching.then(settled, settled);
        if (!(await abortable(fetching, this.#signal))) {
          await this.#close();
          return { done: true, value: undefined };
        }
        this.#buffer = cursor.readBufferedDocuments();
        this.#index = 0;
      }
      return { done: false, value: this.#decode(this.#nextBuffered()) };
    } catch (error) {
      return this.#fail(error);
    }
  }

  #nextBuffered(): D {
    const doc = this.#buffer[this.#index] as D;
    // Drop the reference so a long stream does not keep a whole batch alive.
    this.#buffer[this.#index++] = undefined as unknown as D;
    return doc;
  }

  async #fail(error: unknown): Promise<IteratorResult<T>> {
    await this.#close();
    throw toStoreError(error, this.#what);
  }

  async #close(): Promise<void> {
    this.#done = true;
    this.#buffer = [];
    const cursor = this.#cursor;
    this.#cursor = undefined;
    if (!cursor || cursor.closed) return;
    const fetching = this.#fetching;
    if (fetching) {
      // Aborted while the driver fetches a batch: a close() during that getMore needs a second
      // connection for its killCursors and, seen on FerretDB, sometimes sends none, so the
      // server cursor lived until its idle timeout. Close once the fetch settled, in the
      // background: the abort is still reported at once.
      this.#fetching = undefined;
      const close = () => closeQuietly(cursor);
      void fetching.then(close, close);
      return;
    }
    await closeQuietly(cursor);
  }
}

/** Closes a cursor on the server; failures are ignored (the server times cursors out anyway). */
async function closeQuietly(cursor: FindCursor<Document>): Promise<void> {
  try {
    await cursor.close();
  } catch {
    // closing is a courtesy: the server forgets an idle cursor when it times out
  }
}
