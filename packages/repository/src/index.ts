/**
 * The goes aggregate repository: save, fetch, fetchVersion, use (with retries on version
 * conflicts, a fresh aggregate per attempt), query and delete, typed repositories from a
 * factory, and snapshot use.
 *
 * @packageDocumentation
 */
export {
  AggregateDeletedError,
  AggregateNotFoundError,
  DeleteIncompleteError,
  isAggregateDeletedError,
  isAggregateNotFoundError,
  isVersionNotFoundError,
  VersionNotFoundError,
} from './errors.js';
export type {
  AggregateHook,
  HistoryQueryOptions,
  HookContext,
  RepositoryHooks,
  RepositoryOptions,
  RepositoryQueryOptions,
  RepositorySnapshotOptions,
  UseOptions,
} from './options.js';
export { createRepository, type Repository } from './repository.js';
export { type BackoffOptions, DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry.js';
export { createTypedRepository, type TypedRepository } from './typed-repository.js';
