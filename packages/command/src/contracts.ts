import type { SignalOptions } from '@goes/event';
import type {
  Command,
  CommandInfo,
  CommandMap,
  CommandName,
  PayloadOf,
  ResultOf,
} from './command.js';
import type { CommandError, ExecutionTimeoutError } from './errors.js';

/**
 * Options of {@link CommandBus.dispatch}.
 *
 * @example
 * ```ts
 * await bus.dispatch(command, { timeout: 10_000, signal: request.signal });
 * ```
 */
export interface DispatchOptions extends SignalOptions {
  /**
   * Wait for the handler's outcome and resolve with its result (or reject with its error).
   * Without it, `dispatch` resolves once the command was handed to a handler, and failures are
   * reported on the handler's side (its `onError`).
   */
  readonly sync?: boolean | undefined;
  /**
   * The execution timeout of this command in milliseconds: how long its handler may run before
   * its `signal` aborts and the outcome is {@link ExecutionTimeoutError}. Overrides the bus's
   * `executionTimeout`. Applies to asynchronous dispatches too (on the handler's side).
   */
  readonly timeout?: number | undefined;
  /**
   * Aborting it gives up on the dispatch, which rejects with `signal.reason`. A command that was
   * not yet assigned to a handler is then never executed; a running one has its handler's signal
   * aborted with {@link CommandCancelledError} (best effort: the handler decides whether to stop).
   */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Options of a synchronous {@link CommandBus.dispatch}: `sync: true`, and optionally a callback
 * that receives the execution report.
 *
 * @example
 * ```ts
 * const { orderId } = await bus.dispatch(place, { sync: true, onReport: (r) => metrics.observe(r.runtime) });
 * ```
 */
export interface SyncDispatchOptions<Result = unknown> extends DispatchOptions {
  readonly sync: true;
  /**
   * Called with the report of the execution (runtime and outcome) before `dispatch` settles,
   * whenever the handler ran: on success, on failure and on an execution timeout.
   */
  readonly onReport?: ((report: CommandReport<Result>) => void) | undefined;
}

/**
 * Options of an asynchronous {@link CommandBus.dispatch} (`sync` false or absent).
 *
 * @example
 * ```ts
 * await bus.dispatch(command, { timeout: 60_000 } satisfies AsyncDispatchOptions);
 * ```
 */
export interface AsyncDispatchOptions extends DispatchOptions {
  readonly sync?: false | undefined;
}

/**
 * What every execution report holds: the command, how long its handler ran, and which bus
 * instance ran it.
 *
 * @example
 * ```ts
 * function log(report: CommandReportBase) { console.log(report.command.name, report.runtime); }
 * ```
 */
export interface CommandReportBase {
  readonly command: CommandInfo;
  /** Milliseconds from the start of the handler to its outcome. */
  readonly runtime: number;
  /** The id of the bus instance whose handler ran the command. */
  readonly handler: string;
}

/**
 * The report of one execution (goes' `report.Report`): runtime and outcome. On success it has
 * the result and no error (goes reported a non-nil error on success); on failure it has the
 * error: a {@link CommandError} from the handler, or an {@link ExecutionTimeoutError}.
 *
 * @example
 * ```ts
 * await bus.dispatch(place, {
 *   sync: true,
 *   onReport: (report) => {
 *     if (report.outcome === 'failed') console.warn(report.error.code, report.runtime);
 *   },
 * });
 * ```
 */
export type CommandReport<Result = unknown> = CommandReportBase &
  (
    | { readonly outcome: 'succeeded'; readonly result: Result }
    | { readonly outcome: 'failed'; readonly error: CommandError | ExecutionTimeoutError }
  );

/**
 * What a handler gets: the command's fields (`id`, `name`, `payload`, `aggregate`), the command
 * itself, and a `signal` that aborts when the handler should stop: on its execution timeout
 * (reason {@link ExecutionTimeoutError}), when the dispatcher cancels (reason
 * {@link CommandCancelledError}).
 *
 * @example
 * ```ts
 * const handler: CommandHandler<ShopCommands, 'order.place'> = async ({ payload, signal }) => {
 *   const orderId = await orders.create(payload, { signal });
 *   return { orderId };
 * };
 * ```
 */
export interface CommandContext<N extends string = string, P = unknown> extends Command<N, P> {
  readonly command: Command<N, P>;
  readonly signal: AbortSignal;
}

/**
 * A command delivered to a {@link CommandSubscription}: the consumer runs it and reports the
 * outcome with `finish(result)` or `fail(error)`. Only the first outcome counts; both return
 * false when the command already has one (it timed out or was cancelled meanwhile).
 *
 * @example
 * ```ts
 * for await (const received of subscription) {
 *   try { received.finish(await run(received.payload)); } catch (error) { received.fail(error); }
 * }
 * ```
 */
export interface ReceivedCommand<N extends string = string, P = unknown, R = unknown>
  extends CommandContext<N, P> {
  /** Reports success with the handler's result. */
  finish(result: R): boolean;
  /** Reports failure; the dispatcher receives it as a {@link CommandError}. */
  fail(error: unknown): boolean;
}

/**
 * The {@link ReceivedCommand}s of some names of a {@link CommandMap}, as a union that narrows on
 * `name`.
 *
 * @example
 * ```ts
 * for await (const received of subscription as CommandSubscription<ShopCommands, 'order.place'>) {
 *   const typed: ReceivedCommandOf<ShopCommands, 'order.place'> = received;
 * }
 * ```
 */
export type ReceivedCommandOf<
  M extends CommandMap,
  N extends CommandName<M> = CommandName<M>,
> = N extends unknown ? ReceivedCommand<N, PayloadOf<M, N>, ResultOf<M, N>> : never;

/**
 * A pull-style subscription to commands (goes' `Bus.Subscribe`): iterate it to receive the
 * commands assigned to this bus instance and report their outcomes. The bus claims at most
 * `maxInFlight` commands that have no outcome yet, so a slow consumer leaves commands to other
 * instances. A command waits at most the receive timeout to be read; then it is dropped and the
 * dispatcher gets {@link ReceiveTimeoutError}.
 *
 * @example
 * ```ts
 * await using subscription = await bus.subscribe(['order.place']);
 * for await (const received of subscription) received.finish(await place(received.payload));
 * ```
 */
export interface CommandSubscription<
  M extends CommandMap = CommandMap,
  N extends CommandName<M> = CommandName<M>,
> extends AsyncIterable<ReceivedCommandOf<M, N>>,
    AsyncDisposable {
  readonly names: readonly N[];
  /**
   * Stops claiming new commands. The iteration still yields the commands already assigned, then
   * ends. Breaking out of the loop instead drops the unread ones (their dispatchers get
   * {@link CommandDroppedError}).
   */
  close(): Promise<void>;
}

/**
 * Options of {@link CommandBus.subscribe}.
 *
 * @example
 * ```ts
 * await bus.subscribe(['report.build'], { maxInFlight: 4, signal });
 * ```
 */
export interface SubscribeCommandsOptions extends SignalOptions {
  /** How many commands without an outcome the subscription holds at most. Default 16. */
  readonly maxInFlight?: number | undefined;
  /**
   * Non-fatal errors of this subscription: failures of commands dispatched asynchronously (no
   * dispatcher waits for them) and dropped commands. Defaults to the bus's `onError`.
   */
  readonly onError?: ((error: unknown) => void) | undefined;
}

/**
 * A command handler: receives the context and returns the result (or throws to fail the
 * command). It may be async.
 *
 * @example
 * ```ts
 * const cancel: CommandHandler<ShopCommands, 'order.cancel'> = async ({ aggregate, payload }) => {
 *   await orders.cancel(aggregate!.id, payload.reason);
 * };
 * ```
 */
export type CommandHandler<
  M extends CommandMap = CommandMap,
  N extends CommandName<M> = CommandName<M>,
> = (context: CommandContext<N, PayloadOf<M, N>>) => ResultOf<M, N> | Promise<ResultOf<M, N>>;

/**
 * Options of {@link CommandBus.handle}.
 *
 * @example
 * ```ts
 * await bus.handle('order.place', place, { concurrency: 8, onError: log.warn });
 * ```
 */
export interface HandleOptions extends SignalOptions {
  /**
   * How many commands this handler runs at the same time (and claims at most). Default 1, as in
   * goes; raise it for handlers that wait on I/O. Commands to one aggregate may then run
   * concurrently; the repository's optimistic concurrency check resolves that.
   */
  readonly concurrency?: number | undefined;
  /**
   * Failures of commands dispatched asynchronously (handler errors, timeouts, dropped commands).
   * Defaults to the bus's `onError`. Synchronous dispatchers get their failures themselves.
   */
  readonly onError?: ((error: unknown) => void) | undefined;
  /** Aborting it closes the registration, like `close()`. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * A handler registration: close it to stop handling the name.
 *
 * @example
 * ```ts
 * await using registration = await bus.handle('order.place', place);
 * ```
 */
export interface CommandHandlerRegistration extends AsyncDisposable {
  /** The command name handled. */
  readonly name: string;
  /**
   * Resolves once the handler receives commands (for `handle`, already when it resolves).
   * Rejects when the bus could not start (also reported to `onError`).
   */
  readonly ready: Promise<void>;
  /**
   * Stops claiming new commands, runs the ones already assigned, and resolves when all of them
   * have an outcome (each bounded by its execution timeout).
   */
  close(): Promise<void>;
}

/**
 * The command bus contract (goes' `command.Bus`): dispatch commands, and handle them, either with
 * a handler function ({@link CommandBus.handle}) or pull-style ({@link CommandBus.subscribe}).
 * Implementations guarantee that exactly one handler executes a command, also with many bus
 * instances handling the same name; give typed errors for every failure (see the README); and
 * keep no state that grows without bound. `@goes/testing`'s `commandBusConformance` checks this.
 *
 * @example
 * ```ts
 * const bus: CommandBus<ShopCommands> = createDistributedCommandBus(eventBus, { codec });
 * await bus.handle('order.place', async ({ payload }) => ({ orderId: await place(payload) }));
 * const { orderId } = await bus.dispatch(createCommand('order.place', { sku: 'A-1', quantity: 1 }), { sync: true });
 * ```
 */
export interface CommandBus<M extends CommandMap = CommandMap> extends AsyncDisposable {
  /** This bus instance's id (a UUIDv7), as reported in {@link CommandReport.handler}. */
  readonly id: string;
  /**
   * Dispatches a command synchronously: resolves with the handler's result, or rejects with the
   * handler's {@link CommandError} or the bus's typed error.
   *
   * @throws {@link InvalidCommandError}, {@link UnknownCommandError} (bad input, at once)
   * @throws {@link NoHandlerError}, {@link AssignTimeoutError}, {@link ReceiveTimeoutError},
   *   {@link ExecutionTimeoutError}, {@link CommandDroppedError}, {@link CommandError}
   */
  dispatch<N extends CommandName<M>>(
    command: Command<N, PayloadOf<M, N>>,
    options: SyncDispatchOptions<ResultOf<M, N>>,
  ): Promise<ResultOf<M, N>>;
  /**
   * Dispatches a command asynchronously: resolves once the command was assigned to a handler.
   *
   * @throws {@link InvalidCommandError}, {@link UnknownCommandError}, {@link NoHandlerError},
   *   {@link AssignTimeoutError}
   */
  dispatch<N extends CommandName<M>>(
    command: Command<N, PayloadOf<M, N>>,
    options?: AsyncDispatchOptions,
  ): Promise<void>;
  /** Dispatches a command; resolves with the result when `options.sync` is true. */
  dispatch<N extends CommandName<M>>(
    command: Command<N, PayloadOf<M, N>>,
    options?: DispatchOptions,
  ): Promise<ResultOf<M, N> | undefined>;
  /**
   * Subscribes to commands by name, pull-style. One subscription or handler per name per bus.
   *
   * @throws {@link AlreadySubscribedError}
   */
  subscribe<N extends CommandName<M>>(
    names: readonly N[],
    options?: SubscribeCommandsOptions,
  ): Promise<CommandSubscription<M, N>>;
  /**
   * Registers a handler for a command name; resolves once it receives commands.
   *
   * @throws {@link AlreadySubscribedError}
   */
  handle<N extends CommandName<M>>(
    name: N,
    handler: CommandHandler<M, N>,
    options?: HandleOptions,
  ): Promise<CommandHandlerRegistration>;
  /**
   * Registers a handler synchronously (goes' `MustHandle`): throws at once on bad input or a
   * name already handled; the bus starts in the background (`ready`).
   *
   * @throws {@link AlreadySubscribedError}
   */
  mustHandle<N extends CommandName<M>>(
    name: N,
    handler: CommandHandler<M, N>,
    options?: HandleOptions,
  ): CommandHandlerRegistration;
  /**
   * Closes the bus: handlers stop claiming commands and finish the assigned ones, dispatches
   * still waiting reject with `ClosedError`, and later calls fail with `ClosedError`.
   */
  close(): Promise<void>;
}
