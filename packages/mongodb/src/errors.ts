import { GoesError } from '@goes/event';

/**
 * The MongoDB server refused an operation for a reason that is neither a version conflict, a
 * duplicate event, bad input nor a lost connection (for example missing privileges, or an index
 * of the same name with other keys). `serverCode` is the server's error code when there is one,
 * and `cause` the driver's error.
 *
 * @example
 * ```ts
 * try { await store.insert(events); } catch (error) {
 *   if (isGoesError(error, 'MONGODB_ERROR')) console.error((error as MongoStoreError).serverCode);
 * }
 * ```
 */
export class MongoStoreError extends GoesError {
  readonly serverCode: number | string | undefined;

  constructor(message: string, options: { cause?: unknown; serverCode?: number | string } = {}) {
    super('MONGODB_ERROR', message, { cause: options.cause });
    this.serverCode = options.serverCode;
  }
}
