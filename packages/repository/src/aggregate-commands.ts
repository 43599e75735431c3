import type { Aggregate } from '@goes/aggregate';
import {
  type CommandBus,
  type CommandContext,
  type CommandHandlerMap,
  type CommandHandlerRegistration,
  type CommandMap,
  type CommandName,
  handledCommandNames,
  type PayloadOf,
  type ResultOf,
  requireAggregateTarget,
} from '@goes/command';
import { InvalidArgumentError, type SignalOptions } from '@goes/event';
import type { CommandsOf } from './command-bus-fit.js';
import type { RetryPolicy } from './retry.js';
import type { TypedRepository } from './typed-repository.js';

/**
 * The context an aggregate-owned command handler or hook receives for commands `N` of map `M`:
 * a union over the names, so that checking `context.name` narrows `context.payload`.
 *
 * @example
 * ```ts
 * const log = (product: Product, context: AggregateCommandContext<ProductCommands>) => {
 *   if (context.name === 'product.price') console.log(context.payload.cents);
 * };
 * ```
 */
export type AggregateCommandContext<
  M extends CommandMap,
  N extends CommandName<M> = CommandName<M>,
> =
  string extends CommandName<M>
    ? // An untyped map: any name, payload unknown (also for hooks written inline for one name).
      CommandContext<string, unknown>
    : N extends unknown
      ? CommandContext<N, PayloadOf<M, N>>
      : never;

/**
 * A hook that runs before an aggregate-owned handler (goes' `handler.BeforeHandle`), on the
 * aggregate the handler will get, already loaded. Throwing refuses the command: the handler does
 * not run, nothing is saved, and the dispatcher receives the thrown error's code and message
 * (and details, for a `CommandError`).
 *
 * @example
 * ```ts
 * const notDiscontinued: BeforeCommandHook<ProductCommands, 'product.price', Product> = (product) => {
 *   if (product.softDeleted) throw new CommandError('PRODUCT_DISCONTINUED', `${product.id} is discontinued`);
 * };
 * ```
 */
export type BeforeCommandHook<
  M extends CommandMap,
  N extends CommandName<M>,
  A extends Aggregate,
> = (aggregate: A, context: AggregateCommandContext<M, N>) => void | Promise<void>;

/**
 * A hook that runs after an aggregate-owned handler succeeded (goes' `handler.AfterHandle`), on
 * the changed aggregate and before it is saved, with the handler's result. It may raise further
 * events; throwing fails the command and nothing is saved.
 *
 * @example
 * ```ts
 * const audit: AfterCommandHook<ProductCommands, 'product.price', Product> = (product, { payload }) => {
 *   if (payload.cents > 100_000) next(product, 'product.flagged', { reason: 'price' });
 * };
 * ```
 */
export type AfterCommandHook<
  M extends CommandMap,
  N extends CommandName<M>,
  A extends Aggregate,
> = (
  aggregate: A,
  context: AggregateCommandContext<M, N>,
  result: ResultOf<M, N>,
) => void | Promise<void>;

/**
 * Before-hooks by command name, one function or a list each; the key `'*'` holds hooks for every
 * command the registration handles. Wildcard hooks run first, then the hooks of the command's
 * name, each list in order.
 *
 * @example
 * ```ts
 * const before: BeforeCommandHooks<ProductCommands, Product> = {
 *   '*': (product, context) => authorize(context),
 *   'product.price': [(product) => requireCreated(product)],
 * };
 * ```
 */
export type BeforeCommandHooks<M extends CommandMap, A extends Aggregate> = {
  readonly [N in CommandName<M> | '*']?:
    | BeforeCommandHook<M, N extends CommandName<M> ? N : CommandName<M>, A>
    | readonly BeforeCommandHook<M, N extends CommandName<M> ? N : CommandName<M>, A>[]
    | undefined;
};

/**
 * After-hooks by command name, one function or a list each; the key `'*'` holds hooks for every
 * command the registration handles. Wildcard hooks run first, then the hooks of the command's
 * name, each list in order, and only when the handler succeeded.
 *
 * @example
 * ```ts
 * const after: AfterCommandHooks<ProductCommands, Product> = {
 *   '*': (product, context) => metrics.count(context.name),
 * };
 * ```
 */
export type AfterCommandHooks<M extends CommandMap, A extends Aggregate> = {
  readonly [N in CommandName<M> | '*']?:
    | AfterCommandHook<M, N extends CommandName<M> ? N : CommandName<M>, A>
    | readonly AfterCommandHook<M, N extends CommandName<M> ? N : CommandName<M>, A>[]
    | undefined;
};

/**
 * Options of {@link handleAggregateCommands}.
 *
 * @example
 * ```ts
 * const options: AggregateCommandsOptions<ProductCommands, Product> = {
 *   commands: Product.commands,
 *   before: { '*': (product, context) => authorize(context) },
 *   concurrency: 8,
 * };
 * ```
 */
