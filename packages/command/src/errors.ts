import { GoesError, InvalidArgumentError, isGoesError } from '@goes/event';
import type { CommandInfo } from './command.js';

/**
 * The stable codes of the command layer's own errors. Handlers may fail commands with any code
 * of their own through {@link CommandError}.
 *
 * @example
 * ```ts
 * if (isGoesError(error, 'COMMAND_NO_HANDLER' satisfies CommandErrorCode)) register();
 * ```
 */
export type CommandErrorCode =
  | 'COMMAND_HANDLER_FAILED'
  | 'COMMAND_NO_HANDLER'
  | 'COMMAND_ASSIGN_TIMEOUT'
  | 'COMMAND_RECEIVE_TIMEOUT'
  | 'COMMAND_EXECUTION_TIMEOUT'
  | 'COMMAND_CANCELLED'
  | 'COMMAND_DROPPED'
  | 'COMMAND_UNKNOWN'
  | 'COMMAND_ALREADY_SUBSCRIBED'
  | 'INVALID_COMMAND';

/**
 * The JSON form of a command failure, as it crosses the wire from the handler to the
 * dispatcher: a stable `code`, a human `message`, and optional `details` (any JSON value).
 * Only these three survive the trip; the class, stack and `cause` of the handler's error stay on
 * the handler's side.
 *
 * @example
 * ```ts
 * const data: CommandErrorData = { code: 'OUT_OF_STOCK', message: 'only 3 left', details: { available: 3 } };
 * ```
 */
export interface CommandErrorData {
  readonly code: string;
  readonly message: string;
  readonly details?: unknown;
}

const COMMAND_ERROR = Symbol.for('@goes/command.CommandError');

/**
 * Options of {@link CommandError}.
 *
 * @example
 * ```ts
 * new CommandError('OUT_OF_STOCK', 'only 3 left', { details: { available: 3 } });
 * ```
 */
export interface CommandErrorOptions<Details = unknown> {
  /** Data for the dispatcher (must be JSON to cross a distributed bus). */
  readonly details?: Details | undefined;
  readonly cause?: unknown;
  /** The command that failed; the bus sets it on the error a dispatcher receives. */
  readonly command?: CommandInfo | undefined;
}

/**
 * A command failed in its handler. Handlers throw it to fail a command with a code of their own,
 * a message and JSON `details`; the dispatcher of a synchronous dispatch receives a
 * `CommandError` with the same code, message and details (and `command` set), also across a
 * distributed bus. Anything else a handler throws reaches the dispatcher as a `CommandError`
 * too: with the thrown error's `code` when it has a string one (a `GoesError`, a codec error),
 * otherwise with `COMMAND_HANDLER_FAILED`, and with its message.
 *
 * @example
 * ```ts
 * bus.handle('order.place', async ({ payload }) => {
 *   if (payload.quantity > stock) {
 *     throw new CommandError('OUT_OF_STOCK', `only ${stock} left`, { details: { available: stock } });
 *   }
 *   return { orderId: uuidv7() };
 * });
 * try {
 *   await bus.dispatch(place, { sync: true });
 * } catch (error) {
 *   if (isCommandError(error, 'OUT_OF_STOCK')) console.log(error.details);
 * }
 * ```
 */
export class CommandError<Details = unknown> extends GoesError {
  readonly details: Details | undefined;
  /** The failed command, on errors returned by a dispatch. */
  readonly command: CommandInfo | undefined;

  constructor(code: string, message: string, options: CommandErrorOptions<Details> = {}) {
    if (typeof code !== 'string' || code.length === 0) {
      throw new InvalidArgumentError(
        `CommandError: code ${JSON.stringify(code)} must be a non-empty string`,
      );
    }
    super(code, message, options.cause === undefined ? undefined : { cause: options.cause });
    this.details = options.details;
    this.command = options.command;
    Object.defineProperty(this, COMMAND_ERROR, { value: true });
  }

