import {
  ClosedError,
  ConnectionError,
  type Event,
  type EventBus,
  isGoesError,
  type Subscription,
} from '@goes/event';
import { COMMAND_BUS_EVENTS } from '../protocol.js';
import { safeReport } from './options.js';
import { startBackgroundTimer, type Timer } from './timers.js';

/**
 * The event subscriptions of a distributed bus instance, by role: an instance that only
 * dispatches never receives other instances' offers, and one that only handles never receives
 * claims and results.
 */
export const ROLES = {
  membership: [COMMAND_BUS_EVENTS.handlers],
  handling: [
    COMMAND_BUS_EVENTS.dispatched,
    COMMAND_BUS_EVENTS.assigned,
    COMMAND_BUS_EVENTS.cancelled,
  ],
  dispatching: [COMMAND_BUS_EVENTS.requested, COMMAND_BUS_EVENTS.executed],
} as const;

/** A role of a bus instance, with its own subscription. */
export type Role = keyof typeof ROLES;

/** What the bus does with its subscriptions' events and troubles. */
export interface LinkHooks {
  /** Handles one protocol event. */
  receive(event: Event): void;
  /** The role's subscription is live (before `start` resolves). */
  connected(role: Role): Promise<void>;
  /** The role's subscription ended while the bus is open; `error` says why. */
  lost(role: Role, error: ConnectionError): void;
  /** Non-fatal errors. */
  onError(error: unknown): void;
}

interface Link {
  starting: Promise<void> | undefined;
  ready: boolean;
  subscription: Subscription | undefined;
  loop: Promise<void> | undefined;
  restart: Timer | undefined;
}

const emptyLink = (): Link => ({
  starting: undefined,
  ready: false,
  subscription: undefined,
  loop: undefined,
  restart: undefined,
});

/**
 * Starts each role's subscription once (a failed start is retried by the next call), reads it,
 * notices when it ends unexpectedly, retries in the background with backoff, and closes
 * everything on `stop`.
 */
export class Links {
  readonly #events: EventBus;
  readonly #bufferSize: number;
  readonly #busId: string;
  readonly #hooks: LinkHooks;
  readonly #links: Record<Role, Link> = {
    membership: emptyLink(),
    handling: emptyLink(),
    dispatching: emptyLink(),
  };
  #stopped = false;

  constructor(events: EventBus, bufferSize: number, busId: string, hooks: LinkHooks) {
    this.#events = events;
    this.#bufferSize = bufferSize;
    this.#busId = busId;
    this.#hooks = hooks;
  }

  /** True while the role's subscription is live. */
  ready(role: Role): boolean {
    return this.#links[role].ready;
  }

  /** True while a background retry of the role is scheduled. */
  retrying(role: Role): boolean {
    return this.#links[role].restart !== undefined;
  }

  /** Starts the role's subscription (once; again after a failure). */
  start(role: Role): Promise<void> {
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

  /**
   * Runs `restart` for the role after `delay` ms, and again with a doubled delay (at most 30 s)
   * while it fails — except when the event bus is closed, which stays closed.
   */
  retryLater(role: Role, delay: number, restart: () => Promise<void>): void {
    if (this.#stopped) return;
    const link = this.#links[role];
    clearTimeout(link.restart);
    link.restart = startBackgroundTimer(delay, () => {
      link.restart = undefined;
      restart().catch((error: unknown) => {
        safeReport(this.#hooks.onError, error);
        if (!isGoesError(error, 'CLOSED')) {
          this.retryLater(role, Math.min(delay * 2, 30_000), restart);
        }
      });
    });
  }

  /** Closes every subscription and waits for their readers to end. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const link of Object.values(this.#links)) {
      clearTimeout(link.restart);
      link.restart = undefined;
      const { subscription, loop } = link;
      link.subscription = undefined;
      link.ready = false;
      if (subscription) await subscription.close();
      await loop;
    }
  }

  async #subscribe(role: Role, link: Link): Promise<void> {
    const subscription = await this.#events.subscribe(ROLES[role], {
      bufferSize: this.#bufferSize,
      overflow: 'drop',
      onError: (error: unknown) => safeReport(this.#hooks.onError, error),
    });
    if (this.#stopped) {
      await subscription.close();
      throw new ClosedError('the command bus');
    }
    link.subscription = subscription;
    const loop = this.#read(role, subscription);
    link.loop = loop;
    link.ready = true;
    try {
      await this.#hooks.connected(role);
    } catch (error) {
      // The start failed, so the next start subscribes again: this subscription must end now, or
      // it stayed open beside the new one (every event handled twice, and never closed on stop).
      if (link.subscription === subscription) {
        link.subscription = undefined;
        link.ready = false;
      }
      await subscription.close();
      await loop;
      throw error;
    }
  }

  async #read(role: Role, subscription: Subscription): Promise<void> {
    let failure: unknown;
    try {
      for await (const event of subscription) {
        try {
          this.#hooks.receive(event);
        } catch (error) {
          safeReport(this.#hooks.onError, error);
        }
      }
    } catch (error) {
      failure = error;
    }
    const link = this.#links[role];
    if (this.#stopped || link.subscription !== subscription) return;
    link.subscription = undefined;
    link.starting = undefined;
    link.ready = false;
    const reason = failure instanceof Error ? `: ${failure.message}` : '';
    this.#hooks.lost(
      role,
      new ConnectionError(
        `the command bus ${this.#busId} lost its ${role} event subscription${reason}; it resubscribes in the background`,
        { cause: failure },
      ),
    );
  }
}
