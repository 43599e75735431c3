/**
 * What the bus instances (this one included) announced they handle, each entry valid until its
 * time to live runs out (so instances that crashed without saying goodbye are forgotten and the
 * map never grows without bound).
 */
export class HandlerDirectory {
  readonly #buses = new Map<string, { names: ReadonlySet<string>; expiresAt: number }>();

  /**
   * Records an announcement; an empty list (or no time to live) removes the instance. Returns the
   * names that are news: those the instance did not have a live announcement for until now (all
   * of them for an instance not known, none for a heartbeat that repeats the last announcement).
   */
  update(bus: string, names: readonly string[], ttl: number, now: number): string[] {
    const previous = this.#buses.get(bus);
    if (names.length === 0 || ttl <= 0) {
      this.#buses.delete(bus);
      return [];
    }
    const announced = new Set(names);
    this.#buses.set(bus, { names: announced, expiresAt: now + ttl });
    if (!previous || previous.expiresAt <= now) return [...announced];
    return [...announced].filter((name) => !previous.names.has(name));
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
