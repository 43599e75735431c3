import { type Codec, createRegistry } from '@goes/codec';
import {
  ClosedError,
  type ConnectionError,
  createEvent,
  type Event,
  type EventBus,
  InvalidArgumentError,
  InvalidEventError,
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
import { BusBase } from './internal/bus-base.js';
import { Claimant } from './internal/claimant.js';
import { HandlerDirectory } from './internal/directory.js';
import { DiscoveryRound } from './internal/discovery.js';
import { Dispatcher } from './internal/dispatcher.js';
import { Links, type Role } from './internal/links.js';
import {
  checkCount,
  checkTimeout,
  DEFAULT_ASSIGN_TIMEOUT,
  DEFAULT_EXECUTION_TIMEOUT,
  DEFAULT_RECEIVE_TIMEOUT,
  defaultOnError,
  safeReport,
} from './internal/options.js';
import { monotonicNow, startBackgroundInterval, type Timer } from './internal/timers.js';
import { checkCommand, encodePayload } from './internal/validate.js';
import type { CommandBusTimeouts } from './local-bus.js';
import {
  COMMAND_BUS_EVENTS,
  type CommandDispatchedData,
  type CommandHandlersData,
  readAssigned,
  readCancelled,
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
   * whose announcement is still on its way. A freshly started instance also waits this long after
   * its own discovery request came back (so that the other instances' answers can arrive) before
   * it says "no handler". Default 250 (capped by `assignTimeout`).
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
 * free handler slot, under a fresh claim id) → `assigned` (the first claim, echoing its claim id:
 * only the instance holding that claim runs the command, so an offer and an assignment delivered
 * again by an at-least-once event bus, however late, never run it twice) → `executed` (only when
 * the dispatcher waits). Instances announce the names they handle, so a command nobody handles fails fast with
 * {@link NoHandlerError}, and a command still waiting for a claim is offered again to an instance
 * that announces its name later (one that started after the first offer went out).
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

class DistributedCommandBus<M extends CommandMap> extends BusBase<M> implements CommandBus<M> {
  readonly #events: EventBus;
  readonly #codec: Codec;
  readonly #assignTimeout: number;
  readonly #receiveTimeout: number;
  readonly #executionTimeout: number;
  readonly #heartbeatInterval: number;
  readonly #dispatcher: Dispatcher;
  readonly #claimant: Claimant;
  readonly #directory = new HandlerDirectory();
  readonly #discovery: DiscoveryRound;
  readonly #links: Links;
  #heartbeat: Timer | undefined;

  constructor(events: EventBus, options: DistributedCommandBusOptions) {
    super(options.onError ?? defaultOnError);
    if (typeof events?.publish !== 'function' || typeof events.subscribe !== 'function') {
      throw new InvalidArgumentError(
        'createDistributedCommandBus needs an EventBus (with publish and subscribe)',
      );
    }
    this.#events = events;
    this.#codec = options.codec ?? createRegistry();
    const resultCodec = options.resultCodec ?? createRegistry();
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
    this.#heartbeatInterval = checkTimeout('heartbeatInterval', options.heartbeatInterval, 5_000);
    const publish = (name: string, data: object) => this.#publish(name, data);
    const publishQuietly = (name: string, data: object) => this.#publishQuietly(name, data);
    const onError = (error: unknown) => safeReport(this.onError, error);
    const noHandlerTimeout = checkTimeout('noHandlerTimeout', options.noHandlerTimeout, 250);
    this.#discovery = new DiscoveryRound(noHandlerTimeout, this.#assignTimeout);
    this.#dispatcher = new Dispatcher({
      busId: this.id,
      resultCodec,
      assignTimeout: this.#assignTimeout,
      noHandlerTimeout,
      knowsHandler: (name) =>
        this.inboxes.has(name) || this.#directory.handles(name, monotonicNow()),
      discovery: this.#discovery,
      publish,
      publishQuietly,
      onError: this.onError,
    });
    this.#claimant = new Claimant({
      busId: this.id,
      codec: this.#codec,
      resultCodec,
      inbox: (name) => this.inboxes.get(name),
      publish,
      publishQuietly,
      onError,
    });
    const bufferSize = checkCount('eventBufferSize', options.eventBufferSize, 16_384);
    this.#links = new Links(events, bufferSize, this.id, {
      receive: (event) => this.#receive(event),
      connected: (role) => this.#connected(role),
      lost: (role, error) => this.#lost(role, error),
      onError,
    });
  }

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
    if (!this.#links.ready('dispatching') || !this.#links.ready('membership')) {
      await this.#startDispatching();
      signal?.throwIfAborted();
      this.checkOpen('the command bus');
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
    const onReport = sync ? (options as SyncDispatchOptions).onReport : undefined;
    return this.#dispatcher.dispatch({
      data,
      info,
      onReport: onReport as ((report: CommandReport) => void) | undefined,
      signal,
    });
  }

  /**
   * @internal How many entries each piece of per-command state holds, for tests that check that
   * everything is forgotten once commands end.
   */
  stateSizes(): Record<'pending' | 'reservations' | 'parked' | 'running', number> {
    return { pending: this.#dispatcher.size, ...this.#claimant.sizes() };
  }

  /** @internal How many commands this instance remembers as ran here, for tests of that memory. */
  rememberedRuns(): number {
    return this.#claimant.remembered;
  }

  // ---------------------------------------------------------------------------------------------
  // Membership

  /**
   * An announcement (this instance's own ones included, which come back through its membership
   * subscription): answer a discovery request of another instance, notice that this instance's
   * own request came back, and offer the dispatches still waiting for a claim again to an
   * instance that announces their name for the first time.
   */
  #onHandlers(data: CommandHandlersData, eventId: string): void {
    const now = monotonicNow();
    if (data.bus === this.id) {
      if (data.discover && this.#discovery.echoed(eventId, now)) this.#dispatcher.discovered();
    } else if (data.discover && this.#announcedNames().length > 0) {
      this.announce().catch((error: unknown) => safeReport(this.onError, error));
    }
    const news = this.#directory.update(data.bus, data.names, data.ttl, now);
    if (news.length > 0) this.#dispatcher.reoffer(news);
  }

  /**
   * The names this instance announces: the ones it handles, but only while its handling
   * subscription is live. So whoever hears an announcement knows that an offer published from
   * then on reaches the announcer — which is what makes offering waiting dispatches again sound.
   */
  #announcedNames(): string[] {
    return this.#links.ready('handling') ? this.handledNames() : [];
  }

  #announcement(discover: boolean): CommandHandlersData {
    return {
      bus: this.id,
      names: this.#announcedNames(),
      ttl: this.#heartbeatInterval * 3,
      discover,
    };
  }

  protected async announce(): Promise<void> {
    if (!this.#links.ready('membership')) return;
    await this.#publish(COMMAND_BUS_EVENTS.handlers, this.#announcement(false));
  }

  #tick(): void {
    const now = monotonicNow();
    this.#directory.prune(now);
    for (const inbox of new Set(this.inboxes.values())) inbox.prune(now);
    this.#claimant.prune(now);
    if (this.handledNames().length > 0) {
      this.#publishQuietly(COMMAND_BUS_EVENTS.handlers, this.#announcement(false));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Transport

  /** Starts the handler side (called by `subscribe` and `handle`). */
  protected async start(): Promise<void> {
    try {
      await this.#links.start('membership');
      await this.#links.start('handling');
    } catch (error) {
      // Handlers registered with mustHandle wait for the bus: keep trying in the background.
      if (this.inboxes.size > 0 && !this.#links.retrying('handling')) {
        this.#links.retryLater('handling', 100, () => this.#restartHandling());
      }
      throw error;
    }
  }

  async #startDispatching(): Promise<void> {
    await this.#links.start('membership');
    await this.#links.start('dispatching');
  }

  async #restartHandling(): Promise<void> {
    await this.start();
    await this.announce();
  }

  /**
   * A subscription is live: membership starts the heartbeat and asks who handles what (a
   * discovery round: no "no handler" verdict until this request has come back, see
   * {@link DiscoveryRound}).
   */
  async #connected(role: Role): Promise<void> {
    if (role !== 'membership') return;
    this.#heartbeat ??= startBackgroundInterval(this.#heartbeatInterval, () => this.#tick());
    const request = createEvent(COMMAND_BUS_EVENTS.handlers, this.#announcement(true));
    this.#discovery.sent(request.id, monotonicNow());
    await this.#events.publish([request]);
  }

  /** A subscription ended while the bus is open: fail what waits on it, resubscribe. */
  #lost(role: Role, error: ConnectionError): void {
    safeReport(this.onError, error);
    if (role === 'dispatching') this.#dispatcher.failAll(error, false);
    if (this.closed) return;
    if (role === 'handling' && this.#links.ready('membership')) {
      // Offers cannot reach this instance now: withdraw its names until it has resubscribed, so
      // its next announcement is news and the dispatches sent meanwhile are offered again.
      this.#publishQuietly(COMMAND_BUS_EVENTS.handlers, this.#announcement(false));
    }
    const restart =
      role === 'handling'
        ? () => this.#restartHandling()
        : role === 'dispatching'
          ? () => this.#startDispatching()
          : () => this.#links.start('membership');
    this.#links.retryLater(role, 100, restart);
  }

  #receive(event: Event): void {
    switch (event.name) {
      case COMMAND_BUS_EVENTS.dispatched: {
        const data = readDispatched(event.data);
        if (data) this.#claimant.dispatched(data);
        else this.#malformed(event);
        break;
      }
      case COMMAND_BUS_EVENTS.requested: {
        const data = readRequested(event.data);
        if (data) this.#dispatcher.requested(data);
        else this.#malformed(event);
        break;
      }
      case COMMAND_BUS_EVENTS.assigned: {
        const data = readAssigned(event.data);
        if (data) this.#claimant.assigned(data);
        else this.#malformed(event);
        break;
      }
      case COMMAND_BUS_EVENTS.executed: {
        const data = readExecuted(event.data);
        if (data) this.#dispatcher.executed(data);
        else this.#malformed(event);
        break;
      }
      case COMMAND_BUS_EVENTS.cancelled: {
        const data = readCancelled(event.data);
        if (data) this.#claimant.cancelled(data);
        else this.#malformed(event);
        break;
      }
      case COMMAND_BUS_EVENTS.handlers: {
        const data = readHandlers(event.data);
        if (data) this.#onHandlers(data, event.id);
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

  // ---------------------------------------------------------------------------------------------
  // Close

  protected closeDispatches(): void {
    this.#dispatcher.failAll(new ClosedError('the command bus'), true);
  }

  protected async shutdown(): Promise<void> {
    this.#dispatcher.failAll(new ClosedError('the command bus'), false);
    clearInterval(this.#heartbeat);
    this.#claimant.clear();
    if (this.#links.ready('membership')) {
      const goodbye: CommandHandlersData = { bus: this.id, names: [], ttl: 0, discover: false };
      await this.#publish(COMMAND_BUS_EVENTS.handlers, goodbye).catch((error: unknown) =>
        safeReport(this.onError, error),
      );
    }
    await this.#links.stop();
  }
}
