/**
 * Projections and read models of goes: targets and `apply` with position-based progress, guards,
 * jobs with a per-job read cache, continuous and periodic schedules that catch up from the store,
 * the projection service for remote triggers, lookups, and the read-model repository contract
 * with its in-memory implementation.
 *
 * @packageDocumentation
 */
export {
  type ApplyOptions,
  type ApplyResult,
  apply,
  applyStream,
  type ErrorPolicy,
} from './apply.js';
export { type ContinuousOptions, continuously } from './continuous.js';
export {
  AggregateNotFoundError,
  ApplyError,
  isApplyError,
  isModelConflictError,
  isModelNotFoundError,
  LookupNotFoundError,
  LookupTypeError,
  ModelConflictError,
  ModelNotFoundError,
  UnhandledTriggerError,
} from './errors.js';
export { type EventGuards, eventGuard, queryGuard } from './guard.js';
export {
  type ApplyToModelsOptions,
  type ApplyToModelsResult,
  type BeforeEvent,
  createJob,
  type Job,
  type JobApplyOptions,
  type JobEventsOptions,
  type JobKind,
  type JobOptions,
} from './job.js';
export {
  createLookup,
  type Lookup,
  type LookupOptions,
  type LookupProvider,
  type LookupProviders,
} from './lookup.js';
export {
  createMemoryModelRepository,
  type MemoryModelRepository,
  type MemoryModelRepositoryOptions,
} from './memory-model-repository.js';
export {
  checkExpectedVersion,
  checkModelId,
  type DeleteOptions,
  type ModelRepository,
  type SaveOptions,
  type UseFunction,
  type UseOptions,
  useModel,
  type Versioned,
  type VersionedModelStorage,
} from './model-repository.js';
export { type PeriodicOptions, periodically } from './periodic.js';
export { type ProjectionAppliers, ProjectionBase, projection } from './projection-base.js';
export type {
  JobHandler,
  Schedule,
  ScheduleSubscribeOptions,
  ScheduleSubscription,
  StartupOptions,
  TriggerOptions,
} from './schedule.js';
export {
  createProjectionService,
  type ProjectionService,
  type ProjectionServiceEvents,
  type ProjectionServiceOptions,
  registerProjectionEvents,
  TRIGGER_ACCEPTED_EVENT,
  TRIGGERED_EVENT,
  type TriggerAcceptedData,
  type TriggeredData,
} from './service.js';
export {
  type Guard,
  isGuard,
  isProgressAware,
  isResetter,
  type ProgressAware,
  Progressor,
  type Resetter,
  type Target,
} from './target.js';
export { type JsonTrigger, triggerFromJson, triggerToJson } from './trigger-json.js';
