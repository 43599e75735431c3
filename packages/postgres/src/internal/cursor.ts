import type { PoolClient } from 'pg';
import Cursor from 'pg-cursor';
import { fromDriverError, isConnectionFailure } from './driver-errors.js';
import type { SqlStatement } from './query-sql.js';
import { RAW_TYPES, type TextRow } from './rows.js';

const DONE: IteratorResult<never> = { done: true, value: undefined };

/** What a {@link RowCursor} needs from the store. */
export interface CursorContext<T> {
  /** A pooled connection (the store is set up first); rejects with the abort reason on abort. */
  readonly acquire: (signal: AbortSignal | undefined) => Promise<PoolClient>;
  /** Gives the connection back, or destroys it. */
  readonly release: (client: PoolClient, destroy?: boolean) => void;
  /**
   * Cancels the statement running on the connection (from another connection, best effort, in
   * the background); returns whether a cancel was sent.
   */
  readonly cancel: (client: PoolClient) => boolean;
  /** Turns a row into the value handed out (an event, a snapshot); may throw (decode errors). */
  readonly decode: (row: TextRow) => T;
  /** Rows per round trip. */
  readonly batchSize: number;
  /** What is read, for error messages ("read events"). */
  readonly reading: string;
  /** Called once when the cursor ends, so the store forgets it. */
  readonly ended: (cursor: RowCursor<T>) => void;
}

/**
 * Streams the result of one SELECT through a server-side cursor (a portal read `batchSize` rows
 * at a time), so memory stays bounded whatever the result size. The connection is taken on the
 * first `next()` and goes back to the pool as soon as the last batch arrived, on `return()`
 * (`break`), on an error, or on abort. Rows are decoded one by one as they are handed out.
 */
export class RowCursor<T> implements AsyncIterator<T> {
  readonly #context: CursorContext<T>;
  readonly #statement: SqlStatement;
  readonly #signal: AbortSignal | undefined;
  #client: PoolClient | undefined;
  #cursor: Cursor<TextRow> | undefined;
  #rows: TextRow[] = [];
  #index = 0;
  #exhausted = false;
  #done = false;
  /**
   * The read failed or the connection died: its protocol state is unknown, so it is not reused
   * and the portal is not closed (a dead connection would never answer).
   */
  #broken = false;
  /**
   * A cancel was sent for this connection: it is destroyed at the end, never reused, because the
   * cancel may arrive after the read it was meant for and hit the connection's next statement.
   */
  #cancelled = false;
  /** Resolves when the connection dies while this cursor holds it. */
  #lost: Promise<void> | undefined;
  #onLost = () => {};
  /** The read in flight, if any: closing waits for it before touching the connection. */
  #reading: Promise<unknown> | undefined;
  #closing: Promise<void> | undefined;

  constructor(context: CursorContext<T>, statement: SqlStatement, signal: AbortSignal | undefined) {
    this.#context = context;
    this.#statement = statement;
    this.#signal = signal;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#done) return Promise.resolve(DONE);
    if (this.#signal?.aborted) return this.#fail(this.#signal.reason);
    if (this.#index < this.#rows.length) {
      const row = this.#rows[this.#index] as TextRow;
      this.#rows[this.#index++] = EMPTY_ROW; // let the decoded row's text be collected early
      try {
        return Promise.resolve({ done: false, value: this.#context.decode(row) });
      } catch (error) {
        return this.#fail(error);
      }
    }
    if (this.#exhausted) {
      this.#finish();
      return Promise.resolve(DONE);
    }
    return this.#fetch().then(
      () => this.next(),
      (error: unknown) => this.#fail(error),
    );
  }

  return(): Promise<IteratorResult<T>> {
    this.#finish();
    return Promise.resolve(DONE);
  }

  /**
   * Reads the next batch; rejects at once on abort. A statement running on the server is then
   * cancelled, so a long read does not keep the connection (and the server) busy to its end.
   */
  #fetch(): Promise<void> {
    const read = this.#read();
    this.#reading = read.catch(() => {});
    const signal = this.#signal;
    if (!signal) return read;
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const client = this.#client;
        if (client && this.#cursor) {
          this.#cancelled = this.#context.cancel(client);
        }
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      read.then(
        () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }

  async #read(): Promise<void> {
    const { batchSize } = this.#context;
    if (!this.#cursor) {
      const client = await this.#context.acquire(this.#signal);
      this.#client = client;
      this.#lost = new Promise<void>((resolve) => {
        this.#onLost = () => {
          this.#broken = true;
          resolve();
        };
        client.once('end', this.#onLost);
        client.once('error', this.#onLost);
      });
      if (this.#done) return; // closed while the connection was on its way: #finish releases it
      const { text, values } = this.#statement;
      this.#cursor = this.#client.query(
        new Cursor<TextRow>(text, values, { rowMode: 'array', types: RAW_TYPES }),
      );
    }
    let rows: TextRow[];
    try {
      rows = await this.#cursor.read(batchSize);
    } catch (error) {
      this.#broken = true;
      throw fromDriverError(error, this.#context.reading);
    }
    this.#rows = rows;
    this.#index = 0;
    if (rows.length < batchSize) {
      // The portal is complete: give the connection back before the consumer works through
      // the last batch.
      this.#exhausted = true;
      this.#release(this.#cancelled ? true : undefined);
    }
  }

  #fail(error: unknown): Promise<IteratorResult<T>> {
    this.#finish(error);
    return Promise.reject(error);
  }

  /** Ends the iteration and closes the cursor once no read is in flight. */
  #finish(error?: unknown): void {
    if (this.#done) return;
    this.#done = true;
    this.#rows = [];
    this.#closing = (this.#reading ?? Promise.resolve()).then(() => this.#close(error));
    this.#context.ended(this);
  }

  async #close(error: unknown): Promise<void> {
    if (this.#broken || this.#cancelled || isConnectionFailure(error)) {
      this.#release(true);
      return;
    }
    const cursor = this.#cursor;
    if (cursor && !this.#exhausted) {
      // Closing the portal waits for the server; a connection that dies meanwhile never
      // answers, so its end counts as closed too (and the connection is not reused).
      const outcome = await Promise.race([
        cursor.close().then(
          () => 'closed' as const,
          () => 'failed' as const,
        ),
        (this.#lost ?? new Promise<never>(() => {})).then(() => 'lost' as const),
      ]);
      if (outcome !== 'closed' || this.#broken) {
        this.#release(true);
        return;
      }
    }
    this.#release(undefined);
  }

  /** Returns the connection to the pool, or destroys it (`destroy`) when it may be unusable. */
  #release(destroy: true | undefined): void {
    const client = this.#client;
    this.#client = undefined;
    if (!client) return;
    client.removeListener('end', this.#onLost);
    client.removeListener('error', this.#onLost);
    this.#context.release(client, destroy);
  }

  /** Settles when the connection is back in the pool (for tests and `close()`). */
  get closed(): Promise<void> {
    return this.#closing ?? Promise.resolve();
  }
}

const EMPTY_ROW: TextRow = [];
