import type { AggregateRef } from '@goes/event';
import type { CommandMap, CommandName, PayloadOf, ResultOf } from './command.js';
import type { CommandContext } from './contracts.js';
import { InvalidCommandError } from './errors.js';

/**
 * A handler owned by an aggregate: it receives the aggregate (loaded by the repository for the
 * command's target) and the command context, changes the aggregate, and returns the command's
 * result. The repository saves the aggregate afterwards.
 *
 * @example
 * ```ts
 * const place: AggregateCommandHandler<OrderCommands, 'order.place', Order> = (order, { payload }) =>
 *   order.place(payload.sku, payload.quantity);
 * ```
 */
export type AggregateCommandHandler<M extends CommandMap, N extends CommandName<M>, Target> = (
  target: Target,
  context: CommandContext<N, PayloadOf<M, N>>,
) => ResultOf<M, N> | Promise<ResultOf<M, N>>;

/**
 * The commands an aggregate declares it handles (goes' aggregate-owned command handlers,
 * `command.Handlers`): a map from command name to {@link AggregateCommandHandler}. One handler per
 * name. `@goes/repository` turns such a map into bus handlers: for every name it registers a
 * handler that checks the command's aggregate target ({@link requireAggregateTarget}), loads the
 * aggregate through the repository, runs the method, and saves (retrying on version conflicts).
 *
 * @example
 * ```ts
 * type OrderCommands = {
 *   'order.place': CommandSpec<{ sku: string; quantity: number }, void>;
 *   'order.cancel': CommandSpec<{ reason: string }, void>;
 * };
 * class Order {
 *   static readonly commands: CommandHandlerMap<OrderCommands, Order> = {
 *     'order.place': (order, { payload }) => order.place(payload.sku, payload.quantity),
 *     'order.cancel': (order, { payload }) => order.cancel(payload.reason),
 *   };
 * }
 * ```
 */
export type CommandHandlerMap<M extends CommandMap, Target> = {
  // The handler type is spelled out rather than named AggregateCommandHandler<M, N, Target>: the
  // compiler compares instances of a named alias by its type arguments, so a map declared for a
  // part of an application's commands would not fit the application's map. Spelled out, handlers
  // are compared by their payload and result types, which is what matters. For the untyped
  // CommandMap (names: string) the context's name stays `string`, so that a handler written
  // inline for some name still fits the map's index signature.
  readonly [N in CommandName<M>]?: (
    target: Target,
    context: CommandContext<string extends CommandName<M> ? string : N, PayloadOf<M, N>>,
  ) => ResultOf<M, N> | Promise<ResultOf<M, N>>;
};

/**
 * The command names a {@link CommandHandlerMap} handles (those with a handler).
 *
 * @example
 * ```ts
 * handledCommandNames(Order.commands); // ['order.place', 'order.cancel']
 * ```
 */
export function handledCommandNames<M extends CommandMap, Target>(
  handlers: CommandHandlerMap<M, Target>,
): CommandName<M>[] {
  return Object.keys(handlers).filter(
    (name) => typeof (handlers as Record<string, unknown>)[name] === 'function',
  ) as CommandName<M>[];
}

/**
 * The aggregate a command targets, checked: it must have one, and (when `aggregateName` is given)
 * of that name. Aggregate-owned handlers call it before loading the aggregate.
 *
 * @throws {@link InvalidCommandError} naming the command when the target is missing or of
 *   another aggregate.
 * @example
 * ```ts
 * const { id } = requireAggregateTarget(context, 'order');
 * ```
 */
export function requireAggregateTarget(
  command: {
    readonly id: string;
    readonly name: string;
    readonly aggregate?: AggregateRef | undefined;
  },
  aggregateName?: string,
): AggregateRef {
  const target = command.aggregate;
  if (!target) {
    throw new InvalidCommandError(
      `command ${JSON.stringify(command.name)} (${command.id}) has no aggregate target${aggregateName ? `; its handler needs a ${JSON.stringify(aggregateName)} aggregate` : ''}`,
    );
  }
  if (aggregateName !== undefined && target.name !== aggregateName) {
    throw new InvalidCommandError(
      `command ${JSON.stringify(command.name)} (${command.id}) targets aggregate ${JSON.stringify(target.name)}, but its handler belongs to ${JSON.stringify(aggregateName)}`,
    );
  }
  return target;
}
