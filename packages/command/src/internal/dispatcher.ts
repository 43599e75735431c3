import type { Codec } from '@goes/codec';
import type { CommandInfo } from '../command.js';
import type { CommandReport } from '../contracts.js';
import {
  AssignTimeoutError,
  ExecutionTimeoutError,
  InvalidCommandError,
  NoHandlerError,
} from '../errors.js';
import {
  COMMAND_BUS_EVENTS,
  type CommandAssignedData,
  type CommandCancelledData,
  type CommandDispatchedData,
  type CommandExecutedData,
  type CommandRequestedData,
} from '../protocol.js';
import type { DiscoveryRound } from './discovery.js';
import { PendingDispatch } from './pending-dispatch.js';
import { settleSync } from './resolution.js';
import { monotonicNow } from './timers.js';
import { resolveExecuted } from './wire.js';

/** What the dispatcher side of a distributed bus instance needs from the instance. */
export interface DispatcherOptions {
  /** The instance's id. */
  readonly busId: string;
  readonly resultCodec: Codec;
  readonly assignTimeout: number;
  readonly noHandlerTimeout: number;
  /** True when this instance or a live announced instance handles `name`. */
  readonly knowsHandler: (name: string) => boolean;
  /** This instance's discovery round trip: no "no handler" verdict before its answers could come. */
  readonly discovery: DiscoveryRound;
  readonly publish: (name: string, data: object) => Promise<void>;
  readonly publishQuietly: (name: string, data: object) => void;
  readonly onError: (error: unknown) => void;
}

/** One dispatch, as the instance hands it over. */
export interface DispatchRequest {
  readonly data: CommandDispatchedData;
  readonly info: CommandInfo;
  readonly onReport: ((report: CommandReport) => void) | undefined;
  readonly signal: AbortSignal | undefined;
}

/**
 * The dispatcher's side of the protocol: publishes `dispatched`, offers it again when an instance
 * announces its name while nobody has claimed it, assigns the first claim, releases late ones,
 * waits for `executed` (synchronous dispatches), and enforces the no-handler, assign and outcome
 * deadlines. Every dispatch is forgotten as soon as it settles.
 */
export class Dispatcher {
  readonly #options: DispatcherOptions;
  readonly #pending = new Map<string, PendingDispatch>();
  /** Dispatches whose no-handler verdict waits for this instance's discovery request to come back. */
  #awaitingDiscovery = new Set<PendingDispatch>();

  constructor(options: DispatcherOptions) {
    this.#options = options;
  }

