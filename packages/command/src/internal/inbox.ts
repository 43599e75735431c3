import type { ReceivedCommand } from '../contracts.js';
import type { Delivery, DeliveryOwner } from './delivery.js';
import { monotonicNow } from './timers.js';

/**
 * A command this bus instance could take, waiting for room in an inbox. `grant` is called at
 * most once, when there is room and the claim has not expired or been withdrawn.
 */
export interface Claim {
  /** Monotonic ms after which granting is pointless (the dispatcher gave up). */
  readonly expiresAt: number;
  grant(): void;
}

/** Parked claims beyond this many are dropped oldest first (their dispatchers time out). */
const MAX_PARKED_CLAIMS = 10_000;

/**
 * The handler side of one subscription or handler registration: it decides when this bus
 * instance may claim another command (credit-based: at most `maxInFlight` commands without an
 * outcome, counting claims not yet assigned, queued ones and running ones), parks claims while it
 * is full and grants them in order when room frees, queues assigned commands until the consumer
 * reads them, and ends its iteration once it is closed and drained.
 */
export class Inbox implements AsyncIterable<Delivery>, DeliveryOwner {
  readonly names: readonly string[];
  readonly maxInFlight: number;
  readonly onError: (error: unknown) => void;
  #reserved = 0;
  #queue: Delivery[] = [];
  readonly #running = new Set<Delivery>();
  #claims: Claim[] = [];
  #state: 'open' | 'closing' | 'abandoned' = 'open';
  #consumers: ((result: IteratorResult<Delivery>) => void)[] = [];
  readonly #onStop: () => void;
  readonly #drained: Promise<void>;
  #markDrained!: () => void;

  constructor(
    names: readonly string[],
    maxInFlight: number,
    onError: (error: unknown) => void,
    onStop: () => void,
  ) {
    this.names = names;
    this.maxInFlight = maxInFlight;
    this.onError = onError;
    this.#onStop = onStop;
    this.#drained = new Promise((resolve) => {
      this.#markDrained = resolve;
    });
  }

  /** True while the inbox claims new commands. */
  get open(): boolean {
    return this.#state === 'open';
  }

  #inFlight(): number {
    return this.#reserved + this.#queue.length + this.#running.size;
  }

  /**
   * Offers a command: granted at once when there is room and nothing is parked before it,
   * otherwise parked (until room frees, it expires, or it is withdrawn). Refused when the inbox
   * no longer claims commands.
   */
  offer(claim: Claim): 'granted' | 'parked' | 'refused' {
    if (this.#state !== 'open') return 'refused';
    if (this.#claims.length === 0 && this.#inFlight() < this.maxInFlight) {
      claim.grant();
      return 'granted';
    }
    this.#claims.push(claim);
    if (this.#claims.length > MAX_PARKED_CLAIMS) this.#claims.shift();
    return 'parked';
  }

  /** Removes a parked claim (its dispatcher gave up). */
  withdraw(claim: Claim): void {
    const index = this.#claims.indexOf(claim);
    if (index >= 0) this.#claims.splice(index, 1);
  }

  /** Drops parked claims that expired (housekeeping). */
  prune(now = monotonicNow()): void {
    if (this.#claims.some((claim) => claim.expiresAt <= now)) {
      this.#claims = this.#claims.filter((claim) => claim.expiresAt > now);
    }
  }

  /** Counts a granted claim that waits for its assignment. */
  reserve(): void {
    this.#reserved++;
  }

  /** A reservation ended without an assignment to this instance: room for the next claim. */
  unreserve(): void {
    this.#reserved--;
    this.#pump();
    this.#checkDrained();
  }

  /** Adds an assigned command to the queue (turning its reservation into a queued delivery). */
  deliver(delivery: Delivery, fromReservation: boolean): void {
    if (fromReservation) this.#reserved--;
    if (this.#state === 'abandoned') {
      delivery.drop('its subscription was closed before reading it');
      this.#pump();
      this.#checkDrained();
      return;
    }
    delivery.queue(this);
    const consumer = this.#consumers.shift();
    if (consumer && delivery.start()) {
      this.#running.add(delivery);
      consumer({ done: false, value: delivery });
      return;
    }
    delivery.armReceiveTimeout();
    this.#queue.push(delivery);
  }

  /** The next command to run, started (its execution timeout runs). */
  next(): Promise<IteratorResult<Delivery>> {
    while (this.#queue.length > 0) {
      const delivery = this.#queue.shift() as Delivery;
      if (delivery.start()) {
        this.#running.add(delivery);
        return Promise.resolve({ done: false, value: delivery });
      }
    }
    if (this.#ended()) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve) => this.#consumers.push(resolve));
  }

  [Symbol.asyncIterator](): AsyncIterator<Delivery> {
    return {
      next: () => this.next(),
      return: () => {
        this.abandon();
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }

  /** The iteration as {@link ReceivedCommand}s, for pull subscriptions. */
  received(): AsyncIterator<ReceivedCommand> {
    return {
      next: async () => {
        const result = await this.next();
        return result.done ? result : { done: false, value: result.value.received() };
      },
      return: () => {
        this.abandon();
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }

  /**
   * Stops claiming: parked claims are dropped (other instances or the dispatcher's timeout take
   * over); what is reserved or queued is still handed out, then the iteration ends.
   */
  close(): void {
    if (this.#state !== 'open') return;
    this.#state = 'closing';
    this.#claims = [];
    this.#onStop();
    this.#wakeIfEnded();
    this.#checkDrained();
  }

  /** The consumer went away: queued commands are dropped, the iteration ends at once. */
  abandon(): void {
    if (this.#state === 'abandoned') return;
    const wasOpen = this.#state === 'open';
    this.#state = 'abandoned';
    this.#claims = [];
    const queued = this.#queue;
    this.#queue = [];
    for (const delivery of queued) delivery.drop('its subscription was closed before reading it');
    if (wasOpen) this.#onStop();
    this.#wakeIfEnded();
    this.#checkDrained();
  }

  /** Resolves once closed and every command it took has an outcome. */
  drained(): Promise<void> {
    return this.#drained;
  }

  #ended(): boolean {
    return (
      this.#state === 'abandoned' ||
      (this.#state === 'closing' && this.#reserved === 0 && this.#queue.length === 0)
    );
  }

  #wakeIfEnded(): void {
    if (!this.#ended()) return;
    const consumers = this.#consumers;
    this.#consumers = [];
    for (const consumer of consumers) consumer({ done: true, value: undefined });
  }

  #checkDrained(): void {
    if (this.#state !== 'open' && this.#inFlight() === 0) this.#markDrained();
  }

  /** A delivery settled (outcome, timeout, drop): free its place. */
  forget(delivery: Delivery): void {
    if (!this.#running.delete(delivery)) {
      const index = this.#queue.indexOf(delivery);
      if (index >= 0) this.#queue.splice(index, 1);
    }
    this.#pump();
    this.#wakeIfEnded();
    this.#checkDrained();
  }

  /** Grants parked claims while there is room. */
  #pump(): void {
    if (this.#state !== 'open') return;
    const now = monotonicNow();
    while (this.#claims.length > 0 && this.#inFlight() < this.maxInFlight) {
      const claim = this.#claims.shift() as Claim;
      if (claim.expiresAt > now) claim.grant();
    }
  }
}
