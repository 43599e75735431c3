import type { Codec } from '@goes/codec';
import type { CommandInfo } from '../command.js';
import {
  CommandDroppedError,
  CommandError,
  type CommandErrorData,
  ExecutionTimeoutError,
  InvalidCommandError,
  ReceiveTimeoutError,
  toCommandErrorData,
  UnknownCommandError,
} from '../errors.js';
import type { CommandExecutedData } from '../protocol.js';
import type { Outcome } from './delivery.js';
import type { Resolution } from './resolution.js';

/** Who an `executed` event is from and for. */
export interface ExecutedAddress {
  readonly id: string;
  readonly dispatcher: string;
  readonly handler: string;
}

/** The wire form of a handler's error, with `details` reduced to JSON (or left out). */
export function wireError(error: unknown): CommandErrorData {
  const data = toCommandErrorData(error);
  if (data.details === undefined) return data;
  try {
    const text = JSON.stringify(data.details);
    return text === undefined
      ? { code: data.code, message: data.message }
      : { code: data.code, message: data.message, details: JSON.parse(text) as unknown };
  } catch {
    return { code: data.code, message: data.message };
  }
}

/** The `executed` event data of an outcome (none for a cancellation: nobody waits for it). */
export function executedData(
  to: ExecutedAddress,
  name: string,
  outcome: Outcome,
  resultCodec: Codec,
): CommandExecutedData | undefined {
  const { id, dispatcher, handler } = to;
  switch (outcome.kind) {
    case 'succeeded': {
      const { runtime } = outcome;
      if (outcome.result === undefined) {
        return { id, dispatcher, handler, outcome: 'succeeded', runtime };
      }
      try {
        const result = resultCodec.encode(name, outcome.result);
        return { id, dispatcher, handler, outcome: 'succeeded', runtime, result };
      } catch (error) {
        return { id, dispatcher, handler, outcome: 'failed', runtime, error: wireError(error) };
      }
    }
    case 'failed':
      return {
        id,
        dispatcher,
        handler,
        outcome: 'failed',
        runtime: outcome.runtime,
        error: wireError(outcome.error),
      };
    case 'execution-timeout':
      return {
        id,
        dispatcher,
        handler,
        outcome: 'execution-timeout',
        runtime: outcome.runtime,
        timeout: outcome.timeout,
      };
    case 'receive-timeout':
      return {
        id,
        dispatcher,
        handler,
        outcome: 'receive-timeout',
        runtime: 0,
        timeout: outcome.timeout,
      };
    case 'dropped':
      return {
        id,
        dispatcher,
        handler,
        outcome: 'dropped',
        runtime: 0,
        error: { code: 'COMMAND_DROPPED', message: outcome.reason },
      };
    case 'cancelled':
      return undefined;
  }
}

const INVALID_PREFIX = 'invalid command: ';

/** What the dispatcher makes of an `executed` event: the result, or the typed error. */
export function resolveExecuted(
  data: CommandExecutedData,
  pending: {
    readonly info: CommandInfo;
    readonly receiveTimeout: number;
    readonly executionTimeout: number;
  },
  resultCodec: Codec,
): Resolution {
  const { info } = pending;
  const { runtime, handler } = data;
  const error = (fallback: CommandErrorData): CommandErrorData => data.error ?? fallback;
  switch (data.outcome) {
    case 'succeeded': {
      if (data.result === undefined || data.result === null) {
        return { kind: 'result', result: undefined, runtime };
      }
      try {
        return { kind: 'result', result: resultCodec.decode(info.name, data.result), runtime };
      } catch (decodeError) {
        return { kind: 'error', error: decodeError as Error, runtime, ran: true };
      }
    }
    case 'failed': {
      const failure = error({ code: 'COMMAND_HANDLER_FAILED', message: 'the handler failed' });
      return {
        kind: 'error',
        error: CommandError.fromJSON(failure, { command: info }),
        runtime,
        ran: true,
      };
    }
    case 'execution-timeout': {
      const timeout = data.timeout ?? pending.executionTimeout;
      return {
        kind: 'error',
        error: new ExecutionTimeoutError(info, timeout, handler),
        runtime,
        ran: true,
      };
    }
    case 'receive-timeout': {
      const timeout = data.timeout ?? pending.receiveTimeout;
      return {
        kind: 'error',
        error: new ReceiveTimeoutError(info, timeout, handler),
        runtime: 0,
        ran: false,
      };
    }
    case 'dropped': {
      const reason = error({ code: 'COMMAND_DROPPED', message: 'its handler stopped' }).message;
      return {
        kind: 'error',
        error: new CommandDroppedError(info, reason, handler),
        runtime: 0,
        ran: false,
      };
    }
    case 'rejected': {
      const refusal = error({ code: 'INVALID_COMMAND', message: 'refused by its handler' });
      const message = refusal.message.startsWith(INVALID_PREFIX)
        ? refusal.message.slice(INVALID_PREFIX.length)
        : refusal.message;
      return {
        kind: 'error',
        error:
          refusal.code === 'COMMAND_UNKNOWN'
            ? new UnknownCommandError(info.name)
            : new InvalidCommandError(`${message} (refused by bus instance ${handler})`),
        runtime: 0,
        ran: false,
      };
    }
  }
}
