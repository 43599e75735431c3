import type { DataMap, Registry, StandardSchemaV1 } from '@goes/codec';
import type { AggregateRef } from '@goes/event';
import { type Command, type CommandSpec, createCommand } from './command.js';

/**
 * The name of the built-in command that deletes an aggregate (goes' `builtin.DeleteAggregateCmd`).
 * It targets the aggregate through `command.aggregate`; its payload is empty. Its handler, which
 * deletes through a repository, is `handleBuiltinCommands` of `@goes/repository`.
 *
 * @example
 * ```ts
 * if (command.name === DELETE_AGGREGATE_COMMAND) console.log('deleting', command.aggregate);
 * ```
 */
export const DELETE_AGGREGATE_COMMAND = 'goes.command.aggregate.delete';

/**
 * The name of the event published when the built-in command deleted an aggregate (goes'
 * `builtin.AggregateDeleted`). It refers to the aggregate with version 0 (it takes no version
 * slot) and carries the deleted version in its data.
 *
 * @example
 * ```ts
 * await bus.subscribe([AGGREGATE_DELETED_EVENT]);
 * ```
 */
export const AGGREGATE_DELETED_EVENT = 'goes.command.aggregate.deleted';

/**
 * The payload of the delete-aggregate command: empty.
 *
 * @example
 * ```ts
 * const payload: DeleteAggregatePayload = {};
 * ```
 */
export type DeleteAggregatePayload = { readonly [key: string]: never };

/**
 * The data of the aggregate-deleted event: the version the aggregate had when it was deleted.
 *
 * @example
 * ```ts
 * const data: AggregateDeletedData = { version: 7 };
 * ```
 */
export interface AggregateDeletedData {
  readonly version: number;
}

/**
 * The built-in commands as a {@link CommandMap}: merge it into an application's map to dispatch
 * them through a typed bus.
 *
 * @example
 * ```ts
 * const bus = createLocalCommandBus<ShopCommands & BuiltinCommands>();
 * await bus.dispatch(deleteAggregateCommand({ name: 'order', id }), { sync: true });
 * ```
 */
export type BuiltinCommands = {
  readonly 'goes.command.aggregate.delete': CommandSpec<DeleteAggregatePayload, void>;
};

/**
 * The built-in events as an event map.
 *
 * @example
 * ```ts
 * type Deleted = EventOf<BuiltinEvents>; // Event<'goes.command.aggregate.deleted', AggregateDeletedData>
 * ```
 */
export type BuiltinEvents = {
  readonly 'goes.command.aggregate.deleted': AggregateDeletedData;
};

/**
 * Creates the delete-aggregate command for an aggregate (goes' `builtin.DeleteAggregate(name, id)`).
 *
 * @example
 * ```ts
 * await bus.dispatch(deleteAggregateCommand({ name: 'order', id: orderId }), { sync: true });
 * ```
 */
export function deleteAggregateCommand(
  aggregate: AggregateRef,
  options: { readonly id?: string | undefined } = {},
): Command<typeof DELETE_AGGREGATE_COMMAND, DeleteAggregatePayload> {
  return createCommand(DELETE_AGGREGATE_COMMAND, {}, { id: options.id, aggregate });
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * A Standard Schema for {@link DeleteAggregatePayload}: any object, normalized to `{}`.
 *
 * @example
 * ```ts
 * registry.register(DELETE_AGGREGATE_COMMAND, { schema: deleteAggregatePayloadSchema });
 * ```
 */
export const deleteAggregatePayloadSchema: StandardSchemaV1<unknown, DeleteAggregatePayload> = {
  '~standard': {
    version: 1,
    vendor: 'goes',
    validate: (value) =>
      isRecord(value)
        ? { value: {} }
        : { issues: [{ message: `expected an empty object, got ${JSON.stringify(value)}` }] },
  },
};

/**
 * A Standard Schema for {@link AggregateDeletedData}: `{ version }` with a non-negative integer.
 *
 * @example
 * ```ts
 * registry.register(AGGREGATE_DELETED_EVENT, { schema: aggregateDeletedDataSchema });
 * ```
 */
export const aggregateDeletedDataSchema: StandardSchemaV1<unknown, AggregateDeletedData> = {
  '~standard': {
    version: 1,
    vendor: 'goes',
    validate: (value) => {
      if (!isRecord(value)) {
        return { issues: [{ message: `expected { version }, got ${JSON.stringify(value)}` }] };
      }
      const { version } = value;
      if (typeof version !== 'number' || !Number.isInteger(version) || version < 0) {
        return {
          issues: [
            {
              message: `version ${JSON.stringify(version)} must be a non-negative integer`,
              path: ['version'],
            },
          ],
        };
      }
      return { value: { version } };
    },
  },
};

/**
 * Registers the built-in commands (with their payload schema) in a command codec registry
 * (goes' `builtin.RegisterCommands`).
 *
 * @example
 * ```ts
 * const commands = registerBuiltinCommands(createRegistry({ strict: true }));
 * ```
 */
export function registerBuiltinCommands<M extends DataMap>(
  registry: Registry<M>,
): Registry<M & { 'goes.command.aggregate.delete': DeleteAggregatePayload }> {
  return registry.register(DELETE_AGGREGATE_COMMAND, { schema: deleteAggregatePayloadSchema });
}

/**
 * Registers the built-in events (with their data schema) in an event codec registry
 * (goes' `builtin.RegisterEvents`).
 *
 * @example
 * ```ts
 * const events = registerBuiltinEvents(createRegistry({ strict: true }));
 * ```
 */
export function registerBuiltinEvents<M extends DataMap>(
  registry: Registry<M>,
): Registry<M & { 'goes.command.aggregate.deleted': AggregateDeletedData }> {
  return registry.register(AGGREGATE_DELETED_EVENT, { schema: aggregateDeletedDataSchema });
}
