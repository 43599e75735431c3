import { type Event, type EventMap, InvalidArgumentError } from '@goes/event';
import type { Target } from './target.js';

/**
 * Event handlers of a projection, by event name, typed by an event map. A projection handles the
 * events it lists and ignores the others (unlike an aggregate, which must handle all of its own).
 *
 * @example
 * ```ts
 * const appliers: ProjectionAppliers<ShopEvents> = { 'order.placed': (e) => { total += e.data.total; } };
 * ```
 */
export type ProjectionAppliers<M extends EventMap> = {
  readonly [N in keyof M & string]?: (event: Event<N, M[N]>) => void | PromiseLike<void>;
};

type Handler = (event: Event) => void | PromiseLike<void>;

/**
 * A projection base class (goes' `projection.Base`): register handlers with `applyWith` in the
 * constructor; `applyEvent` calls the handler of the event's name and ignores names without one.
 * `registeredEvents` lists the names, e.g. to subscribe a schedule to them. Registering a name
 * twice is an error (goes silently replaced the first handler).
 *
 * @example
 * ```ts
 * class Revenue extends ProjectionBase<ShopEvents> {
 *   total = 0;
 *   constructor() {
 *     super();
 *     this.applyWith({
 *       'order.placed': (event) => { this.total += event.data.total; },
 *       'order.refunded': (event) => { this.total -= event.data.amount; },
 *     });
 *   }
 * }
 * const revenue = new Revenue();
 * const schedule = continuously(bus, store, revenue.registeredEvents);
 * ```
 */
export class ProjectionBase<M extends EventMap = EventMap> implements Target {
  readonly #handlers = new Map<string, Handler>();

  /** The event names this projection handles. */
  get registeredEvents(): string[] {
    return [...this.#handlers.keys()];
  }

  /**
   * Registers handlers by event name.
   *
   * @throws {@link InvalidArgumentError} when a name already has a handler or a value is not a function.
   */
  protected applyWith(appliers: ProjectionAppliers<M>): void {
    register(this.#handlers, appliers as Record<string, unknown>);
  }

  applyEvent(event: Event): void | PromiseLike<void> {
    const handler = this.#handlers.get(event.name);
    if (handler) return handler(event);
  }
}

/**
 * A {@link Target} from handler functions, for projections that need no class.
 *
 * @throws {@link InvalidArgumentError} when a value is not a function.
 * @example
 * ```ts
 * let placed = 0;
 * const counter = projection<ShopEvents>({ 'order.placed': () => { placed++; } });
 * await apply(counter, events);
 * ```
 */
export function projection<M extends EventMap = EventMap>(
  appliers: ProjectionAppliers<M>,
): Target & { readonly registeredEvents: readonly string[] } {
  const handlers = new Map<string, Handler>();
  register(handlers, appliers as Record<string, unknown>);
  return {
    registeredEvents: [...handlers.keys()],
    applyEvent(event) {
      const handler = handlers.get(event.name);
      if (handler) return handler(event);
    },
  };
}

function register(handlers: Map<string, Handler>, appliers: Record<string, unknown>): void {
  for (const [name, handler] of Object.entries(appliers)) {
    if (handler === undefined) continue;
    if (typeof handler !== 'function') {
      throw new InvalidArgumentError(`the handler of ${JSON.stringify(name)} must be a function`);
    }
    if (handlers.has(name)) {
      throw new InvalidArgumentError(`${JSON.stringify(name)} already has a handler`);
    }
    handlers.set(name, handler as Handler);
  }
}
