import type { Codec } from '@goes/codec';
import { uuidv7 } from '@goes/event';
import { type Command, commandInfo } from '../command.js';
import { toCommandErrorData } from '../errors.js';
import {
  COMMAND_BUS_EVENTS,
  type CommandCancelledData,
  type CommandDispatchedData,
  type CommandExecutedData,
  type CommandRequestedData,
  type ReceivedAssignment,
} from '../protocol.js';
import { Delivery, type Outcome, type OutcomeSink } from './delivery.js';
import type { Claim, Inbox } from './inbox.js';
import { safeReport } from './options.js';
import { resolveOutcome } from './resolution.js';
import { type Deadline, monotonicNow, startTimer, stopTimer } from './timers.js';
import { decodePayload } from './validate.js';
import { executedData } from './wire.js';

/** What the handler side of a distributed bus instance needs from the instance. */
export interface ClaimantOptions {
  /** The instance's id. */
  readonly busId: string;
  readonly codec: Codec;
  readonly resultCodec: Codec;
  /** The open inbox handling `name`, if any. */
  readonly inbox: (name: string) => Inbox | undefined;
  readonly publish: (name: string, data: object) => Promise<void>;
  readonly publishQuietly: (name: string, data: object) => void;
  readonly onError: (error: unknown) => void;
}

/** A claim this instance made, waiting for the dispatcher's assignment. */
interface Reservation {
  /** The claim id sent in `requested`; only an assignment that echoes it runs the command. */
  readonly claim: string;
  readonly inbox: Inbox;
  readonly data: CommandDispatchedData;
  readonly timer: Deadline;
}

/** An assigned command on this instance, with what its outcome needs. */
class Running implements OutcomeSink {
  readonly data: CommandDispatchedData;
  readonly inbox: Inbox;
  readonly delivery: Delivery;
  readonly #report: (running: Running, outcome: Outcome) => void;

  constructor(
    data: CommandDispatchedData,
    inbox: Inbox,
    command: Command,
    options: { handler: string; report: (running: Running, outcome: Outcome) => void },
  ) {
    this.data = data;
    this.inbox = inbox;
    this.#report = options.report;
    this.delivery = new Delivery(command, commandInfo(command), {
      handler: options.handler,
      receiveTimeout: data.receiveTimeout,
      executionTimeout: data.executionTimeout,
      sink: this,
    });
  }

  outcome(outcome: Outcome): void {
    this.#report(this, outcome);
  }
}

/** Parked claims remembered by id at most (the oldest are forgotten first). */
const MAX_PARKED = 10_000;

/** Extra life of a claim beyond the dispatcher's assign timeout, for assignments in transit. */
const MAX_RESERVATION_GRACE = 1_000;

/** Commands this instance ran remembered at most (the oldest are forgotten first). */
const MAX_RAN = 100_000;

/**
 * The handler's side of the protocol: claims offered commands while an inbox has room (parking
 * the rest, and skipping those assigned elsewhere meanwhile), keeps each claim until it is
 * assigned, released or expired, runs what is assigned to this instance (once, whatever is
 * duplicated: an assignment runs the command only when it carries the id of the claim held for
 * it), aborts what the dispatcher cancels, and reports outcomes.
 */
export class Claimant {
  readonly #options: ClaimantOptions;
  readonly #reservations = new Map<string, Reservation>();
  /** Claims waiting for room, by command id, so that a command taken elsewhere is skipped. */
  readonly #parked = new Map<string, { readonly inbox: Inbox; readonly claim: Claim }>();
  readonly #running = new Map<string, Running>();
  /**
   * Commands this instance ran, by id, with the monotonic time to forget them (the dispatcher's
   * whole budget, 2 × assign + receive + execution timeout, after the outcome). An at-least-once
   * event bus (JetStream) may deliver a command's offer again after the command ended; remembering
   * it saves the pointless claim (and the dispatcher's release of it). It is not what keeps the
   * command from running twice: an offer delivered after this memory let go makes a new claim with
   * a new claim id, which the old assignment (delivered again too) does not carry.
   */
  readonly #ran = new Map<string, number>();