export interface AggregateCommandsOptions<M extends CommandMap, A extends Aggregate>
  extends SignalOptions {
  /**
   * The commands the aggregate handles: command name → `(aggregate, context) => result`
   * (a `CommandHandlerMap` of `@goes/command`, typically a static field of the aggregate class).
   */
  readonly commands: CommandHandlerMap<M, A>;
  /** Hooks before the handler (`'*'` for every command), see {@link BeforeCommandHooks}. */
  readonly before?: BeforeCommandHooks<M, A> | undefined;
  /** Hooks after a successful handler (`'*'` for every command), see {@link AfterCommandHooks}. */
  readonly after?: AfterCommandHooks<M, A> | undefined;
  /**
   * How many commands of each name run at once (the bus's `concurrency`, default 1). Commands to
   * one aggregate may then run concurrently; the repository's optimistic concurrency check and
   * `use`'s retries resolve that.
   */
  readonly concurrency?: number | undefined;
  /** The retry policy of `use` for these commands; default: the repository's. */
  readonly retry?: RetryPolicy | false | undefined;
  /** Failures of asynchronously dispatched commands (the bus's `onError` by default). */
  readonly onError?: ((error: unknown) => void) | undefined;
  /** Aborting it closes the registration, like `close()`. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * The handlers {@link handleAggregateCommands} registered, one per command name; close it to stop
 * handling them all.
 *
 * @example
 * ```ts
 * await using handling = await handleAggregateCommands(bus, products, { commands: Product.commands });
 * console.log(handling.aggregateName, handling.names);
 * ```
 */
export interface AggregateCommandRegistration extends AsyncDisposable {
  /** The aggregate name every handled command must target. */
  readonly aggregateName: string;
  /** The command names handled. */
  readonly names: readonly string[];
  /** The bus registrations, one per name, in the order of `names`. */
  readonly registrations: readonly CommandHandlerRegistration[];
  /**
   * Stops claiming new commands, finishes the ones already running, and resolves when every
   * registration is closed. Idempotent.
   */
  close(): Promise<void>;
}

type LooseHook = (aggregate: Aggregate, context: CommandContext, result?: unknown) => unknown;
type LooseHandler = (aggregate: Aggregate, context: CommandContext) => unknown;

const show = (value: unknown): string => {
  if (typeof value === 'function') return 'a function';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
};

/** The hooks of `map` for one name: the wildcard ones first, then the name's, checked. */
function hooksFor(
  map: Readonly<Record<string, unknown>> | undefined,
  name: string,
  kind: string,
): LooseHook[] {
  if (!map) return [];
  const hooks: LooseHook[] = [];
  for (const key of ['*', name]) {
    const value = map[key];
    if (value === undefined) continue;
    const list = Array.isArray(value) ? (value as readonly unknown[]) : [value];
    list.forEach((hook, i) => {
      if (typeof hook !== 'function') {
        throw new InvalidArgumentError(
          `${kind}[${JSON.stringify(key)}]${Array.isArray(value) ? `[${i}]` : ''} must be a function, got ${show(hook)}`,
        );
      }
      hooks.push(hook as LooseHook);
    });
  }
  return hooks;
}

/** Hooks keyed by a name the registration does not handle are almost certainly typos. */
function checkHookNames(
  map: Readonly<Record<string, unknown>> | undefined,
  names: readonly string[],
  kind: string,
): void {
  if (map === undefined) return;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) {
    throw new InvalidArgumentError(
      `${kind} must be an object of hooks by command name, got ${show(map)}`,
    );
  }
  for (const key of Object.keys(map)) {
    if (key !== '*' && !names.includes(key)) {
      throw new InvalidArgumentError(
        `${kind} has hooks for ${JSON.stringify(key)}, which is not among the handled commands (${names.map((n) => JSON.stringify(n)).join(', ')}); use "*" for every command`,
      );
    }
  }
}

/**
 * Registers an aggregate's own command handlers on a command bus, run through a typed repository
 * (goes' `command/handler.New(newFunc, repo, bus).Handle`): for every command name in
 * `options.commands` it registers one bus handler that
 *
 * 1. refuses a command without an aggregate target, or targeting another aggregate name, with
 *    `InvalidCommandError` (code `INVALID_COMMAND` at the dispatcher);
 * 2. runs `repository.use(target.id, …)`: loads a fresh aggregate, runs the before-hooks (`'*'`
 *    first, then the name's), the handler and the after-hooks, and saves the changes in one
 *    atomic insert — retrying on version conflicts with a new aggregate each attempt, so hooks
 *    and handler run again on it;
 * 3. returns the handler's result to a synchronous dispatcher.
 *
 * A handler or hook that throws fails the command with its error (a `CommandError` keeps code,
 * message and details across a distributed bus) and nothing is saved. An aggregate nothing is
 * stored for starts at version 0, so a handler can create it; a soft-deleted one fails with
 * `AGGREGATE_DELETED`.
 *
 * @throws {@link InvalidArgumentError} for a map without handlers, a handler or hook that is not
 *   a function, or hooks for a name that is not handled; what `bus.handle` throws (e.g.
 *   `AlreadySubscribedError`), after closing the handlers already registered.
 * @example
 * ```ts
 * type ProductCommands = {
 *   'product.create': CommandSpec<{ sku: string; name: string }, void>;
 *   'product.price': CommandSpec<{ cents: number }, { previous: number }>;
 * };
 * class Product extends AggregateRoot<ProductEvents> {
 *   static readonly commands: CommandHandlerMap<ProductCommands, Product> = {
 *     'product.create': (product, { payload }) => product.create(payload.sku, payload.name),
 *     'product.price': (product, { payload }) => product.price(payload.cents),
 *   };
 *   // …
 * }
 *
 * const bus = createLocalCommandBus<ProductCommands>();
 * const products = createRepository({ store }).typed((id) => new Product(id));
 * await using handling = await handleAggregateCommands(bus, products, {
 *   commands: Product.commands,
 *   concurrency: 8,
 * });
 * const { previous } = await bus.dispatch(
 *   createCommand('product.price', { cents: 990 }, { aggregate: { name: 'product', id } }),
 *   { sync: true },
 * );
 * ```
 */
