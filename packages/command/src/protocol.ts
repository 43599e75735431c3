import type { DataMap, Registry } from '@goes/codec';
import type { AggregateRef } from '@goes/event';
import type { CommandErrorData } from './errors.js';

/**
 * The names of the distributed command bus's protocol events. Every bus instance subscribes to
 * all of them on the shared event bus (never through a load-balancing group). Register them in a
 * strict event codec with {@link registerCommandBusEvents}.
 *
 * @example
 * ```ts
 * console.log(COMMAND_BUS_EVENTS.dispatched); // 'goes.command.dispatched'
 * ```
 */
export const COMMAND_BUS_EVENTS = {
  /** A dispatcher offers a command to every instance. */
  dispatched: 'goes.command.dispatched',
  /** An instance with a handler and room claims it. */
  requested: 'goes.command.requested',
  /** The dispatcher picks the first claimant (or, for a late claim, nobody). */
  assigned: 'goes.command.assigned',
  /** The assignee reports the outcome (only when the dispatcher waits for it). */
  executed: 'goes.command.executed',
  /** The dispatcher cancels a running command. */
  cancelled: 'goes.command.cancelled',
  /** An instance announces the command names it handles (membership and heartbeat). */
  handlers: 'goes.command.handlers',
} as const;

/**
 * Data of `goes.command.dispatched`. The payload is encoded with the command codec, so the event
 * bus only ever carries JSON; only the instance that is assigned the command decodes it.
 * The dispatcher's timeouts travel with the command, so every instance applies the same deadlines.
 *
 * @example
 * ```ts
 * const data: CommandDispatchedData = { id, name: 'order.place', payload: '{"sku":"A-1"}', dispatcher: bus.id,
 *   reply: true, assignTimeout: 5_000, receiveTimeout: 10_000, executionTimeout: 30_000 };
 * ```
 */
export interface CommandDispatchedData {
  readonly id: string;
  readonly name: string;
  readonly aggregate?: AggregateRef;
  readonly payload: string;
  /** Id of the dispatching bus instance. */
  readonly dispatcher: string;
  /** True when the dispatcher waits for the outcome (synchronous dispatch). */
  readonly reply: boolean;
  readonly assignTimeout: number;
  readonly receiveTimeout: number;
  readonly executionTimeout: number;
}

/**
 * Data of `goes.command.requested`: instance `handler` claims command `id`. `claim` is a fresh
 * UUIDv7 for this one claim: the dispatcher echoes it in the assignment, and the claimant acts
 * only on an assignment that carries the id of the claim it holds, so an assignment delivered
 * again by an at-least-once event bus never matches a later claim for the same command.
 *
 * @example
 * ```ts
 * const data: CommandRequestedData = { id, dispatcher, handler: bus.id, claim: uuidv7() };
 * ```
 */
export interface CommandRequestedData {
  readonly id: string;
  readonly dispatcher: string;
  readonly handler: string;
  /** Unique id of this claim (UUIDv7). */
  readonly claim: string;
}

/**
 * Data of `goes.command.assigned`: command `id` goes to `handler` on the strength of its claim
 * `claim`; every other claimant lets it go. An empty `handler` assigns it to nobody (the answer
 * to a claim that came too late; `claim` then names that late claim, which is released).
 *
 * @example
 * ```ts
 * const data: CommandAssignedData = { id, dispatcher: bus.id, handler, reply: true, claim };
 * ```
 */
export interface CommandAssignedData {
  readonly id: string;
  readonly dispatcher: string;
  readonly handler: string;
  readonly reply: boolean;
  /** The claim id of the claim this assigns (or releases), copied from its `requested`. */
  readonly claim: string;
}

/**
 * How the assignee ended a command: the handler's result or error, a timeout, a drop (closed
 * before running it), or a refusal (the payload could not be decoded there).
 *
 * @example
 * ```ts
 * const outcome: WireOutcome = 'execution-timeout';
 * ```
 */
export type WireOutcome =
  | 'succeeded'
  | 'failed'
  | 'execution-timeout'
  | 'receive-timeout'
  | 'dropped'
  | 'rejected';

/**
 * Data of `goes.command.executed`. `result` is encoded with the result codec (absent for an
 * `undefined` result); `error` is the JSON form of the failure ({@link CommandErrorData});
 * `runtime` is in milliseconds; `timeout` is set for the two timeouts.
 *
 * @example
 * ```ts
 * const data: CommandExecutedData = { id, dispatcher, handler: bus.id, outcome: 'failed', runtime: 1.5,
 *   error: { code: 'OUT_OF_STOCK', message: 'only 3 left', details: { available: 3 } } };
 * ```
 */
export interface CommandExecutedData {
  readonly id: string;
  readonly dispatcher: string;
  readonly handler: string;
  readonly outcome: WireOutcome;
  readonly runtime: number;
  readonly result?: string;
  readonly error?: CommandErrorData;
  readonly timeout?: number;
}

/**
 * Data of `goes.command.cancelled`: the dispatcher of command `id` gave up; `handler` aborts it.
 *
 * @example
 * ```ts
 * const data: CommandCancelledData = { id, dispatcher: bus.id, handler };
 * ```
 */
export interface CommandCancelledData {
  readonly id: string;
  readonly dispatcher: string;
  readonly handler: string;
}

