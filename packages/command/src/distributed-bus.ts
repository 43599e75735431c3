import { type Codec, createRegistry } from '@goes/codec';
import {
  ClosedError,
  ConnectionError,
  createEvent,
  type Event,
  type EventBus,
  InvalidArgumentError,
  InvalidEventError,
  isGoesError,
  type Subscription,
} from '@goes/event';
import {
  type Command,
  type CommandMap,
  type CommandName,
  commandInfo,
  type PayloadOf,
  type ResultOf,
} from './command.js';
import type {
  AsyncDispatchOptions,
  CommandBus,
  CommandReport,
  DispatchOptions,
  SyncDispatchOptions,
} from './contracts.js';
import {
  AssignTimeoutError,
  ExecutionTimeoutError,
  InvalidCommandError,
  NoHandlerError,
  toCommandErrorData,
} from './errors.js';
import { BusBase } from './internal/bus-base.js';
import { Delivery, type Outcome, type OutcomeSink } from './internal/delivery.js';
import { HandlerDirectory } from './internal/directory.js';
import type { Claim, Inbox } from './internal/inbox.js';
import {
  checkCount,
  checkTimeout,
  DEFAULT_ASSIGN_TIMEOUT,
  DEFAULT_EXECUTION_TIMEOUT,
  DEFAULT_RECEIVE_TIMEOUT,
  defaultOnError,
  safeReport,
} from './internal/options.js';
import { PendingDispatch } from './internal/pending-dispatch.js';
import { resolveOutcome, settleSync } from './internal/resolution.js';
import {
  monotonicNow,
  startBackgroundInterval,
  startBackgroundTimer,
  startTimer,
  type Timer,
} from './internal/timers.js';
import { checkCommand, decodePayload, encodePayload } from './internal/validate.js';
import { executedData, resolveExecuted } from './internal/wire.js';
import type { CommandBusTimeouts } from './local-bus.js';
import {
  COMMAND_BUS_EVENTS,
  type CommandAssignedData,
  type CommandCancelledData,
  type CommandDispatchedData,
  type CommandExecutedData,
  type CommandHandlersData,
  type CommandRequestedData,
  readAssigned,
  readDispatched,
  readExecuted,
  readHandlers,
  readRequested,
} from './protocol.js';

/**
 * Options of {@link createDistributedCommandBus}.
 *
 * @example
 * ```ts
 * createDistributedCommandBus(eventBus, { codec: commands, assignTimeout: 2_000, onError: log.error });
 * ```
 */
export interface DistributedCommandBusOptions extends CommandBusTimeouts {
  /**
   * Encodes, validates and decodes payloads by command name. A strict codec refuses unknown
   * names at dispatch. Default: JSON for every name. Only the instance a command is assigned to
   * decodes its payload, so instances need to know only the commands they dispatch and handle.
   */
  readonly codec?: Codec | undefined;
  /** Encodes and decodes handler results by command name. Default: JSON for every name. */
  readonly resultCodec?: Codec | undefined;
  /**
   * How long a dispatch waits for a claim when no instance announced a handler for its name,
   * before failing with {@link NoHandlerError}. It covers a handler registered a moment ago
   * whose announcement is still on its way. Default 250 (capped by `assignTimeout`).
   */
  readonly noHandlerTimeout?: number | undefined;
  /**
   * How often an instance with handlers re-announces them. Announcements live three intervals,
   * so an instance that crashed is forgotten after that. Default 5,000.
   */
  readonly heartbeatInterval?: number | undefined;
  /** Queue capacity of each of the bus's event subscriptions (beyond it, events are dropped). Default 16,384. */
  readonly eventBufferSize?: number | undefined;
  /**
   * Non-fatal errors: malformed protocol events, failed publishes of replies, a lost event
   * subscription, and failures of asynchronously dispatched commands (unless the handler
   * registration has its own `onError`). Default: `console.error`.
   */
  readonly onError?: ((error: unknown) => void) | undefined;
}

