import type { StreamOptions } from './options.js';

/**
 * Options of {@link createChannel}.
 *
 * @example
 * ```ts
 * const channel = createChannel<Event>({ capacity: 1_024, onClose: () => unsubscribe() });
 * ```
 */
export interface ChannelOptions {
  /** How many values may wait for the consumer. Default 1,024; `Infinity` for no bound. */
  readonly capacity?: number;
  /** Called once when the channel closes, by either side (close, fail or the consumer's return). */
  readonly onClose?: () => void;
}

/**
 * A bounded queue between a push source (a bus, a database notification) and one pull consumer
 * (`for await`). It is what turns goes' buffered Go channels into async iterables.
 *
 * Producers choose what happens when the queue is full: {@link Channel.tryPush} returns `false`
 * (the caller drops or reports), {@link Channel.push} waits for room (back-pressure).
 * When the consumer stops iterating (`break`, `return()`), the channel closes, buffered values
 * are dropped and waiting producers are released.
 *
 * @example
 * ```ts
 * const channel = createChannel<number>({ capacity: 2 });
 * channel.tryPush(1);
 * channel.close();
 * for await (const n of channel) console.log(n); // 1
 * ```
 */
export interface Channel<T> extends AsyncIterable<T> {
  /** Values waiting for the consumer. */
  readonly size: number;
  /** The bound given at creation. */
  readonly capacity: number;
  /** True once closed by either side; pushes are then refused. */
  readonly closed: boolean;
  /** Adds a value if there is room; returns false when the channel is full or closed. */
  tryPush(value: T): boolean;
  /**
   * Adds a value, waiting for room while the channel is full. Resolves to false when the
   * channel closes before the value could be queued; rejects with `signal.reason` on abort.
   */
  push(value: T, options?: StreamOptions): Promise<boolean>;
  /** Ends the stream: the consumer still receives the buffered values, then `done`. */
  close(): void;
  /** Ends the stream with an error, thrown to the consumer after the buffered values. */
  fail(error: unknown): void;
}

/**
 * Creates a {@link Channel}.
 *
 * @example
 * ```ts
 * const channel = createChannel<string>();
 * setTimeout(() => { channel.tryPush('hello'); channel.close(); }, 10);
 * console.log(await drain(channel)); // ['hello']
 * ```
 */
export function createChannel<T>(options: ChannelOptions = {}): Channel<T> {
  return new BoundedChannel<T>(options.capacity ?? 1024, options.onClose);
}

type Waiter<T> = {
  readonly value: T;
  readonly resolve: (queued: boolean) => void;
  settled: boolean;
};

class BoundedChannel<T> implements Channel<T> {
  readonly capacity: number;
  #buffer: T[] = [];
  #head = 0;
  #closed = false;
  #failure: { error: unknown } | undefined;
  #consumer: ((result: IteratorResult<T>) => void) | undefined;
  #consumerReject: ((error: unknown) => void) | undefined;
  #producers: Waiter<T>[] = [];
  #onClose: (() => void) | undefined;
  #iterating = false;

  constructor(capacity: number, onClose: (() => void) | undefined) {
    if (!(capacity >= 1))
      throw new RangeError(`channel capacity must be at least 1, got ${capacity}`);
    this.capacity = capacity;
    this.#onClose = onClose;
  }

  get size(): number {
    return this.#buffer.length - this.#head;
  }

  get closed(): boolean {
    return this.#closed;
  }

  tryPush(value: T): boolean {
    if (this.#closed) return false;
    if (this.#consumer) {
      this.#deliver({ done: false, value });
      return true;
    }
    if (this.size >= this.capacity) return false;
    this.#buffer.push(value);
    return true;
  }

  push(value: T, options: StreamOptions = {}): Promise<boolean> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.tryPush(value)) return Promise.resolve(true);
    if (this.#closed) return Promise.resolve(false);
    return new Promise<boolean>((resolve, reject) => {
      const waiter: Waiter<T> = {
        value,
        settled: false,
        resolve: (queued) => {
          waiter.settled = true;
          signal?.removeEventListener('abort', onAbort);
          resolve(queued);
        },
      };
      const onAbort = () => {
        if (waiter.settled) return;
        waiter.settled = true;
        this.#producers = this.#producers.filter((w) => w !== waiter);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#producers.push(waiter);
    });
  }

  close(): void {
    this.#end(undefined);
  }

  fail(error: unknown): void {
    this.#end({ error });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.#iterating)
      throw new TypeError('a channel has exactly one consumer; it is already being iterated');
    this.#iterating = true;
    return {
      next: () => this.#next(),
      return: () => {
        this.#abandon();
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }

  #next(): Promise<IteratorResult<T>> {
    if (this.size > 0) {
      const value = this.#shift();
      this.#admitProducer();
      return Promise.resolve({ done: false, value });
    }
    if (this.#closed) {
      if (this.#failure) {
        const { error } = this.#failure;
        this.#failure = undefined;
        return Promise.reject(error);
      }
      return Promise.resolve({ done: true, value: undefined });
    }
    return new Promise<IteratorResult<T>>((resolve, reject) => {
      this.#consumer = resolve;
      this.#consumerReject = reject;
      this.#admitProducer();
    });
  }

  #shift(): T {
    const value = this.#buffer[this.#head] as T;
    this.#buffer[this.#head] = undefined as T;
    this.#head++;
    if (this.#head >= 1024 && this.#head * 2 >= this.#buffer.length) {
      this.#buffer = this.#buffer.slice(this.#head);
      this.#head = 0;
    }
    return value;
  }

  /** Moves one waiting producer's value into the buffer (or straight to a waiting consumer). */
  #admitProducer(): void {
    while (this.#producers.length > 0 && (this.#consumer || this.size < this.capacity)) {
      const waiter = this.#producers.shift() as Waiter<T>;
      if (waiter.settled) continue;
      if (this.#consumer) this.#deliver({ done: false, value: waiter.value });
      else this.#buffer.push(waiter.value);
      waiter.resolve(true);
    }
  }

  #deliver(result: IteratorResult<T>): void {
    const consumer = this.#consumer as (result: IteratorResult<T>) => void;
    this.#consumer = undefined;
    this.#consumerReject = undefined;
    consumer(result);
  }

  #end(failure: { error: unknown } | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#failure = failure;
    for (const waiter of this.#producers) if (!waiter.settled) waiter.resolve(false);
    this.#producers = [];
    if (this.#consumer) {
      if (failure) {
        const reject = this.#consumerReject as (error: unknown) => void;
        this.#consumer = undefined;
        this.#consumerReject = undefined;
        this.#failure = undefined;
        reject(failure.error);
      } else {
        this.#deliver({ done: true, value: undefined });
      }
    }
    this.#onClose?.();
  }

  /** The consumer stopped: nothing more will be read, so drop what is buffered. */
  #abandon(): void {
    this.#buffer = [];
    this.#head = 0;
    this.#failure = undefined;
    this.#end(undefined);
  }
}