/**
 * Data of `goes.command.handlers`: instance `bus` handles `names` for the next `ttl`
 * milliseconds (an empty list: it handles nothing any more). `discover` asks every other
 * instance to announce itself (sent when an instance starts).
 *
 * @example
 * ```ts
 * const data: CommandHandlersData = { bus: bus.id, names: ['order.place'], ttl: 15_000, discover: false };
 * ```
 */
export interface CommandHandlersData {
  readonly bus: string;
  readonly names: readonly string[];
  readonly ttl: number;
  readonly discover: boolean;
}

/**
 * The protocol event names with their data types (for typed event codecs).
 *
 * @example
 * ```ts
 * type Data = CommandBusEventMap['goes.command.dispatched']; // CommandDispatchedData
 * ```
 */
export type CommandBusEventMap = {
  'goes.command.dispatched': CommandDispatchedData;
  'goes.command.requested': CommandRequestedData;
  'goes.command.assigned': CommandAssignedData;
  'goes.command.executed': CommandExecutedData;
  'goes.command.cancelled': CommandCancelledData;
  'goes.command.handlers': CommandHandlersData;
};

/**
 * Registers the protocol events in an event codec registry (goes' `cmdbus.RegisterEvents`).
 * Needed only when the event bus encodes with a strict registry; their data is plain JSON.
 *
 * @example
 * ```ts
 * const events = registerCommandBusEvents(createRegistry({ strict: true }));
 * const bus = createDistributedCommandBus(createMemoryEventBus({ codec: events }));
 * ```
 */
export function registerCommandBusEvents<M extends DataMap>(
  registry: Registry<M>,
): Registry<M & CommandBusEventMap> {
  for (const name of Object.values(COMMAND_BUS_EVENTS)) registry.register(name);
  return registry as unknown as Registry<M & CommandBusEventMap>;
}

type Fields = Record<string, unknown>;

const isObject = (value: unknown): value is Fields =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isText = (value: unknown): value is string => typeof value === 'string' && value.length > 0;
const isDuration = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value) && value > 0;

/** @internal Reads `dispatched` data from the wire; undefined when malformed. */
export function readDispatched(data: unknown): CommandDispatchedData | undefined {
  if (!isObject(data)) return undefined;
  const ok =
    isText(data.id) &&
    isText(data.name) &&
    typeof data.payload === 'string' &&
    isText(data.dispatcher) &&
    typeof data.reply === 'boolean' &&
    isDuration(data.assignTimeout) &&
    isDuration(data.receiveTimeout) &&
    isDuration(data.executionTimeout) &&
    (data.aggregate === undefined ||
      data.aggregate === null ||
      (isObject(data.aggregate) && isText(data.aggregate.name) && isText(data.aggregate.id)));
  return ok ? (data as unknown as CommandDispatchedData) : undefined;
}

/**
 * @internal Reads `requested` data from the wire. A claim without a claim id (published by a
 * version before claim ids) is malformed: it could never be matched by its assignment.
 */
export function readRequested(data: unknown): CommandRequestedData | undefined {
  if (!isObject(data)) return undefined;
  return isText(data.id) && isText(data.dispatcher) && isText(data.handler) && isText(data.claim)
    ? (data as unknown as CommandRequestedData)
    : undefined;
}

/** @internal Reads `cancelled` data from the wire. */
export function readCancelled(data: unknown): CommandCancelledData | undefined {
  if (!isObject(data)) return undefined;
  return isText(data.id) && isText(data.dispatcher) && isText(data.handler)
    ? (data as unknown as CommandCancelledData)
    : undefined;
}

/**
 * @internal `assigned` data as it may arrive: `claim` is absent in assignments published before
 * claim ids existed (an at-least-once event bus may still deliver those). They match no claim.
 */
export type ReceivedAssignment = Omit<CommandAssignedData, 'claim'> & {
  readonly claim?: string | undefined;
};

/** @internal Reads `assigned` data from the wire. */
export function readAssigned(data: unknown): ReceivedAssignment | undefined {
  if (!isObject(data)) return undefined;
  return isText(data.id) &&
    isText(data.dispatcher) &&
    typeof data.handler === 'string' &&
    typeof data.reply === 'boolean' &&
    (data.claim === undefined || isText(data.claim))
    ? (data as unknown as ReceivedAssignment)
    : undefined;
}

const OUTCOMES = new Set<unknown>([
  'succeeded',
  'failed',
  'execution-timeout',
  'receive-timeout',
  'dropped',
  'rejected',
]);

/** @internal Reads `executed` data from the wire. */
export function readExecuted(data: unknown): CommandExecutedData | undefined {
  if (!isObject(data)) return undefined;
  const error = data.error;
  const ok =
    isText(data.id) &&
    isText(data.dispatcher) &&
    isText(data.handler) &&
    OUTCOMES.has(data.outcome) &&
    typeof data.runtime === 'number' &&
    (data.result === undefined || data.result === null || typeof data.result === 'string') &&
    (error === undefined ||
      error === null ||
      (isObject(error) && isText(error.code) && typeof error.message === 'string'));
  return ok ? (data as unknown as CommandExecutedData) : undefined;
}

/** @internal Reads `handlers` data from the wire. */
export function readHandlers(data: unknown): CommandHandlersData | undefined {
  if (!isObject(data)) return undefined;
  return isText(data.bus) &&
    Array.isArray(data.names) &&
    data.names.every(isText) &&
    typeof data.ttl === 'number' &&
    data.ttl >= 0 &&
    typeof data.discover === 'boolean'
    ? (data as unknown as CommandHandlersData)
    : undefined;
}
