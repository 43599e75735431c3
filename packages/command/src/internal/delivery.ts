import type { Command, CommandInfo } from '../command.js';
import type { CommandContext, ReceivedCommand } from '../contracts.js';
import {
  CommandCancelledError,
  CommandDroppedError,
  ExecutionTimeoutError,
  ReceiveTimeoutError,
} from '../errors.js';
import { type Deadline, monotonicNow, startTimer, stopTimer } from './timers.js';

/** How the handler's side of one command ended. */
export type Outcome =
  | { readonly kind: 'succeeded'; readonly result: unknown; readonly runtime: number }
  | { readonly kind: 'failed'; readonly error: unknown; readonly runtime: number }
  | { readonly kind: 'execution-timeout'; readonly runtime: number; readonly timeout: number }
  | { readonly kind: 'receive-timeout'; readonly timeout: number }
  | { readonly kind: 'dropped'; readonly reason: string }
  | { readonly kind: 'cancelled' };

/** Who holds a delivery until it settles (an inbox). */
export interface DeliveryOwner {
  /** The delivery settled: free its place. Called before the outcome is reported. */
  forget(delivery: Delivery): void;
}

/** What a {@link Delivery} needs besides the command. */
export interface DeliveryOptions {
  /** The id of the bus instance that runs the command. */
  readonly handler: string;
  readonly receiveTimeout: number;
  readonly executionTimeout: number;
  /** Hears the outcome, exactly once. */
  readonly sink: OutcomeSink;
}

/** Who hears how a delivery ended. */
export interface OutcomeSink {
  outcome(outcome: Outcome): void;
}

/**
 * One command assigned to this bus instance, from assignment to outcome: it waits in a queue
 * (bounded by the receive timeout), runs (bounded by the execution timeout), and settles exactly
 * once — with the handler's result or error, a timeout, a drop, or a cancellation. Whatever comes
 * later (a handler returning after its timeout) is ignored.
 */
export class Delivery {
  readonly command: Command;
  readonly info: CommandInfo;
  readonly #options: DeliveryOptions;
  // Made on first use: most handlers never look at their signal, and an AbortController is one
  // of the costliest objects per command.
  #controller: AbortController | undefined;
  #abortReason: Error | undefined;
  #state: 'new' | 'queued' | 'running' | 'settled' = 'new';
  #timer: Deadline | undefined;
  #startedAt = 0;
  #owner: DeliveryOwner | undefined;

  constructor(command: Command, info: CommandInfo, options: DeliveryOptions) {
    this.command = command;
    this.info = info;
    this.#options = options;
  }

  /** The handler's signal: aborts on a timeout, a cancellation or a drop. */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#abortReason) this.#controller.abort(this.#abortReason);
    }
    return this.#controller.signal;
  }

  get settled(): boolean {
    return this.#state === 'settled';
  }

  get running(): boolean {
    return this.#state === 'running';
  }

  /** Hands it to its owner (an inbox), which hears first when it settles. */
  queue(owner: DeliveryOwner): void {
    if (this.#state !== 'new') return;
    this.#state = 'queued';
    this.#owner = owner;
  }

  /** It waits for its consumer: it must start before the receive timeout. */
  armReceiveTimeout(): void {
    if (this.#state !== 'queued' || this.#timer !== undefined) return;
    this.#timer = startTimer(this.#options.receiveTimeout, receiveTimedOut, this);
  }

  /** Hands it to the consumer: the execution timeout starts. False when it already settled. */
  start(): boolean {
    if (this.#state !== 'queued') return false;
    stopTimer(this.#timer);
    this.#state = 'running';
    this.#startedAt = monotonicNow();
    this.#timer = startTimer(this.#options.executionTimeout, executionTimedOut, this);
    return true;
  }

  /** The receive timeout ran out. */
  receiveTimedOut(): void {
    if (this.#state !== 'queued') return;
    this.#settle({ kind: 'receive-timeout', timeout: this.#options.receiveTimeout });
  }

  /** The execution timeout ran out. */
  executionTimedOut(): void {
    if (this.#state !== 'running') return;
    const timeout = this.#options.executionTimeout;
    this.#settle({ kind: 'execution-timeout', runtime: this.#runtime(), timeout });
  }

  finish(result: unknown): boolean {
    if (this.#state !== 'running') return false;
    return this.#settle({ kind: 'succeeded', result, runtime: this.#runtime() });
  }

  fail(error: unknown): boolean {
    if (this.#state !== 'running') return false;
    return this.#settle({ kind: 'failed', error, runtime: this.#runtime() });
  }

  /** The dispatcher gave up: abort the handler's signal; no outcome is reported to anyone. */
  cancel(): boolean {
    return this.#settle({ kind: 'cancelled' });
  }

  /** Drops a command that has not started (its consumer went away). */
  drop(reason: string): boolean {
    if (this.#state === 'running') return false;
    return this.#settle({ kind: 'dropped', reason });
  }

  /** The context a handler function receives. */
  context(): CommandContext {
    return new HandlerContext(this);
  }

  /** The view a pull subscription yields. */
  received(): ReceivedCommand {
    return new Received(this);
  }

  #runtime(): number {
    return monotonicNow() - this.#startedAt;
  }

  #settle(outcome: Outcome): boolean {
    if (this.#state === 'settled') return false;
    this.#state = 'settled';
    stopTimer(this.#timer);
    if (outcome.kind !== 'succeeded' && outcome.kind !== 'failed') {
      this.#abortReason = this.#reasonOf(outcome);
      this.#controller?.abort(this.#abortReason);
    }
    this.#owner?.forget(this);
    this.#options.sink.outcome(outcome);
    return true;
  }

  #reasonOf(outcome: Outcome): Error {
    const { handler } = this.#options;
    switch (outcome.kind) {
      case 'execution-timeout':
        return new ExecutionTimeoutError(this.info, outcome.timeout, handler);
      case 'receive-timeout':
        return new ReceiveTimeoutError(this.info, outcome.timeout, handler);
      case 'dropped':
        return new CommandDroppedError(this.info, outcome.reason, handler);
      default:
        return new CommandCancelledError(this.info);
    }
  }
}

function receiveTimedOut(delivery: Delivery): void {
  delivery.receiveTimedOut();
}

function executionTimedOut(delivery: Delivery): void {
  delivery.executionTimedOut();
}

/** A handler's view of a delivery: the command's fields, the command, and the signal. */
class HandlerContext implements CommandContext {
  readonly id: string;
  readonly name: string;
  readonly payload: unknown;
  readonly aggregate: Command['aggregate'];
  readonly command: Command;
  protected readonly delivery: Delivery;

  constructor(delivery: Delivery) {
    const { command } = delivery;
    this.id = command.id;
    this.name = command.name;
    this.payload = command.payload;
    this.aggregate = command.aggregate;
    this.command = command;
    this.delivery = delivery;
  }

  get signal(): AbortSignal {
    return this.delivery.signal;
  }
}

/** A pull subscriber's view of a delivery: the context plus `finish` and `fail`. */
class Received extends HandlerContext implements ReceivedCommand {
  finish(result: unknown): boolean {
    return this.delivery.finish(result);
  }

  fail(error: unknown): boolean {
    return this.delivery.fail(error);
  }
}