/**
 * Creates the distributed command bus over any {@link EventBus} (goes' `cmdbus`): every instance
 * sharing the event bus can dispatch, and handle, commands; exactly one instance executes each
 * command, also when many handle its name. The protocol (see the package README) is goes' with
 * the `accepted` step folded into the assignment: `dispatched` → `requested` (each instance with a
 * free handler slot) → `assigned` (the first claimant) → `executed` (only when the dispatcher
 * waits). Instances announce the names they handle, so a command nobody handles fails fast with
 * {@link NoHandlerError}.
 *
 * The event bus must deliver every protocol event to every instance: do not put it behind a
 * load-balancing group.
 *
 * @example
 * ```ts
 * const events = createMemoryEventBus(); // or a NATS event bus shared by many processes
 * const workers = createDistributedCommandBus<ShopCommands>(events);
 * await workers.handle('order.place', async ({ payload }) => ({ orderId: await place(payload) }), { concurrency: 8 });
 *
 * const api = createDistributedCommandBus<ShopCommands>(events);
 * const { orderId } = await api.dispatch(createCommand('order.place', { sku: 'A-1', quantity: 1 }), { sync: true });
 * ```
 */
export function createDistributedCommandBus<M extends CommandMap = CommandMap>(
  events: EventBus,
  options: DistributedCommandBusOptions = {},
): CommandBus<M> {
  return new DistributedCommandBus<M>(events, options);
}

/**
 * The event subscriptions of an instance, by role: an instance that only dispatches never
 * receives other instances' offers, and one that only handles never receives claims and results.
 */
const ROLES = {
  membership: [COMMAND_BUS_EVENTS.handlers],
  handling: [
    COMMAND_BUS_EVENTS.dispatched,
    COMMAND_BUS_EVENTS.assigned,
    COMMAND_BUS_EVENTS.cancelled,
  ],
  dispatching: [COMMAND_BUS_EVENTS.requested, COMMAND_BUS_EVENTS.executed],
} as const;

type Role = keyof typeof ROLES;

/** One role's event subscription. */
interface Link {
  starting: Promise<void> | undefined;
  ready: boolean;
  subscription: Subscription | undefined;
  loop: Promise<void> | undefined;
  restart: Timer | undefined;
}

/** A claim this instance made, waiting for the dispatcher's assignment. */
interface Reservation {
  readonly inbox: Inbox;
  readonly data: CommandDispatchedData;
  readonly timer: Timer;
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

class DistributedCommandBus<M extends CommandMap> extends BusBase<M> implements CommandBus<M> {
  readonly #events: EventBus;
  readonly #codec: Codec;
  readonly #resultCodec: Codec;
  readonly #assignTimeout: number;
  readonly #receiveTimeout: number;
  readonly #executionTimeout: number;
  readonly #noHandlerTimeout: number;
  readonly #heartbeatInterval: number;
  readonly #eventBufferSize: number;
  readonly #pending = new Map<string, PendingDispatch>();
  readonly #reservations = new Map<string, Reservation>();
  /** Claims waiting for room, by command id, so that a command taken elsewhere is skipped. */
  readonly #parked = new Map<string, { readonly inbox: Inbox; readonly claim: Claim }>();
  readonly #running = new Map<string, Running>();
  readonly #directory = new HandlerDirectory();
  readonly #links: Record<Role, Link> = {
    membership: emptyLink(),
    handling: emptyLink(),
    dispatching: emptyLink(),
  };
  #heartbeat: Timer | undefined;
  #stopping = false;

