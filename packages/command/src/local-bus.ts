import type { Codec } from '@goes/codec';
import { ClosedError } from '@goes/event';
import {
  type Command,
  type CommandMap,
  type CommandName,
  commandInfo,
  type PayloadOf,
  type ResultOf,
} from './command.js';
import type {
  AsyncDispatchOptions,
  CommandBus,
  CommandReport,
  DispatchOptions,
  SyncDispatchOptions,
} from './contracts.js';
import { NoHandlerError } from './errors.js';
import { BusBase } from './internal/bus-base.js';
import { LocalDispatch } from './internal/local-dispatch.js';
import {
  checkTimeout,
  DEFAULT_ASSIGN_TIMEOUT,
  DEFAULT_EXECUTION_TIMEOUT,
  DEFAULT_RECEIVE_TIMEOUT,
  defaultOnError,
} from './internal/options.js';
import { checkCommand, validatePayload } from './internal/validate.js';

/**
 * The timeouts every command bus takes, in milliseconds. Each must be positive and finite, so
 * that nothing waits forever and no pending state outlives its deadline.
 *
 * @example
 * ```ts
 * const timeouts: CommandBusTimeouts = { assignTimeout: 2_000, receiveTimeout: 5_000, executionTimeout: 60_000 };
 * ```
 */
export interface CommandBusTimeouts {
  /**
   * How long a dispatch waits for a handler to take the command (all handlers busy, or on a
   * distributed bus no instance claiming it). Then {@link AssignTimeoutError}. Default 5,000.
   */
  readonly assignTimeout?: number | undefined;
  /**
   * How long an assigned command may wait for its handler to start it. Then it is dropped and the
   * dispatcher gets {@link ReceiveTimeoutError}. Default 10,000.
   */
  readonly receiveTimeout?: number | undefined;
  /**
   * How long a handler may run (default for `dispatch`'s `timeout`). Then its signal aborts and
   * the outcome is {@link ExecutionTimeoutError}. Default 30,000.
   */
  readonly executionTimeout?: number | undefined;
}

/**
 * Options of {@link createLocalCommandBus}.
 *
 * @example
 * ```ts
 * const bus = createLocalCommandBus({ codec: commands, executionTimeout: 10_000, onError: log.error });
 * ```
 */
export interface LocalCommandBusOptions extends CommandBusTimeouts {
  /**
   * Validates payloads at dispatch (schemas; a strict codec also refuses unknown names). Handlers
   * receive the schema's output. Payloads are not encoded: they are passed by reference.
   */
  readonly codec?: Codec | undefined;
  /**
   * Non-fatal errors: failures of asynchronously dispatched commands (unless the handler
   * registration has its own `onError`) and throwing `onReport` callbacks. Default: `console.error`.
   */
  readonly onError?: ((error: unknown) => void) | undefined;
}

/**
 * Creates the in-process command bus: handlers run in this process, and a dispatch reaches the
 * handler registered for its name directly, with the same semantics as the distributed bus
 * (typed errors, timeouts, concurrency limits, reports, cancellation) and none of the messages.
 * A command nobody handles fails at once with {@link NoHandlerError}.
 *
 * @example
 * ```ts
 * type Commands = { 'greeting.send': CommandSpec<{ to: string }, { text: string }> };
 * const bus = createLocalCommandBus<Commands>();
 * await bus.handle('greeting.send', ({ payload }) => ({ text: `hello ${payload.to}` }));
 * const { text } = await bus.dispatch(createCommand('greeting.send', { to: 'Ada' }), { sync: true });
 * ```
 */
export function createLocalCommandBus<M extends CommandMap = CommandMap>(
  options: LocalCommandBusOptions = {},
): CommandBus<M> {
  return new LocalCommandBus<M>(options);
}

class LocalCommandBus<M extends CommandMap> extends BusBase<M> implements CommandBus<M> {
  readonly #codec: Codec | undefined;
  readonly #assignTimeout: number;
  readonly #receiveTimeout: number;
  readonly #executionTimeout: number;
  readonly #pending = new Set<LocalDispatch>();

  constructor(options: LocalCommandBusOptions) {
    super(options.onError ?? defaultOnError);
    this.#codec = options.codec;
    this.#assignTimeout = checkTimeout(
      'assignTimeout',
      options.assignTimeout,
      DEFAULT_ASSIGN_TIMEOUT,
    );
    this.#receiveTimeout = checkTimeout(
      'receiveTimeout',
      options.receiveTimeout,
      DEFAULT_RECEIVE_TIMEOUT,
    );
    this.#executionTimeout = checkTimeout(
      'executionTimeout',
      options.executionTimeout,
      DEFAULT_EXECUTION_TIMEOUT,
    );
  }

  dispatch<N extends CommandName<M>>(
    command: Command<N, PayloadOf<M, N>>,
    options: SyncDispatchOptions<ResultOf<M, N>>,
  ): Promise<ResultOf<M, N>>;
  dispatch<N extends CommandName<M>>(
    command: Command<N, PayloadOf<M, N>>,
    options?: AsyncDispatchOptions,
  ): Promise<void>;
  dispatch<N extends CommandName<M>>(
    command: Command<N, PayloadOf<M, N>>,
    options?: DispatchOptions,
  ): Promise<ResultOf<M, N> | undefined>;
  async dispatch<N extends CommandName<M>>(
    command: Command<N, PayloadOf<M, N>>,
    options: DispatchOptions = {},
  ): Promise<unknown> {
    this.checkOpen('the command bus');
    checkCommand(command);
    const payload = validatePayload(this.#codec, command);
    const executionTimeout = checkTimeout('timeout', options.timeout, this.#executionTimeout);
    const { signal } = options;
    signal?.throwIfAborted();
    const inbox = this.inboxes.get(command.name);
    const info = commandInfo(command);
    if (!inbox) throw new NoHandlerError(info);
    const sync = options.sync === true;
    const onReport = sync ? (options as SyncDispatchOptions).onReport : undefined;
    const taken: Command = payload === command.payload ? command : { ...command, payload };
    return new Promise<unknown>((resolve, reject) => {
      const dispatch = new LocalDispatch({
        command: taken,
        info,
        inbox,
        sync,
        onReport: onReport as ((report: CommandReport) => void) | undefined,
        onError: this.onError,
        handler: this.id,
        assignTimeout: this.#assignTimeout,
        receiveTimeout: this.#receiveTimeout,
        executionTimeout,
        signal,
        resolve,
        reject,
        onDone: this.#forget,
      });
      this.#pending.add(dispatch);
      dispatch.start();
    });
  }

  readonly #forget = (dispatch: LocalDispatch): void => {
    this.#pending.delete(dispatch);
  };

  protected async start(): Promise<void> {}

  protected async announce(): Promise<void> {}

  protected closeDispatches(): void {
    for (const pending of [...this.#pending]) {
      pending.fail(new ClosedError('the command bus'), true);
    }
  }

  protected async shutdown(): Promise<void> {
    for (const pending of [...this.#pending]) {
      pending.fail(new ClosedError('the command bus'), false);
    }
  }
}
