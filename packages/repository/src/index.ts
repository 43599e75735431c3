/**
 * The goes aggregate repository: save, fetch, fetchVersion, use (with retries on version
 * conflicts, a fresh aggregate per attempt), query and delete, typed repositories from a
 * factory, and snapshot use; and the wiring that runs aggregate-owned command handlers and the
 * built-in delete-aggregate command through a repository.
 *
 * @packageDocumentation
 */
export {
  type AfterCommandHook,
  type AfterCommandHooks,
  type AggregateCommandContext,
  type AggregateCommandRegistration,
  type AggregateCommandsOptions,
  type BeforeCommandHook,
  type BeforeCommandHooks,
  handleAggregateCommands,
} from './aggregate-commands.js';
export {
  aggregateDeletedEvent,
  type BuiltinCommandsOptions,
  DELETED_EVENT_FAILED,
  type DeletedAggregate,
  type DeletedEventTargets,
  handleBuiltinCommands,
} from './builtin-commands.js';
export type { CommandBusFit, CommandsOf } from './command-bus-fit.js';
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
