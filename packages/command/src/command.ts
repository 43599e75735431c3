import { type AggregateRef, uuidv7 } from '@goes/event';

/**
 * What one command name fixes: the type of its payload and the type of the result its handler
 * returns. Entries of a {@link CommandMap}.
 *
 * @example
 * ```ts
 * type PlaceOrder = CommandSpec<{ sku: string; quantity: number }, { orderId: string }>;
 * ```
 */
export interface CommandSpec<Payload = unknown, Result = unknown> {
  readonly payload: Payload;
  readonly result: Result;
}

/**
 * A map from command names to their {@link CommandSpec}: the typed counterpart of a command codec.
 * A bus typed with it infers the payload a command needs and the result `dispatch` returns from
 * the command's name alone.
 *
 * @example
 * ```ts
 * type ShopCommands = {
 *   'order.place': CommandSpec<{ sku: string; quantity: number }, { orderId: string }>;
 *   'order.cancel': CommandSpec<{ reason: string }, void>;
 * };
 * const bus = createLocalCommandBus<ShopCommands>();
 * ```
 */
export type CommandMap = { readonly [name: string]: CommandSpec };

/**
 * The command names of a {@link CommandMap}.
 *
 * @example
 * ```ts
 * type Names = CommandName<ShopCommands>; // 'order.place' | 'order.cancel'
 * ```
 */
export type CommandName<M extends CommandMap> = keyof M & string;

/**
 * The payload type of command `N` in map `M`.
 *
 * @example
 * ```ts
 * type P = PayloadOf<ShopCommands, 'order.place'>; // { sku: string; quantity: number }
 * ```
 */
export type PayloadOf<M extends CommandMap, N extends CommandName<M>> = M[N]['payload'];

/**
 * The result type of command `N` in map `M`: what its handler returns and a synchronous
 * dispatch resolves to.
 *
 * @example
 * ```ts
 * type R = ResultOf<ShopCommands, 'order.place'>; // { orderId: string }
 * ```
 */
export type ResultOf<M extends CommandMap, N extends CommandName<M>> = M[N]['result'];

/**
 * A command: a request to do something, with a UUIDv7 `id`, a `name`, a typed `payload` and,
 * when it targets an aggregate, the aggregate `{ name, id }` (the same order as everywhere else
 * in goes; goes' `command.Aggregate(name, id)` and `event.Aggregate(id, name)` disagreed).
 *
 * @example
 * ```ts
 * const command: Command<'order.place', { sku: string }> = createCommand('order.place', { sku: 'A-1' });
 * ```
 */
export interface Command<N extends string = string, P = unknown> {
  readonly id: string;
  readonly name: N;
  readonly payload: P;
  readonly aggregate?: AggregateRef | undefined;
}

/**
 * The union of command types of a {@link CommandMap} (optionally limited to some names), so that
 * narrowing on `name` narrows `payload`.
 *
 * @example
 * ```ts
 * function describe(command: CommandOf<ShopCommands>) {
 *   if (command.name === 'order.cancel') return command.payload.reason;
 * }
 * ```
 */
export type CommandOf<
  M extends CommandMap,
  N extends CommandName<M> = CommandName<M>,
> = N extends unknown ? Command<N, PayloadOf<M, N>> : never;

/**
 * What identifies a command in errors and reports: its id, name and aggregate (not the payload).
 *
 * @example
 * ```ts
 * const info: CommandInfo = { id: command.id, name: command.name };
 * ```
 */
export interface CommandInfo {
  readonly id: string;
  readonly name: string;
  readonly aggregate?: AggregateRef | undefined;
}

/**
 * Options of {@link createCommand}.
 *
 * @example
 * ```ts
 * createCommand('order.cancel', { reason: 'late' }, { aggregate: { name: 'order', id: orderId } });
 * ```
 */
export interface CreateCommandOptions {
  /** Defaults to a new UUIDv7. */
  readonly id?: string | undefined;
  /** The aggregate the command targets. */
  readonly aggregate?: AggregateRef | undefined;
}

/**
 * Creates a command (goes' `command.New`). Nothing is validated here; the bus validates a
 * command when it is dispatched (id, name, aggregate, and the payload against the codec).
 *
 * @example
 * ```ts
 * const place = createCommand('order.place', { sku: 'A-1', quantity: 2 });
 * const cancel = createCommand('order.cancel', { reason: 'late' }, { aggregate: { name: 'order', id } });
 * ```
 */
export function createCommand<N extends string, P>(
  name: N,
  payload: P,
  options: CreateCommandOptions = {},
): Command<N, P> {
  const command: { -readonly [K in keyof Command<N, P>]: Command<N, P>[K] } = {
    id: options.id ?? uuidv7(),
    name,
    payload,
  };
  if (options.aggregate) {
    command.aggregate = { name: options.aggregate.name, id: options.aggregate.id };
  }
  return command;
}

/**
 * The {@link CommandInfo} of a command: id, name and aggregate, without the payload.
 *
 * @example
 * ```ts
 * console.log(commandInfo(command)); // { id, name, aggregate? }
 * ```
 */
export function commandInfo(command: CommandInfo): CommandInfo {
  const info: { -readonly [K in keyof CommandInfo]: CommandInfo[K] } = {
    id: command.id,
    name: command.name,
  };
  if (command.aggregate) {
    info.aggregate = { name: command.aggregate.name, id: command.aggregate.id };
  }
  return info;
}
