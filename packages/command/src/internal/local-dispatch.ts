import type { Command, CommandInfo } from '../command.js';
import type { CommandReport } from '../contracts.js';
import { AssignTimeoutError, NoHandlerError } from '../errors.js';
import { Delivery, type Outcome, type OutcomeSink } from './delivery.js';
import type { Claim, Inbox } from './inbox.js';
import { safeReport } from './options.js';
import { resolveOutcome, type SyncWaiter, settleSync } from './resolution.js';
import { type Deadline, startTimer, stopTimer } from './timers.js';

/** What a {@link LocalDispatch} is made of. */
export interface LocalDispatchInit {
  readonly command: Command;
  readonly info: CommandInfo;
  readonly inbox: Inbox;
  readonly sync: boolean;
  readonly onReport: ((report: CommandReport) => void) | undefined;
  readonly onError: (error: unknown) => void;
  /** The bus instance's id. */
  readonly handler: string;
  readonly assignTimeout: number;
  readonly receiveTimeout: number;
  readonly executionTimeout: number;
  readonly signal: AbortSignal | undefined;
  readonly resolve: (result: unknown) => void;
  readonly reject: (error: unknown) => void;
  /** Called once when it settles, to forget it. */
  readonly onDone: (dispatch: LocalDispatch) => void;
}

/**
 * One dispatch on the in-process bus: a claim on the handler's inbox (granted at once when the
 * handler has room, otherwise parked until the assign timeout), then the delivery, whose outcome
 * settles the dispatch (synchronous) or goes to the handler's `onError` (asynchronous, failures).
 */
export class LocalDispatch implements Claim, SyncWaiter, OutcomeSink {
  readonly expiresAt = Number.POSITIVE_INFINITY;
  readonly info: CommandInfo;
  readonly onReport: ((report: CommandReport) => void) | undefined;
  readonly onError: (error: unknown) => void;
  readonly #init: LocalDispatchInit;
  #delivery: Delivery | undefined;
  #timer: Deadline | undefined;
  #abortListener: (() => void) | undefined;
  #done = false;

  constructor(init: LocalDispatchInit) {
    this.info = init.info;
    this.onReport = init.onReport;
    this.onError = init.onError;
    this.#init = init;
  }

  /** Offers the command to the handler's inbox. */
  start(): void {
    const { inbox, signal } = this.#init;
    const offered = inbox.offer(this);
    if (offered === 'refused') {
      this.reject(new NoHandlerError(this.info));
      return;
    }
    if (this.#done) return;
    if (offered === 'parked')
      this.#timer = startTimer(this.#init.assignTimeout, assignTimedOut, this);
    if (signal) {
      this.#abortListener = () => this.abort();
      signal.addEventListener('abort', this.#abortListener, { once: true });
    }
  }

  /** The handler has room: hand the command over. */
  grant(): void {
    if (this.#done) return;
    stopTimer(this.#timer);
    const { command, info, inbox, handler, receiveTimeout, executionTimeout, sync } = this.#init;
    this.#delivery = new Delivery(command, info, {
      handler,
      receiveTimeout,
      executionTimeout,
      sink: this,
    });
    inbox.deliver(this.#delivery, false);
    if (!sync) this.resolve(undefined);
  }

  outcome(outcome: Outcome): void {
    const resolution = resolveOutcome(outcome, this.info, this.#init.handler);
    if (!resolution) return;
    if (this.#init.sync) settleSync(this, resolution, this.#init.handler);
    else if (resolution.kind === 'error') safeReport(this.#init.inbox.onError, resolution.error);
  }

  assignTimedOut(): void {
    if (this.#done || this.#delivery) return;
    this.#init.inbox.withdraw(this);
    this.reject(new AssignTimeoutError(this.info, this.#init.assignTimeout));
  }

  abort(): void {
    if (this.#done) return;
    if (this.#delivery) this.#delivery.cancel();
    else this.#init.inbox.withdraw(this);
    this.reject(this.#init.signal?.reason);
  }

  /** Fails it (the bus closes); with `onlyUnassigned`, only if the handler has not taken it. */
  fail(error: Error, onlyUnassigned: boolean): void {
    if (this.#done || (onlyUnassigned && this.#delivery)) return;
    if (!this.#delivery) this.#init.inbox.withdraw(this);
    this.reject(error);
  }

  resolve(result: unknown): void {
    if (this.#finish()) this.#init.resolve(result);
  }

  reject(error: unknown): void {
    if (this.#finish()) this.#init.reject(error);
  }

  #finish(): boolean {
    if (this.#done) return false;
    this.#done = true;
    stopTimer(this.#timer);
    if (this.#abortListener) this.#init.signal?.removeEventListener('abort', this.#abortListener);
    this.#init.onDone(this);
    return true;
  }
}

function assignTimedOut(dispatch: LocalDispatch): void {
  dispatch.assignTimedOut();
}
