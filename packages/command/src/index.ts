/**
 * The command layer of goes: typed commands, the {@link CommandBus} contract, an in-process bus
 * ({@link createLocalCommandBus}) and a distributed bus over any event bus
 * ({@link createDistributedCommandBus}), command errors that cross the wire, execution reports,
 * the built-in delete-aggregate command, and the types aggregates use to own command handlers.
 *
 * @packageDocumentation
 */
export {
  type AggregateCommandHandler,
  type CommandHandlerMap,
  handledCommandNames,
  requireAggregateTarget,
} from './aggregate-handlers.js';
export {
  AGGREGATE_DELETED_EVENT,
  type AggregateDeletedData,
  aggregateDeletedDataSchema,
  type BuiltinCommands,
  type BuiltinEvents,
  DELETE_AGGREGATE_COMMAND,
  type DeleteAggregatePayload,
  deleteAggregateCommand,
  deleteAggregatePayloadSchema,
  registerBuiltinCommands,
  registerBuiltinEvents,
} from './builtin.js';
export {
  type Command,
  type CommandInfo,
  type CommandMap,
  type CommandName,
  type CommandOf,
  type CommandSpec,
  type CreateCommandOptions,
  commandInfo,
  createCommand,
  type PayloadOf,
  type ResultOf,
} from './command.js';
export type {
  AsyncDispatchOptions,
  CommandBus,
  CommandContext,
  CommandHandler,
  CommandHandlerRegistration,
  CommandReport,
  CommandReportBase,
  CommandSubscription,
  DispatchOptions,
  HandleOptions,
  ReceivedCommand,
  ReceivedCommandOf,
  SubscribeCommandsOptions,
  SyncDispatchOptions,
} from './contracts.js';
export {
  createDistributedCommandBus,
  type DistributedCommandBusOptions,
} from './distributed-bus.js';
export {
  AlreadySubscribedError,
  AssignTimeoutError,
  CommandCancelledError,
  CommandDroppedError,
  CommandError,
  type CommandErrorCode,
  type CommandErrorData,
  type CommandErrorOptions,
  ExecutionTimeoutError,
  InvalidCommandError,
  isCommandError,
  NoHandlerError,
  ReceiveTimeoutError,
  toCommandErrorData,
  UnknownCommandError,
} from './errors.js';
export {
  type CommandBusTimeouts,
  createLocalCommandBus,
  type LocalCommandBusOptions,
} from './local-bus.js';
export {
  COMMAND_BUS_EVENTS,
  type CommandAssignedData,
  type CommandBusEventMap,
  type CommandCancelledData,
  type CommandDispatchedData,
  type CommandExecutedData,
  type CommandHandlersData,
  type CommandRequestedData,
  registerCommandBusEvents,
  type WireOutcome,
} from './protocol.js';