  /** Dispatches: resolves on assignment (asynchronous) or with the outcome (synchronous). */
  dispatch(request: DispatchRequest): Promise<unknown> {
    const { data, info, onReport, signal } = request;
    if (this.#pending.has(data.id)) {
      return Promise.reject(
        new InvalidCommandError(
          `command ${JSON.stringify(data.name)}: a command with id ${data.id} is already being dispatched by this bus`,
        ),
      );
    }
    const { assignTimeout, noHandlerTimeout } = this.#options;
    return new Promise<unknown>((resolve, reject) => {
      const pending = new PendingDispatch({
        data,
        info,
        sync: data.reply,
        onReport,
        onError: this.#options.onError,
        receiveTimeout: data.receiveTimeout,
        executionTimeout: data.executionTimeout,
        assignDeadline: monotonicNow() + assignTimeout,
        signal,
        resolve,
        reject,
        onDone: this.#forget,
      });
      this.#pending.set(data.id, pending);
      pending.onAbort(this.#aborted);
      pending.deadline(Math.min(noHandlerTimeout, assignTimeout), this.#noClaimYet);
      this.#options
        .publish(COMMAND_BUS_EVENTS.dispatched, data)
        .catch((error: unknown) => pending.reject(error));
    });
  }

  /**
   * Offers again every dispatch still waiting for a claim whose name is in `names`: an instance
   * has just announced them, and it may have subscribed after the offer went out (an instance
   * announces a name only once it receives offers, so this offer reaches it). Called once per
   * announcement that is news, never for a dispatch already assigned; should both offers reach
   * one instance, it claims once (claims are deduplicated by id) and the dispatcher assigns once.
   */
  reoffer(names: readonly string[]): void {
    if (names.length === 0 || this.#pending.size === 0) return;
    const announced = new Set(names);
    for (const pending of this.#pending.values()) {
      if (pending.state === 'dispatching' && announced.has(pending.info.name)) {
        this.#options.publishQuietly(COMMAND_BUS_EVENTS.dispatched, pending.data);
      }
    }
  }

  /** This instance's discovery request came back: the held-back verdicts get their window. */
  discovered(): void {
    const waiting = this.#awaitingDiscovery;
    if (waiting.size === 0) return;
    this.#awaitingDiscovery = new Set();
    for (const pending of waiting) this.#noClaimYet(pending);
  }

  /** A claim: the first one for a pending dispatch wins; any other is released. */
  requested(data: CommandRequestedData): void {
    if (data.dispatcher !== this.#options.busId) return;
    const pending = this.#pending.get(data.id);
    if (pending?.state !== 'dispatching') {
      // A claim that came too late: the dispatch ended (timeout, cancellation, done) or went to
      // another instance, possibly before this claimant claimed it (or the claim is a duplicate).
      // Free the claimant's slot now instead of letting it wait for its claim to expire. Safe for
      // the assignee too: the release names this claim's id, which is not the one assigned.
      const release: CommandAssignedData = {
        id: data.id,
        dispatcher: data.dispatcher,
        handler: '',
        reply: false,
        claim: data.claim,
      };
      this.#options.publishQuietly(COMMAND_BUS_EVENTS.assigned, release);
      return;
    }
    pending.state = 'assigned';
    pending.handler = data.handler;
    const assigned: CommandAssignedData = {
      id: data.id,
      dispatcher: data.dispatcher,
      handler: data.handler,
      reply: pending.sync,
      // Echoed so that only this claim runs the command: a redelivered copy of this assignment
      // cannot match a later claim of the same command (see Claimant.assigned).
      claim: data.claim,
    };
    const published = this.#options.publish(COMMAND_BUS_EVENTS.assigned, assigned);
    if (!pending.sync) {
      published.then(
        () => pending.resolve(undefined),
        (error: unknown) => pending.reject(error),
      );
      return;
    }
    published.catch((error: unknown) => pending.reject(error));
    pending.deadline(
      pending.receiveTimeout + pending.executionTimeout + this.#options.assignTimeout,
      this.#outcomeOverdue,
    );
  }

  /** An outcome: settles the synchronous dispatch it belongs to. */
  executed(data: CommandExecutedData): void {
    if (data.dispatcher !== this.#options.busId) return;
    const pending = this.#pending.get(data.id);
    if (pending?.state !== 'assigned' || pending.handler !== data.handler) return;
    settleSync(pending, resolveExecuted(data, pending, this.#options.resultCodec), data.handler);
  }

  /** Fails dispatches: those still waiting for a claim, or all of them. */
  failAll(error: Error, onlyUnassigned: boolean): void {
    for (const pending of [...this.#pending.values()]) {
      if (!onlyUnassigned || pending.state === 'dispatching') pending.reject(error);
    }
  }

  /** How many dispatches are pending (for tests of bounded state). */
  get size(): number {
    return this.#pending.size;
  }

  readonly #forget = (pending: PendingDispatch): void => {
    if (this.#pending.get(pending.info.id) === pending) this.#pending.delete(pending.info.id);
    this.#awaitingDiscovery.delete(pending);
  };

  readonly #aborted = (pending: PendingDispatch): void => {
    if (pending.state === 'assigned') this.#cancel(pending);
    pending.reject(pending.abortReason);
  };

  /**
   * The no-handler deadline (and every later check until the assign deadline): without a claim,
   * fail with NoHandlerError once no instance announced the name and this instance's discovery
   * request has had its chance to be answered; keep waiting for the assign deadline while some
   * instance announced it, or while the discovery answers may still be on their way.
   */
  readonly #noClaimYet = (pending: PendingDispatch): void => {
    if (pending.state !== 'dispatching') return;
    const now = monotonicNow();
    if (now >= pending.assignDeadline) {
      this.#assignTimedOut(pending);
      return;
    }
    if (this.#options.knowsHandler(pending.info.name)) {
      pending.deadline(pending.assignDeadline - now, this.#assignTimedOut);
      return;
    }
    const verdictFrom = this.#options.discovery.verdictFrom(now);
    if (verdictFrom === undefined) {
      // The discovery request has not come back yet: discovered() resumes this check.
      this.#awaitingDiscovery.add(pending);
      pending.deadline(pending.assignDeadline - now, this.#assignTimedOut);
      return;
    }
    if (verdictFrom <= now) {
      pending.reject(new NoHandlerError(pending.info));
      return;
    }
    pending.deadline(Math.min(verdictFrom, pending.assignDeadline) - now, this.#noClaimYet);
  };

  /** The assign deadline: nobody took it. "No handler" when no instance announced the name by now. */
  readonly #assignTimedOut = (pending: PendingDispatch): void => {
    if (pending.state !== 'dispatching') return;
    pending.reject(
      this.#options.knowsHandler(pending.info.name)
        ? new AssignTimeoutError(pending.info, this.#options.assignTimeout)
        : new NoHandlerError(pending.info),
    );
  };

  /** No outcome came back in time: the assignee may have crashed. */
  readonly #outcomeOverdue = (pending: PendingDispatch): void => {
    if (pending.state !== 'assigned') return;
    this.#cancel(pending);
    const waited = pending.receiveTimeout + pending.executionTimeout + this.#options.assignTimeout;
    pending.reject(
      new ExecutionTimeoutError(
        pending.info,
        pending.executionTimeout,
        pending.handler,
        `no outcome arrived from bus instance ${pending.handler} within ${waited} ms of the assignment; it may have stopped`,
      ),
    );
  };

  /** Tells the assignee to abort a command (best effort). */
  #cancel(pending: PendingDispatch): void {
    const cancelled: CommandCancelledData = {
      id: pending.info.id,
      dispatcher: this.#options.busId,
      handler: pending.handler,
    };
    this.#options.publishQuietly(COMMAND_BUS_EVENTS.cancelled, cancelled);
  }
}