  constructor(options: ClaimantOptions) {
    this.#options = options;
  }

  /** An offer: claim it if an inbox for its name has room, else park it. */
  dispatched(data: CommandDispatchedData): void {
    const inbox = this.#options.inbox(data.name);
    if (!inbox?.open) return;
    const { id } = data;
    if (
      this.#reservations.has(id) ||
      this.#running.has(id) ||
      this.#parked.has(id) ||
      this.#ran.has(id)
    ) {
      return;
    }
    const receivedAt = monotonicNow();
    const claim: Claim = {
      expiresAt: receivedAt + data.assignTimeout,
      grant: () => {
        this.#parked.delete(id);
        this.#claim(inbox, data, receivedAt);
      },
    };
    if (inbox.offer(claim) !== 'parked') return;
    this.#parked.set(id, { inbox, claim });
    if (this.#parked.size > MAX_PARKED) {
      const [oldest] = this.#parked.keys();
      if (oldest !== undefined) this.#unpark(oldest);
    }
  }

  /**
   * An assignment: run it when it assigns the claim we hold, let go of our claim when the command
   * went elsewhere or our claim was released.
   */
  assigned(data: ReceivedAssignment): void {
    const { busId } = this.#options;
    const reservation = this.#reservations.get(data.id);
    if (data.handler !== busId) {
      if (reservation?.data.dispatcher !== data.dispatcher) this.#unpark(data.id);
      // A release to nobody names the claim it answers: one delivered again must not free a
      // later claim. An assignment to another instance means the command is taken: let go.
      else if (data.handler !== '' || data.claim === reservation.claim) this.#release(data.id);
      return;
    }
    if (!reservation || reservation.claim !== data.claim) {
      this.#stale(data);
      return;
    }
    stopTimer(reservation.timer);
    this.#reservations.delete(data.id);
    const { inbox, data: dispatched } = reservation;
    let payload: unknown;
    try {
      payload = decodePayload(this.#options.codec, dispatched.name, dispatched.payload);
    } catch (error) {
      inbox.unreserve();
      if (!dispatched.reply) {
        safeReport(inbox.onError, error);
        return;
      }
      this.#reply({
        id: dispatched.id,
        dispatcher: dispatched.dispatcher,
        handler: busId,
        outcome: 'rejected',
        runtime: 0,
        error: toCommandErrorData(error),
      });
      return;
    }
    const { id, name, aggregate } = dispatched;
    const command: Command = aggregate
      ? { id, name, payload, aggregate: { name: aggregate.name, id: aggregate.id } }
      : { id, name, payload };
    const running = new Running(dispatched, inbox, command, {
      handler: busId,
      report: this.#outcome,
    });
    this.#running.set(id, running);
    inbox.deliver(running.delivery, true);
  }

  /** A cancellation: abort the command's handler. */
  cancelled(data: CommandCancelledData): void {
    if (data.handler !== this.#options.busId) return;
    const running = this.#running.get(data.id);
    if (running?.data.dispatcher === data.dispatcher) running.delivery.cancel();
  }

  /** Forgets parked claims that expired and commands ran long enough ago (housekeeping). */
  prune(now: number): void {
    for (const [id, { claim }] of this.#parked) if (claim.expiresAt <= now) this.#unpark(id);
    for (const [id, forgetAt] of this.#ran) if (forgetAt <= now) this.#ran.delete(id);
  }

  /** Gives up every claim (the bus closes). */
  clear(): void {
    for (const id of [...this.#reservations.keys()]) this.#release(id);
    this.#parked.clear();
    this.#ran.clear();
  }

  /** How many commands it remembers as ran here (for tests of the memory's window). */
  get remembered(): number {
    return this.#ran.size;
  }

  /** How many claims, parked claims and running commands it holds (for tests of bounded state). */
  sizes(): { reservations: number; parked: number; running: number } {
    return {
      reservations: this.#reservations.size,
      parked: this.#parked.size,
      running: this.#running.size,
    };
  }

  /**
   * An assignment to this instance for a claim it does not hold (given up when it expired, or the
   * assignment is a duplicate delivered after the command ended and maybe after a new claim):
   * never run it. While the command runs or is remembered as ran here, it is a duplicate of the
   * assignment acted on, whose outcome is or was sent: nothing to answer. Otherwise, when the
   * dispatcher waits, answer `dropped`: a synchronous dispatcher that still waits for this
   * assignment's outcome would else wait for its whole backstop (receive + execution + assign
   * timeout) and then report an `ExecutionTimeoutError` saying this instance may have stopped,
   * although it is known now that the command will not run. A dispatcher that is no longer
   * waiting ignores the answer (it settles only pending dispatches assigned to this instance).
   */
  #stale(data: ReceivedAssignment): void {
    if (this.#running.has(data.id) || this.#ran.has(data.id) || !data.reply) return;
    const { busId } = this.#options;
    this.#reply({
      id: data.id,
      dispatcher: data.dispatcher,
      handler: busId,
      outcome: 'dropped',
      runtime: 0,
      error: {
        code: 'COMMAND_DROPPED',
        message: `the assignment reached bus instance ${busId} for a claim it no longer holds`,
      },
    });
  }

  /** Forgets a parked claim (its command went to another instance, or it is too old). */
  #unpark(id: string): void {
    const parked = this.#parked.get(id);
    if (!parked) return;
    this.#parked.delete(id);
    parked.inbox.withdraw(parked.claim);
  }

  #claim(inbox: Inbox, data: CommandDispatchedData, receivedAt: number): void {
    if (this.#reservations.has(data.id) || this.#running.has(data.id)) return;
    const lifetime = data.assignTimeout + Math.min(data.assignTimeout, MAX_RESERVATION_GRACE);
    const remaining = Math.max(1, receivedAt + lifetime - monotonicNow());
    const timer = startTimer(remaining, this.#release, data.id);
    const claim = uuidv7();
    this.#reservations.set(data.id, { claim, inbox, data, timer });
    inbox.reserve();
    const requested: CommandRequestedData = {
      id: data.id,
      dispatcher: data.dispatcher,
      handler: this.#options.busId,
      claim,
    };
    this.#options.publish(COMMAND_BUS_EVENTS.requested, requested).catch((error: unknown) => {
      safeReport(this.#options.onError, error);
      this.#release(data.id);
    });
  }

  /** Gives up a claim (not assigned to this instance, or expired): room for the next one. */
  readonly #release = (id: string): void => {
    const reservation = this.#reservations.get(id);
    if (!reservation) return;
    stopTimer(reservation.timer);
    this.#reservations.delete(id);
    reservation.inbox.unreserve();
  };

  readonly #outcome = (running: Running, outcome: Outcome): void => {
    const { data, inbox, delivery } = running;
    const { id } = data;
    const { busId } = this.#options;
    if (this.#running.get(id) === running) this.#running.delete(id);
    this.#remember(data);
    if (!data.reply) {
      const resolution = resolveOutcome(outcome, delivery.info, busId);
      if (resolution?.kind === 'error') safeReport(inbox.onError, resolution.error);
      return;
    }
    const to = { id, dispatcher: data.dispatcher, handler: busId };
    const executed = executedData(to, data.name, outcome, this.#options.resultCodec);
    if (executed) this.#reply(executed);
  };

  /** Remembers a command that ran here, so that a redelivered offer of it is not claimed. */
  #remember(data: CommandDispatchedData): void {
    const budget = 2 * data.assignTimeout + data.receiveTimeout + data.executionTimeout;
    this.#ran.delete(data.id);
    this.#ran.set(data.id, monotonicNow() + budget);
    if (this.#ran.size > MAX_RAN) {
      const [oldest] = this.#ran.keys();
      if (oldest !== undefined) this.#ran.delete(oldest);
    }
  }

  #reply(data: CommandExecutedData): void {
    this.#options.publishQuietly(COMMAND_BUS_EVENTS.executed, data);
  }
}