export async function handleAggregateCommands<
  B extends CommandMap,
  A extends Aggregate,
  M extends CommandMap = B,
>(
  bus: CommandBus<B>,
  repository: TypedRepository<A>,
  options: AggregateCommandsOptions<CommandsOf<B, M>, A>,
): Promise<AggregateCommandRegistration> {
  if (typeof (bus as { handle?: unknown } | undefined)?.handle !== 'function') {
    throw new InvalidArgumentError('handleAggregateCommands needs a command bus');
  }
  if (
    typeof (repository as { use?: unknown } | undefined)?.use !== 'function' ||
    typeof repository.aggregateName !== 'string'
  ) {
    throw new InvalidArgumentError(
      'handleAggregateCommands needs a typed repository, e.g. repository.typed((id) => new Product(id))',
    );
  }
  const commands = (options as { commands?: unknown } | undefined)?.commands;
  if (typeof commands !== 'object' || commands === null || Array.isArray(commands)) {
    throw new InvalidArgumentError(
      `options.commands must be an object of handlers by command name, got ${show(commands)}`,
    );
  }
  const handlers = commands as Readonly<Record<string, unknown>>;
  for (const [name, handler] of Object.entries(handlers)) {
    if (handler !== undefined && typeof handler !== 'function') {
      throw new InvalidArgumentError(
        `the handler of ${JSON.stringify(name)} must be a function, got ${show(handler)}`,
      );
    }
  }
  const names: string[] = handledCommandNames(options.commands);
  if (names.length === 0) {
    throw new InvalidArgumentError(
      `options.commands of the "${repository.aggregateName}" aggregate declares no command handler`,
    );
  }
  const before = options.before as Readonly<Record<string, unknown>> | undefined;
  const after = options.after as Readonly<Record<string, unknown>> | undefined;
  checkHookNames(before, names, 'options.before');
  checkHookNames(after, names, 'options.after');
  const runners = names.map((name) =>
    runner(repository, handlers[name] as LooseHandler, {
      before: hooksFor(before, name, 'options.before'),
      after: hooksFor(after, name, 'options.after'),
      retry: options.retry,
    }),
  );

  const loose = bus as unknown as CommandBus;
  const registrations: CommandHandlerRegistration[] = [];
  try {
    for (const [i, name] of names.entries()) {
      registrations.push(
        await loose.handle(name, runners[i] as (context: CommandContext) => Promise<unknown>, {
          concurrency: options.concurrency,
          onError: options.onError,
          signal: options.signal,
        }),
      );
    }
  } catch (error) {
    await Promise.allSettled(registrations.map((registration) => registration.close()));
    throw error;
  }
  return new AggregateCommands(repository.aggregateName, names, registrations);
}

/** The bus handler of one command name: check the target, then use → hooks → handler → save. */
function runner<A extends Aggregate>(
  repository: TypedRepository<A>,
  handler: LooseHandler,
  config: {
    readonly before: readonly LooseHook[];
    readonly after: readonly LooseHook[];
    readonly retry: RetryPolicy | false | undefined;
  },
): (context: CommandContext) => Promise<unknown> {
  const { before, after, retry } = config;
  const aggregateName = repository.aggregateName;
  return async (context) => {
    const target = requireAggregateTarget(context, aggregateName);
    let result: unknown;
    await repository.use(
      target.id,
      async (aggregate) => {
        for (const hook of before) await hook(aggregate, context);
        result = await handler(aggregate, context);
        for (const hook of after) await hook(aggregate, context, result);
      },
      { signal: context.signal, retry },
    );
    return result;
  };
}

class AggregateCommands implements AggregateCommandRegistration {
  readonly aggregateName: string;
  readonly names: readonly string[];
  readonly registrations: readonly CommandHandlerRegistration[];
  #closing: Promise<void> | undefined;

  constructor(
    aggregateName: string,
    names: readonly string[],
    registrations: readonly CommandHandlerRegistration[],
  ) {
    this.aggregateName = aggregateName;
    this.names = Object.freeze([...names]);
    this.registrations = Object.freeze([...registrations]);
  }

  close(): Promise<void> {
    this.#closing ??= Promise.all(
      this.registrations.map((registration) => registration.close()),
    ).then(() => undefined);
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
