import type { CommandInfo } from '../command.js';
import type { CommandReport } from '../contracts.js';
import type { CommandDispatchedData } from '../protocol.js';
import type { SyncWaiter } from './resolution.js';
import { type Deadline, startTimer, stopTimer } from './timers.js';

/** What a {@link PendingDispatch} is made of. */
export interface PendingDispatchInit {
  /** What was published (and is published again when the command is offered again). */
  readonly data: CommandDispatchedData;
  readonly info: CommandInfo;
  readonly sync: boolean;
  readonly onReport: ((report: CommandReport) => void) | undefined;
  readonly onError: (error: unknown) => void;
  readonly receiveTimeout: number;
  readonly executionTimeout: number;
  /** Monotonic ms by which a handler must have taken it. */
  readonly assignDeadline: number;
  readonly signal: AbortSignal | undefined;
  readonly resolve: (result: unknown) => void;
  readonly reject: (error: unknown) => void;
  /** Called once when it settles, to forget it. */
  readonly onDone: (pending: PendingDispatch) => void;
}

/**
 * The dispatcher's side of one dispatch on the distributed bus: waiting for a claim
 * (`dispatching`), waiting for the outcome (`assigned`, synchronous only), or `done`. It settles
 * exactly once; its one timer holds whichever deadline is next.
 */
export class PendingDispatch implements SyncWaiter {
  readonly data: CommandDispatchedData;
  readonly info: CommandInfo;
  readonly sync: boolean;
  readonly onReport: ((report: CommandReport) => void) | undefined;
  readonly onError: (error: unknown) => void;
  readonly receiveTimeout: number;
  readonly executionTimeout: number;
  readonly assignDeadline: number;
  state: 'dispatching' | 'assigned' | 'done' = 'dispatching';
  /** The instance it was assigned to. */
  handler = '';
  readonly #init: PendingDispatchInit;
  #timer: Deadline | undefined;
  #abortListener: (() => void) | undefined;

  constructor(init: PendingDispatchInit) {
    this.data = init.data;
    this.info = init.info;
    this.sync = init.sync;
    this.onReport = init.onReport;
    this.onError = init.onError;
    this.receiveTimeout = init.receiveTimeout;
    this.executionTimeout = init.executionTimeout;
    this.assignDeadline = init.assignDeadline;
    this.#init = init;
  }

  /** Replaces the deadline: `fn(this)` runs after `ms` unless it settles first. */
  deadline(ms: number, fn: (pending: PendingDispatch) => void): void {
    stopTimer(this.#timer);
    this.#timer = startTimer(ms, fn, this);
  }

  /** Calls `fn(this)` when the dispatch's signal aborts while it is pending. */
  onAbort(fn: (pending: PendingDispatch) => void): void {
    const { signal } = this.#init;
    if (!signal) return;
    this.#abortListener = () => fn(this);
    signal.addEventListener('abort', this.#abortListener, { once: true });
  }

  get abortReason(): unknown {
    return this.#init.signal?.reason;
  }

  resolve(result: unknown): void {
    if (this.#finish()) this.#init.resolve(result);
  }

  reject(error: unknown): void {
    if (this.#finish()) this.#init.reject(error);
  }

  #finish(): boolean {
    if (this.state === 'done') return false;
    this.state = 'done';
    stopTimer(this.#timer);
    if (this.#abortListener) this.#init.signal?.removeEventListener('abort', this.#abortListener);
    this.#init.onDone(this);
    return true;
  }
}