  constructor(events: EventBus, options: DistributedCommandBusOptions) {
    super(options.onError ?? defaultOnError);
    if (typeof events?.publish !== 'function' || typeof events.subscribe !== 'function') {
      throw new InvalidArgumentError(
        'createDistributedCommandBus needs an EventBus (with publish and subscribe)',
      );
    }
    this.#events = events;
    this.#codec = options.codec ?? createRegistry();
    this.#resultCodec = options.resultCodec ?? createRegistry();
    this.#assignTimeout = checkTimeout(
      'assignTimeout',
      options.assignTimeout,
      DEFAULT_ASSIGN_TIMEOUT,
    );
    this.#receiveTimeout = checkTimeout(
      'receiveTimeout',
      options.receiveTimeout,
      DEFAULT_RECEIVE_TIMEOUT,
    );
    this.#executionTimeout = checkTimeout(
      'executionTimeout',
      options.executionTimeout,
      DEFAULT_EXECUTION_TIMEOUT,
    );
    this.#noHandlerTimeout = checkTimeout('noHandlerTimeout', options.noHandlerTimeout, 250);
    this.#heartbeatInterval = checkTimeout('heartbeatInterval', options.heartbeatInterval, 5_000);
    this.#eventBufferSize = checkCount('eventBufferSize', options.eventBufferSize, 16_384);
  }

  // ---------------------------------------------------------------------------------------------
  // Dispatcher side

  dispatch<N extends CommandName<M>>(
    command: Command<N, PayloadOf<M, N>>,
    options: SyncDispatchOptions<ResultOf<M, N>>,
  ): Promise<ResultOf<M, N>>;
  dispatch<N extends CommandName<M>>(
    command: Command<N, PayloadOf<M, N>>,
    options?: AsyncDispatchOptions,
  ): Promise<void>;
  dispatch<N extends CommandName<M>>(
    command: Command<N, PayloadOf<M, N>>,
    options?: DispatchOptions,
  ): Promise<ResultOf<M, N> | undefined>;
  async dispatch<N extends CommandName<M>>(
    command: Command<N, PayloadOf<M, N>>,
    options: DispatchOptions = {},
  ): Promise<unknown> {
    this.checkOpen('the command bus');
    checkCommand(command);
    const payload = encodePayload(this.#codec, command);
    const executionTimeout = checkTimeout('timeout', options.timeout, this.#executionTimeout);
    const { signal } = options;
    signal?.throwIfAborted();
    if (!this.#links.dispatching.ready || !this.#links.membership.ready) {
      await this.#startRole('membership');
      await this.#startRole('dispatching');
      signal?.throwIfAborted();
      this.checkOpen('the command bus');
    }
    if (this.#pending.has(command.id)) {
      throw new InvalidCommandError(
        `command ${JSON.stringify(command.name)}: a command with id ${command.id} is already being dispatched by this bus`,
      );
    }
    const info = commandInfo(command);
    const sync = options.sync === true;
    const data: CommandDispatchedData = {
      id: command.id,
      name: command.name,
      ...(info.aggregate ? { aggregate: info.aggregate } : {}),
      payload,
      dispatcher: this.id,
      reply: sync,
      assignTimeout: this.#assignTimeout,
      receiveTimeout: this.#receiveTimeout,
      executionTimeout,
    };
    return new Promise<unknown>((resolve, reject) => {
      const pending = new PendingDispatch({
        info,
        sync,
        onReport: sync
          ? ((options as SyncDispatchOptions).onReport as
              | ((report: CommandReport) => void)
              | undefined)
          : undefined,
        onError: this.onError,
        receiveTimeout: this.#receiveTimeout,
        executionTimeout,
        signal,
        resolve,
        reject,
        onDone: this.#forgetDispatch,
      });
      this.#pending.set(info.id, pending);
      pending.onAbort(this.#abortDispatch);
      pending.deadline(Math.min(this.#noHandlerTimeout, this.#assignTimeout), this.#noClaimYet);
      this.#publish(COMMAND_BUS_EVENTS.dispatched, data).catch((error: unknown) =>
        pending.reject(error),
      );
    });
  }

  readonly #forgetDispatch = (pending: PendingDispatch): void => {
    if (this.#pending.get(pending.info.id) === pending) this.#pending.delete(pending.info.id);
  };

  readonly #abortDispatch = (pending: PendingDispatch): void => {
    if (pending.state === 'assigned') this.#cancel(pending);
    pending.reject(pending.abortReason);
  };

  /** The no-handler deadline: fail unless some instance handles the name; else keep waiting. */
  readonly #noClaimYet = (pending: PendingDispatch): void => {
    if (pending.state !== 'dispatching') return;
    if (!this.#knowsHandler(pending.info.name)) {
      pending.reject(new NoHandlerError(pending.info));
      return;
    }
    const waited = Math.min(this.#noHandlerTimeout, this.#assignTimeout);
    if (waited >= this.#assignTimeout) this.#assignTimedOut(pending);
    else pending.deadline(this.#assignTimeout - waited, this.#assignTimedOut);
  };

  readonly #assignTimedOut = (pending: PendingDispatch): void => {
    if (pending.state !== 'dispatching') return;
    pending.reject(new AssignTimeoutError(pending.info, this.#assignTimeout));
  };

  /** No outcome came back in time: the assignee may have crashed. */
  readonly #outcomeOverdue = (pending: PendingDispatch): void => {
    if (pending.state !== 'assigned') return;
    this.#cancel(pending);
    const waited = pending.receiveTimeout + pending.executionTimeout + this.#assignTimeout;
    pending.reject(
      new ExecutionTimeoutError(
        pending.info,
        pending.executionTimeout,
        pending.handler,
        `no outcome arrived from bus instance ${pending.handler} within ${waited} ms of the assignment; it may have stopped`,
      ),
    );
  };

  /** True when this instance or a live announced instance handles `name`. */
  #knowsHandler(name: string): boolean {
    return this.inboxes.has(name) || this.#directory.handles(name, monotonicNow());
  }

  #onRequested(data: CommandRequestedData): void {
    if (data.dispatcher !== this.id) return;
    const pending = this.#pending.get(data.id);
    if (pending?.state !== 'dispatching') {
      // A claim that came too late: the dispatch ended (timeout, cancellation, done) or went to
      // another instance, possibly before this claimant claimed it (or the claim is a duplicate).
      // Free the claimant's slot now instead of letting it wait for its claim to expire. Safe for
      // the assignee too: its assignment was published first, so its claim is already used up.
      const release: CommandAssignedData = {
        id: data.id,
        dispatcher: this.id,
        handler: '',
        reply: false,
      };
      this.#publishQuietly(COMMAND_BUS_EVENTS.assigned, release);
      return;
    }
    pending.state = 'assigned';
    pending.handler = data.handler;
    const assigned: CommandAssignedData = {
      id: data.id,
      dispatcher: this.id,
      handler: data.handler,
      reply: pending.sync,
    };
    const published = this.#publish(COMMAND_BUS_EVENTS.assigned, assigned);
    if (!pending.sync) {
      published.then(
        () => pending.resolve(undefined),
        (error: unknown) => pending.reject(error),
      );
      return;
    }
    published.catch((error: unknown) => pending.reject(error));
    pending.deadline(
      pending.receiveTimeout + pending.executionTimeout + this.#assignTimeout,
      this.#outcomeOverdue,
    );
  }

  #onExecuted(data: CommandExecutedData): void {
    if (data.dispatcher !== this.id) return;
    const pending = this.#pending.get(data.id);
    if (pending?.state !== 'assigned' || pending.handler !== data.handler) return;
    settleSync(pending, resolveExecuted(data, pending, this.#resultCodec), data.handler);
  }

  /** Tells the assignee to abort a command (best effort). */
  #cancel(pending: PendingDispatch): void {
    const cancelled: CommandCancelledData = {
      id: pending.info.id,
      dispatcher: this.id,
      handler: pending.handler,
    };
    this.#publishQuietly(COMMAND_BUS_EVENTS.cancelled, cancelled);
  }

  // ---------------------------------------------------------------------------------------------
  // Handler side

  #onDispatched(data: CommandDispatchedData): void {
    const inbox = this.inboxes.get(data.name);
    if (!inbox?.open) return;
    const { id } = data;
    if (this.#reservations.has(id) || this.#running.has(id) || this.#parked.has(id)) return;
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
    this.#reservations.set(data.id, { inbox, data, timer });
    inbox.reserve();
    const requested: CommandRequestedData = {
      id: data.id,
      dispatcher: data.dispatcher,
      handler: this.id,
    };
    this.#publish(COMMAND_BUS_EVENTS.requested, requested).catch((error: unknown) => {
      safeReport(this.onError, error);
      this.#release(data.id);
    });
  }

  /** Gives up a claim (not assigned to this instance, or expired): room for the next one. */
  readonly #release = (id: string): void => {
    const reservation = this.#reservations.get(id);
    if (!reservation) return;
    clearTimeout(reservation.timer);
    this.#reservations.delete(id);
    reservation.inbox.unreserve();
  };

  #onAssigned(data: CommandAssignedData): void {
    const reservation = this.#reservations.get(data.id);
    if (data.handler !== this.id) {
      if (reservation?.data.dispatcher === data.dispatcher) this.#release(data.id);
      else this.#unpark(data.id);
      return;
    }
    if (!reservation) {
      if (this.#running.has(data.id) || !data.reply) return;
      this.#reply({
        id: data.id,
        dispatcher: data.dispatcher,
        handler: this.id,
        outcome: 'dropped',
        runtime: 0,
        error: {
          code: 'COMMAND_DROPPED',
          message: `the assignment reached bus instance ${this.id} after it had given up its claim`,
        },
      });
      return;
    }
    clearTimeout(reservation.timer);
    this.#reservations.delete(data.id);
    const { inbox, data: dispatched } = reservation;
    let payload: unknown;
    try {
      payload = decodePayload(this.#codec, dispatched.name, dispatched.payload);
    } catch (error) {
      inbox.unreserve();
      if (!dispatched.reply) {
        safeReport(inbox.onError, error);
        return;
      }
      this.#reply({
        id: dispatched.id,
        dispatcher: dispatched.dispatcher,
        handler: this.id,
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
      handler: this.id,
      report: this.#onOutcome,
    });
    this.#running.set(id, running);
    inbox.deliver(running.delivery, true);
  }

  #onCancelled(data: CommandCancelledData): void {
    if (data.handler !== this.id) return;
    const running = this.#running.get(data.id);
    if (running?.data.dispatcher === data.dispatcher) running.delivery.cancel();
  }

  readonly #onOutcome = (running: Running, outcome: Outcome): void => {
    const { data, inbox, delivery } = running;
    const { id } = data;
    if (this.#running.get(id) === running) this.#running.delete(id);
    if (!data.reply) {
      const resolution = resolveOutcome(outcome, delivery.info, this.id);
      if (resolution?.kind === 'error') safeReport(inbox.onError, resolution.error);
      return;
    }
    const to = { id, dispatcher: data.dispatcher, handler: this.id };
    const executed = executedData(to, data.name, outcome, this.#resultCodec);
    if (executed) this.#reply(executed);
  };

  #reply(data: CommandExecutedData): void {
    this.#publishQuietly(COMMAND_BUS_EVENTS.executed, data);
  }

  // ---------------------------------------------------------------------------------------------
  // Membership

  #onHandlers(data: CommandHandlersData): void {
    if (data.bus === this.id) return;
    this.#directory.update(data.bus, data.names, data.ttl, monotonicNow());
    if (data.discover && this.handledNames().length > 0) {
      this.announce().catch((error: unknown) => safeReport(this.onError, error));
    }
  }

  #announcement(discover: boolean): CommandHandlersData {
    return {
      bus: this.id,
      names: this.handledNames(),
      ttl: this.#heartbeatInterval * 3,
      discover,
    };
  }

  protected async announce(): Promise<void> {
    if (!this.#links.membership.ready) return;
    await this.#publish(COMMAND_BUS_EVENTS.handlers, this.#announcement(false));
  }

  #tick(): void {
    const now = monotonicNow();
    this.#directory.prune(now);
    for (const inbox of new Set(this.inboxes.values())) inbox.prune(now);
    for (const [id, { claim }] of this.#parked) if (claim.expiresAt <= now) this.#unpark(id);
    if (this.handledNames().length > 0) {
      this.#publishQuietly(COMMAND_BUS_EVENTS.handlers, this.#announcement(false));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Transport

  /** Starts the handler side (called by `subscribe` and `handle`). */
  protected async start(): Promise<void> {
    await this.#startRole('membership');
    await this.#startRole('handling');
  }

  #startRole(role: Role): Promise<void> {
    const link = this.#links[role];
    if (!link.starting) {
      const starting = this.#subscribe(role, link);
      link.starting = starting;
      starting.catch(() => {
        if (link.starting === starting) link.starting = undefined;
      });
    }
    return link.starting;
  }

  async #subscribe(role: Role, link: Link): Promise<void> {
    const subscription = await this.#events.subscribe(ROLES[role], {
      bufferSize: this.#eventBufferSize,
      overflow: 'drop',
      onError: (error: unknown) => safeReport(this.onError, error),
    });
    if (this.#stopping) {
      await subscription.close();
      throw new ClosedError('the command bus');
    }
    link.subscription = subscription;
    link.loop = this.#consume(role, subscription);
    link.ready = true;
    if (role === 'membership') {
      this.#heartbeat ??= startBackgroundInterval(this.#heartbeatInterval, () => this.#tick());
      await this.#publish(COMMAND_BUS_EVENTS.handlers, this.#announcement(true));
    }
  }

  async #consume(role: Role, subscription: Subscription): Promise<void> {
    let failure: unknown;
    try {
      for await (const event of subscription) {
        try {
          this.#receive(event);
        } catch (error) {
          safeReport(this.onError, error);
        }
      }
    } catch (error) {
      failure = error;
    }
    if (this.#stopping || this.#links[role].subscription !== subscription) return;
    this.#lost(role, failure);
  }

  /** A subscription ended while the bus is open: fail what waits on it, resubscribe. */
  #lost(role: Role, cause: unknown): void {
    const link = this.#links[role];
    link.subscription = undefined;
    link.starting = undefined;
    link.ready = false;
    const error = new ConnectionError(
      `the command bus ${this.id} lost its ${role} event subscription${cause instanceof Error ? `: ${cause.message}` : ''}; it resubscribes in the background`,
      { cause },
    );
    safeReport(this.onError, error);
    if (role === 'dispatching') {
      for (const pending of [...this.#pending.values()]) pending.reject(error);
    }
    this.#scheduleRestart(role, 100);
  }

  #scheduleRestart(role: Role, delay: number): void {
    if (this.#stopping || this.closed) return;
    const link = this.#links[role];
    link.restart = startBackgroundTimer(delay, () => {
      link.restart = undefined;
      this.#startRole(role)
        .then(() => (role === 'handling' ? this.announce() : undefined))
        .catch((error: unknown) => {
          safeReport(this.onError, error);
          // A closed event bus stays closed: stop trying (the next call fails with the error).
          if (!isGoesError(error, 'CLOSED')) {
            this.#scheduleRestart(role, Math.min(delay * 2, 30_000));
          }
        });
    });
  }

  #receive(event: Event): void {
    switch (event.name) {
      case COMMAND_BUS_EVENTS.dispatched: {
        const data = readDispatched(event.data);
        if (data) this.#onDispatched(data);
        else this.#malformed(event);
        break;
      }
      case COMMAND_BUS_EVENTS.requested: {
        const data = readRequested(event.data);
        if (data) this.#onRequested(data);
        else this.#malformed(event);
        break;
      }
      case COMMAND_BUS_EVENTS.assigned: {
        const data = readAssigned(event.data);
        if (data) this.#onAssigned(data);
        else this.#malformed(event);
        break;
      }
      case COMMAND_BUS_EVENTS.executed: {
        const data = readExecuted(event.data);
        if (data) this.#onExecuted(data);
        else this.#malformed(event);
        break;
      }
      case COMMAND_BUS_EVENTS.cancelled: {
        const data = readRequested(event.data);
        if (data) this.#onCancelled(data);
        else this.#malformed(event);
        break;
      }
      case COMMAND_BUS_EVENTS.handlers: {
        const data = readHandlers(event.data);
        if (data) this.#onHandlers(data);
        else this.#malformed(event);
        break;
      }
    }
  }

  #malformed(event: Event): void {
    safeReport(
      this.onError,
      new InvalidEventError(`malformed ${event.name} event ${event.id} ignored by the command bus`),
    );
  }

  #publish(name: string, data: object): Promise<void> {
    return this.#events.publish([createEvent(name, data)]);
  }

  #publishQuietly(name: string, data: object): void {
    this.#publish(name, data).catch((error: unknown) => safeReport(this.onError, error));
  }

  /**
   * @internal How many entries each piece of per-command state holds, for tests that check that
   * everything is forgotten once commands end.
   */
  stateSizes(): Record<'pending' | 'reservations' | 'parked' | 'running', number> {
    return {
      pending: this.#pending.size,
      reservations: this.#reservations.size,
      parked: this.#parked.size,
      running: this.#running.size,
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Close

  protected closeDispatches(): void {
    for (const pending of [...this.#pending.values()]) {
      if (pending.state === 'dispatching') pending.reject(new ClosedError('the command bus'));
    }
  }

  protected async shutdown(): Promise<void> {
    this.#stopping = true;
    for (const pending of [...this.#pending.values()]) {
      pending.reject(new ClosedError('the command bus'));
    }
    clearInterval(this.#heartbeat);
    for (const id of [...this.#reservations.keys()]) this.#release(id);
    this.#parked.clear();
    if (this.#links.membership.ready) {
      const goodbye: CommandHandlersData = { bus: this.id, names: [], ttl: 0, discover: false };
      await this.#publish(COMMAND_BUS_EVENTS.handlers, goodbye).catch((error: unknown) =>
        safeReport(this.onError, error),
      );
    }
    for (const link of Object.values(this.#links)) {
      clearTimeout(link.restart);
      const { subscription, loop } = link;
      link.subscription = undefined;
      link.ready = false;
      if (subscription) await subscription.close();
      await loop;
    }
  }
}

function emptyLink(): Link {
  return {
    starting: undefined,
    ready: false,
    subscription: undefined,
    loop: undefined,
    restart: undefined,
  };
}
