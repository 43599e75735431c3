/**
 * What the other bus instances announced they handle, each entry valid until its time to live
 * runs out (so instances that crashed without saying goodbye are forgotten and the map never
 * grows without bound).
 */
export class HandlerDirectory {
  readonly #buses = new Map<string, { names: ReadonlySet<string>; expiresAt: number }>();

  /** Records an announcement; an empty list (or no time to live) removes the instance. */
  update(bus: string, names: readonly string[], ttl: number, now: number): void {
    if (names.length === 0 || ttl <= 0) {
      this.#buses.delete(bus);
      return;
    }
    this.#buses.set(bus, { names: new Set(names), expiresAt: now + ttl });
  }

  /** True when a live instance announced a handler for `name`. */
  handles(name: string, now: number): boolean {
    for (const [bus, entry] of this.#buses) {
      if (entry.expiresAt <= now) {
        this.#buses.delete(bus);
        continue;
      }
      if (entry.names.has(name)) return true;
    }
    return false;
  }

  /** Forgets instances whose announcement expired. */
  prune(now: number): void {
    for (const [bus, entry] of this.#buses) if (entry.expiresAt <= now) this.#buses.delete(bus);
  }
}