  /**
   * Rebuilds the error from its JSON form.
   *
   * @example
   * ```ts
   * const error = CommandError.fromJSON({ code: 'OUT_OF_STOCK', message: 'only 3 left' });
   * ```
   */
  static fromJSON(
    data: CommandErrorData,
    options: Omit<CommandErrorOptions, 'details'> = {},
  ): CommandError {
    return new CommandError(data.code, data.message, { ...options, details: data.details });
  }

  /** The JSON form: code, message and details (when there are any). */
  toJSON(): CommandErrorData {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/**
 * True for a {@link CommandError} (optionally with a specific code): a failure that came from a
 * command handler, as opposed to the bus's own errors (timeouts, no handler, bad input). Checks a
 * brand shared by every copy of the package, not `instanceof`.
 *
 * @example
 * ```ts
 * if (isCommandError(error, 'OUT_OF_STOCK')) showStock(error.details);
 * ```
 */
export function isCommandError(error: unknown, code?: string): error is CommandError {
  return (
    isGoesError(error, code) &&
    (error as unknown as Record<symbol, unknown>)[COMMAND_ERROR] === true
  );
}

/**
 * The JSON form of anything a handler threw: a {@link CommandError} keeps code, message and
 * details; another error with a string `code` keeps code and message; anything else becomes
 * `COMMAND_HANDLER_FAILED` with its message.
 *
 * @example
 * ```ts
 * toCommandErrorData(new Error('boom')); // { code: 'COMMAND_HANDLER_FAILED', message: 'boom' }
 * ```
 */
export function toCommandErrorData(error: unknown): CommandErrorData {
  if (isCommandError(error)) return error.toJSON();
  if (error instanceof Error || (typeof error === 'object' && error !== null)) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    const text = typeof message === 'string' ? message : String(error);
    return {
      code: typeof code === 'string' && code.length > 0 ? code : 'COMMAND_HANDLER_FAILED',
      message: text,
    };
  }
  return { code: 'COMMAND_HANDLER_FAILED', message: String(error) };
}

function describeCommand(command: CommandInfo): string {
  return `command ${JSON.stringify(command.name)} (${command.id})`;
}

/**
 * Nothing handles the command: no handler is registered for its name on the local bus, or, on a
 * distributed bus, no bus instance announced a handler for it and none claimed it within the
 * no-handler grace period. Nothing was executed.
 *
 * @example
 * ```ts
 * await bus.dispatch(createCommand('nobody.listens', {})); // NoHandlerError
 * ```
 */
export class NoHandlerError extends GoesError {
  readonly command: CommandInfo;

  constructor(command: CommandInfo) {
    super('COMMAND_NO_HANDLER', `no handler for ${describeCommand(command)}`);
    this.command = command;
  }
}

/**
 * Handlers for the command exist but none took it within the assign timeout (all busy, or the
 * only handler bus did not answer). The command was not assigned, so it will never execute.
 *
 * @example
 * ```ts
 * createLocalCommandBus({ assignTimeout: 2_000 }); // how long a dispatch waits for a free handler
 * ```
 */
export class AssignTimeoutError extends GoesError {
  readonly command: CommandInfo;
  /** The timeout in milliseconds. */
  readonly timeout: number;

  constructor(command: CommandInfo, timeout: number) {
    super(
      'COMMAND_ASSIGN_TIMEOUT',
      `${describeCommand(command)} was not assigned to a handler within ${timeout} ms`,
    );
    this.command = command;
    this.timeout = timeout;
  }
}

/**
 * The command was assigned to a handler but waited longer than the receive timeout for the
 * handler to take it (its concurrency slots stayed busy, or a subscriber did not read). It was
 * dropped without executing, and the dispatcher is told (goes dropped it silently).
 *
 * @example
 * ```ts
 * if (isGoesError(error, 'COMMAND_RECEIVE_TIMEOUT')) retryLater();
 * ```
 */
export class ReceiveTimeoutError extends GoesError {
  readonly command: CommandInfo;
  readonly timeout: number;
  /** The id of the bus instance that dropped it. */
  readonly handler: string | undefined;

