import type { Event } from '@goes/event';
import { abortable } from '@goes/streams';
import type { FindCursor } from 'mongodb';
import type { EventDocument } from './documents.js';
import { toStoreError } from './driver-errors.js';

/**
 * Streams a query's events from a MongoDB cursor, one driver batch at a time: events of a
 * buffered batch are served with one resolved promise each (no generator frames), the cursor is
 * opened on the first `next()`, and it is closed (killCursors) when the loop breaks, the signal
 * aborts, decoding fails or the results end.
 *
 * @internal
 */
export class EventCursor implements AsyncIterator<Event> {
  readonly #open: () => Promise<FindCursor<EventDocument> | undefined>;
  readonly #decode: (doc: EventDocument) => Event;
  readonly #signal: AbortSignal | undefined;
  #cursor: FindCursor<EventDocument> | undefined;
  #buffer: EventDocument[] = [];
  #index = 0;
  #done = false;

  constructor(
    open: () => Promise<FindCursor<EventDocument> | undefined>,
    decode: (doc: EventDocument) => Event,
    signal: AbortSignal | undefined,
  ) {
    this.#open = open;
    this.#decode = decode;
    this.#signal = signal;
  }

  next(): Promise<IteratorResult<Event>> {
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

  async return(): Promise<IteratorResult<Event>> {
    await this.#close();
    return { done: true, value: undefined };
  }

  async #fill(): Promise<IteratorResult<Event>> {
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
        if (!(await abortable(cursor.hasNext(), this.#signal))) {
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

  #nextBuffered(): EventDocument {
    const doc = this.#buffer[this.#index] as EventDocument;
    // Drop the reference so a long stream does not keep a whole batch alive.
    this.#buffer[this.#index++] = undefined as unknown as EventDocument;
    return doc;
  }

  async #fail(error: unknown): Promise<IteratorResult<Event>> {
    await this.#close();
    throw toStoreError(error, 'reading events');
  }

  async #close(): Promise<void> {
    this.#done = true;
    this.#buffer = [];
    const cursor = this.#cursor;
    this.#cursor = undefined;
    if (cursor && !cursor.closed) {
      try {
        await cursor.close();
      } catch {
        // The server forgets the cursor anyway when it times out; closing is a courtesy.
      }
    }
  }
}
