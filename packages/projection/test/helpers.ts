import { createEvent, type Event, type EventStore, uuidv7 } from '@goes/event';
import { Progressor, type Target } from '../src/index.js';

/** A unique event-name prefix per test, so tests never see each other's events. */
export function names(): { prefix: string; name: (suffix: string) => string } {
  const prefix = `t${uuidv7().replaceAll('-', '').slice(-10)}`;
  return { prefix, name: (suffix) => `${prefix}.${suffix}` };
}

/** `count` events of `name` spread over `aggregates` aggregates named `aggregate`, versions in order. */
export function makeEvents(
  name: string,
  count: number,
  options: { aggregate?: string; aggregates?: number; ids?: string[] } = {},
): Event<string, { n: number }>[] {
  const aggregate = options.aggregate ?? `${name}.agg`;
  const ids = options.ids ?? Array.from({ length: options.aggregates ?? 10 }, () => uuidv7());
  const versions = new Map<string, number>();
  return Array.from({ length: count }, (_, n) => {
    const id = ids[n % ids.length] as string;
    const version = (versions.get(id) ?? 0) + 1;
    versions.set(id, version);
    return createEvent(name, { n }, { aggregate: { name: aggregate, id, version } });
  });
}

/** Inserts events in batches and returns them as stored (with positions). */
export async function insertAll(
  store: EventStore,
  events: readonly Event[],
  batch = 500,
): Promise<Event[]> {
  const stored: Event[] = [];
  for (let i = 0; i < events.length; i += batch) {
    stored.push(...(await store.insert(events.slice(i, i + batch))));
  }
  return stored;
}

/** A progress-aware counter that records every event id it applied, to find duplicates and gaps. */
export class Recorder extends Progressor implements Target {
  readonly ids: string[] = [];
  readonly positions: number[] = [];

  applyEvent(event: Event): void {
    this.ids.push(event.id);
    if (event.position !== undefined) this.positions.push(event.position);
  }

  get count(): number {
    return this.ids.length;
  }

  /** True when the positions applied are strictly increasing (each applied once, in order). */
  inOrder(): boolean {
    for (let i = 1; i < this.positions.length; i++) {
      if ((this.positions[i] as number) <= (this.positions[i - 1] as number)) return false;
    }
    return true;
  }
}

/** A target without progress that records what it got. */
export class Plain implements Target {
  readonly events: Event[] = [];
  applyEvent(event: Event): void {
    this.events.push(event);
  }
}

/** Resolves after the microtask queue and pending I/O callbacks ran once. */
export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
