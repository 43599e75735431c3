import type { CommandInfo } from '../command.js';
import type { CommandReport } from '../contracts.js';
import {
  CommandDroppedError,
  CommandError,
  ExecutionTimeoutError,
  ReceiveTimeoutError,
  toCommandErrorData,
} from '../errors.js';
import type { Outcome } from './delivery.js';
import { safeReport } from './options.js';

/**
 * An outcome as a dispatcher sees it: a result, or an error. `ran` says whether a handler ran
 * (then there is a report: runtime and outcome).
 */
export type Resolution =
  | { readonly kind: 'result'; readonly result: unknown; readonly runtime: number }
  | {
      readonly kind: 'error';
      readonly error: Error;
      readonly runtime: number;
      readonly ran: boolean;
    };

/** What the dispatcher of a synchronous dispatch needs to settle. */
export interface SyncWaiter {
  readonly info: CommandInfo;
  readonly onReport: ((report: CommandReport) => void) | undefined;
  readonly onError: (error: unknown) => void;
  resolve(result: unknown): void;
  reject(error: unknown): void;
}

/**
 * The dispatcher's view of a handler-side outcome, in process: the handler's error becomes a
 * {@link CommandError} (code, message, details) whose `cause` is the original error. `undefined`
 * for a cancellation, which nobody waits for.
 */
export function resolveOutcome(
  outcome: Outcome,
  info: CommandInfo,
  handler: string,
): Resolution | undefined {
  switch (outcome.kind) {
    case 'succeeded':
      return { kind: 'result', result: outcome.result, runtime: outcome.runtime };
    case 'failed':
      return {
        kind: 'error',
        error: CommandError.fromJSON(toCommandErrorData(outcome.error), {
          command: info,
          cause: outcome.error,
        }),
        runtime: outcome.runtime,
        ran: true,
      };
    case 'execution-timeout':
      return {
        kind: 'error',
        error: new ExecutionTimeoutError(info, outcome.timeout, handler),
        runtime: outcome.runtime,
        ran: true,
      };
    case 'receive-timeout':
      return {
        kind: 'error',
        error: new ReceiveTimeoutError(info, outcome.timeout, handler),
        runtime: 0,
        ran: false,
      };
    case 'dropped':
      return {
        kind: 'error',
        error: new CommandDroppedError(info, outcome.reason, handler),
        runtime: 0,
        ran: false,
      };
    case 'cancelled':
      return undefined;
  }
}

/** Settles a synchronous dispatch: report first (when a handler ran), then resolve or reject. */
export function settleSync(waiter: SyncWaiter, resolution: Resolution, handler: string): void {
  if (waiter.onReport && (resolution.kind === 'result' || resolution.ran)) {
    const base = { command: waiter.info, runtime: resolution.runtime, handler };
    const report: CommandReport =
      resolution.kind === 'result'
        ? { ...base, outcome: 'succeeded', result: resolution.result }
        : {
            ...base,
            outcome: 'failed',
            error: resolution.error as CommandError | ExecutionTimeoutError,
          };
    try {
      waiter.onReport(report);
    } catch (error) {
      safeReport(waiter.onError, error);
    }
  }
  if (resolution.kind === 'result') waiter.resolve(resolution.result);
  else waiter.reject(resolution.error);
}