  constructor(command: CommandInfo, timeout: number, handler?: string) {
    super(
      'COMMAND_RECEIVE_TIMEOUT',
      `${describeCommand(command)} was dropped: its handler did not take it within ${timeout} ms`,
    );
    this.command = command;
    this.timeout = timeout;
    this.handler = handler;
  }
}

/**
 * The handler did not finish within the execution timeout, or (on a distributed bus) no outcome
 * came back in time, e.g. because the handler's process crashed. The handler's `signal` is
 * aborted with this error; a handler that ignores it keeps running in the background, but its
 * result is discarded and its concurrency slot is freed.
 *
 * @example
 * ```ts
 * await bus.dispatch(command, { sync: true, timeout: 5_000 }); // ExecutionTimeoutError after 5 s
 * ```
 */
export class ExecutionTimeoutError extends GoesError {
  readonly command: CommandInfo;
  readonly timeout: number;
  /** The id of the bus instance the command was assigned to. */
  readonly handler: string | undefined;

  constructor(command: CommandInfo, timeout: number, handler?: string, detail?: string) {
    super(
      'COMMAND_EXECUTION_TIMEOUT',
      `${describeCommand(command)} did not finish within ${timeout} ms${detail ? `: ${detail}` : ''}`,
    );
    this.command = command;
    this.timeout = timeout;
    this.handler = handler;
  }
}

/**
 * The reason a handler's `signal` aborts when the dispatcher cancelled the command (its dispatch
 * signal aborted while the command was running).
 *
 * @example
 * ```ts
 * bus.handle('report.build', async ({ signal }) => {
 *   signal.addEventListener('abort', () => console.log(signal.reason)); // CommandCancelledError
 * });
 * ```
 */
export class CommandCancelledError extends GoesError {
  readonly command: CommandInfo;

  constructor(command: CommandInfo) {
    super('COMMAND_CANCELLED', `${describeCommand(command)} was cancelled by its dispatcher`);
    this.command = command;
  }
}

/**
 * The command was assigned to a handler that stopped before running it (its subscription or bus
 * was closed). It did not execute.
 *
 * @example
 * ```ts
 * if (isGoesError(error, 'COMMAND_DROPPED')) await bus.dispatch(command, { sync: true }); // try again
 * ```
 */
export class CommandDroppedError extends GoesError {
  readonly command: CommandInfo;
  readonly handler: string | undefined;

  constructor(command: CommandInfo, reason: string, handler?: string) {
    super('COMMAND_DROPPED', `${describeCommand(command)} was dropped: ${reason}`);
    this.command = command;
    this.handler = handler;
  }
}

/**
 * A command is malformed: not an object, an invalid UUID id, an empty name, a bad aggregate, or
 * a payload the codec refuses (then `cause` is the codec's `ValidationError` with its issues).
 * Thrown at dispatch, before anything is sent; nothing executes.
 *
 * @example
 * ```ts
 * await bus.dispatch({ id: 'nope', name: 'order.place', payload: {} }); // InvalidCommandError naming "nope"
 * ```
 */
export class InvalidCommandError extends GoesError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_COMMAND', `invalid command: ${message}`, options);
  }
}

/**
 * The command's name is not registered in the bus's strict codec.
 *
 * @example
 * ```ts
 * const bus = createLocalCommandBus({ codec: createRegistry({ strict: true }) });
 * await bus.dispatch(createCommand('not.registered', {})); // UnknownCommandError
 * ```
 */
export class UnknownCommandError extends GoesError {
  readonly commandName: string;

  constructor(commandName: string, options?: { cause?: unknown }) {
    super('COMMAND_UNKNOWN', `unknown command ${JSON.stringify(commandName)}`, options);
    this.commandName = commandName;
  }
}

/**
 * The bus already has a handler or subscription for this command name (one per name per bus
 * instance; many bus instances may each have one, and exactly one of them executes a command).
 *
 * @example
 * ```ts
 * await bus.handle('order.place', place);
 * await bus.handle('order.place', place); // AlreadySubscribedError
 * ```
 */
export class AlreadySubscribedError extends GoesError {
  readonly commandName: string;

  constructor(commandName: string) {
    super(
      'COMMAND_ALREADY_SUBSCRIBED',
      `this bus already handles command ${JSON.stringify(commandName)}`,
    );
    this.commandName = commandName;
  }
}
