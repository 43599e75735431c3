/**
 * This instance's discovery round trip, which decides from when "no instance handles this name"
 * may be said. Whenever its membership subscription goes live, an instance asks every instance to
 * announce its handlers (a `handlers` event with `discover: true`). The answers cannot be here
 * before the request itself has come back through the instance's own subscription (the echo),
 * and they are one more hop behind it: so a no-handler verdict waits for the echo and then for
 * the no-handler window. A request whose echo never comes (a dropped event) stops holding
 * verdicts back after `giveUpAfter` ms (the assign timeout), so it costs at most one assign
 * timeout, once.
 */
export class DiscoveryRound {
  readonly #window: number;
  readonly #giveUpAfter: number;
  #request: string | undefined;
  #sentAt = 0;
  #echoedAt: number | undefined;

  /** `window`: the no-handler window after the echo; `giveUpAfter`: for a request lost on the way. */
  constructor(window: number, giveUpAfter: number) {
    this.#window = window;
    this.#giveUpAfter = giveUpAfter;
  }

  /** A discovery request (event id `requestId`) is about to be published; an earlier one is moot. */
  sent(requestId: string, now: number): void {
    this.#request = requestId;
    this.#sentAt = now;
    this.#echoedAt = undefined;
  }

  /** True when `eventId` is the pending request coming back (the first time). */
  echoed(eventId: string, now: number): boolean {
    if (eventId !== this.#request || this.#echoedAt !== undefined) return false;
    this.#echoedAt = now;
    return true;
  }

  /**
   * The monotonic time from which a no-handler verdict is sound: the echo plus the window, or
   * `undefined` while the request is still on its way.
   */
  verdictFrom(now: number): number | undefined {
    if (this.#request === undefined) return now;
    if (this.#echoedAt !== undefined) return this.#echoedAt + this.#window;
    const givenUp = this.#sentAt + this.#giveUpAfter;
    return now >= givenUp ? givenUp : undefined;
  }
}
