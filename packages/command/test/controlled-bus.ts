import type { Event, EventBus, SignalOptions, SubscribeOptions, Subscription } from '@goes/event';
import { type Channel, createChannel } from '@goes/streams';

/** Events held back by a {@link ControlledEventBus}, until `release()`. */
export interface Hold {
  /** The events held so far and not released, in arrival order. */
  readonly held: readonly Event[];
  /** Delivers the held events (in the order they arrived) and stops holding. */
  release(): void;
}

/** A held `subscribe` call (a subscription that is not live yet). */
export interface SubscribeGate {
  /** How many subscribe calls wait at the gate. */
  readonly waiting: number;
  /** Lets the waiting calls (and later ones) through. */
  open(): void;
}

/**
 * An {@link EventBus} in front of another, for one bus instance of a test, that controls the
 * order in which protocol messages arrive — without timing: it holds chosen events on their way
 * to this instance's subscriptions (`hold`) or out of its publishes (`holdPublishing`), holds
 * `subscribe` calls (`gateSubscribe`), and ends live subscriptions as a broken connection would
 * (`cut`).
 */
export interface ControlledEventBus extends EventBus {
  /** Holds, from now on, every event matching `match` on its way to a subscription of this bus. */
  hold(match: (event: Event) => boolean): Hold;
  /** Holds, from now on, every publish whose events match `match` (the publish resolves on release). */
  holdPublishing(match: (event: Event) => boolean): Hold;
  /** Holds, from now on, the `subscribe` calls for names that include `name`. */
  gateSubscribe(name: string): SubscribeGate;
  /** Ends the live subscriptions whose names include `name` (their iteration ends). */
  cut(name: string): void;
}

interface Rule {
  readonly match: (event: Event) => boolean;
  readonly held: { event: Event; deliver: () => void }[];
  active: boolean;
}

function holdOf(rule: Rule): Hold {
  return {
    get held() {
      return rule.held.map(({ event }) => event);
    },
    release() {
      rule.active = false;
      for (const { deliver } of rule.held.splice(0)) deliver();
    },
  };
}

/** Wraps `inner`; see {@link ControlledEventBus}. */
export function controlledEventBus(inner: EventBus): ControlledEventBus {
  const incoming: Rule[] = [];
  const outgoing: Rule[] = [];
  const gates: { name: string; open: boolean; waiting: (() => void)[] }[] = [];
  const live = new Set<ControlledSubscription>();

  const firstActive = (rules: Rule[], event: Event) =>
    rules.find((rule) => rule.active && rule.match(event));

  return {
    async publish(events: readonly Event[], options?: SignalOptions): Promise<void> {
      const rule = events.map((event) => firstActive(outgoing, event)).find(Boolean);
      if (!rule) return inner.publish(events, options);
      return new Promise<void>((resolve, reject) => {
        const [event] = events as [Event];
        rule.held.push({
          event,
          deliver: () => {
            inner.publish(events, options).then(resolve, reject);
          },
        });
      });
    },
    async subscribe(names: readonly string[], options?: SubscribeOptions): Promise<Subscription> {
      for (const gate of gates) {
        if (!gate.open && names.includes(gate.name)) {
          await new Promise<void>((resolve) => gate.waiting.push(resolve));
        }
      }
      const subscription = new ControlledSubscription(
        await inner.subscribe(names, options),
        (event) => firstActive(incoming, event),
        () => live.delete(subscription),
      );
      live.add(subscription);
      return subscription;
    },
    hold(match) {
      const rule: Rule = { match, held: [], active: true };
      incoming.push(rule);
      return holdOf(rule);
    },
    holdPublishing(match) {
      const rule: Rule = { match, held: [], active: true };
      outgoing.push(rule);
      return holdOf(rule);
    },
    gateSubscribe(name) {
      const gate = { name, open: false, waiting: [] as (() => void)[] };
      gates.push(gate);
      return {
        get waiting() {
          return gate.waiting.length;
        },
        open() {
          gate.open = true;
          for (const resolve of gate.waiting.splice(0)) resolve();
        },
      };
    },
    cut(name) {
      for (const subscription of [...live]) {
        if (subscription.names.includes(name)) void subscription.close();
      }
    },
    close: () => inner.close(),
    [Symbol.asyncDispose]: () => inner.close(),
  };
}

/** A subscription whose events pass through the bus's hold rules. */
class ControlledSubscription implements Subscription {
  readonly names: readonly string[];
  readonly #inner: Subscription;
  readonly #out: Channel<Event>;

  constructor(
    inner: Subscription,
    ruleFor: (event: Event) => Rule | undefined,
    onClose: () => void,
  ) {
    this.names = inner.names;
    this.#inner = inner;
    this.#out = createChannel<Event>({
      capacity: Number.POSITIVE_INFINITY,
      onClose: () => {
        onClose();
        void inner.close();
      },
    });
    void this.#pump(ruleFor);
  }

  async #pump(ruleFor: (event: Event) => Rule | undefined): Promise<void> {
    try {
      for await (const event of this.#inner) {
        const rule = ruleFor(event);
        if (rule) rule.held.push({ event, deliver: () => this.#out.tryPush(event) });
        else this.#out.tryPush(event);
      }
      this.#out.close();
    } catch (error) {
      this.#out.fail(error);
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<Event> {
    return this.#out[Symbol.asyncIterator]();
  }

  async close(): Promise<void> {
    this.#out.close();
    await this.#inner.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
