import { type EventBus, type EventStore, query, type SignalOptions } from '@goes/event';
import {
  continuously,
  isModelNotFoundError,
  type Job,
  type ModelRepository,
  type ScheduleSubscription,
} from '@goes/projection';
import type { SettleResult } from '../commands/commands.js';
import { CATALOGUE_EVENTS, Catalogue, type CatalogueEntry } from './catalogue.js';
import { ORDER_SUMMARY_EVENTS, OrderSummary, type OrderSummaryData } from './order-summary.js';

/** Options of {@link startProjector}. */
export interface ProjectorOptions extends SignalOptions {
  /** The event store the jobs read (the source of truth). */
  readonly store: EventStore;
  /** The event bus that wakes the schedules up. */
  readonly bus: EventBus;
  /** Where the catalogue document is kept. */
  readonly catalogue: ModelRepository<Catalogue>;
  /** Where the order summaries are kept, one per order. */
  readonly orders: ModelRepository<OrderSummary>;
  /** Milliseconds a schedule waits for more events before it runs a job. Default 25. */
  readonly debounce?: number | undefined;
  /** The longest a job waits under a steady flow of events, in milliseconds. Default 250. */
  readonly debounceCap?: number | undefined;
  /** Failed jobs. Default `console.error`. */
  readonly onError?: ((error: unknown, job: Job | undefined) => void) | undefined;
}

/** Counters of one projection. */
export interface ProjectionStats {
  /** Jobs run (startup, live and triggered). */
  readonly jobs: number;
  /** Jobs that failed. */
  readonly failures: number;
  /** Events applied to the read model. */
  readonly applied: number;
}

/** The running projections and the read models they keep. */
export interface Projector extends AsyncDisposable {
  /** The catalogue, by product name. */
  catalogue(options?: SignalOptions): Promise<CatalogueEntry[]>;
  /** The summaries of these orders (unknown ids are left out). */
  orders(ids: readonly string[], options?: SignalOptions): Promise<OrderSummaryData[]>;
  /** Waits until both projections have processed every event stored so far. */
  settle(options?: SignalOptions): Promise<SettleResult>;
  /** Counters per projection. */
  stats(): { readonly catalogue: ProjectionStats; readonly orders: ProjectionStats };
  close(): Promise<void>;
}

const CATALOGUE_ID = 'catalogue';

/**
 * Starts the two projections of the shop, each on its own continuous schedule (the seed's read
 * path: Bus.Publish → Schedule → Job → Apply → Projection):
 * - the catalogue: one document, `models.use` + `job.apply`;
 * - the order summaries: one document per order, `job.applyToModels`.
 *
 * Each schedule first runs a startup job that catches up from the store, then a job whenever the
 * bus announces new events (debounced). Jobs read the store by position, so nothing published
 * while catching up is missed or applied twice.
 */
export async function startProjector(options: ProjectorOptions): Promise<Projector> {
  const { store, bus, catalogue, orders, signal } = options;
  const debounce = options.debounce ?? 25;
  const debounceCap = options.debounceCap ?? 250;
  const onError = options.onError ?? ((error: unknown) => console.error(error));
  let catalogueApplied = 0;
  let ordersApplied = 0;

  const catalogueSchedule = continuously(bus, store, CATALOGUE_EVENTS, { debounce, debounceCap });
  const ordersSchedule = continuously(bus, store, ORDER_SUMMARY_EVENTS, { debounce, debounceCap });
  const subscriptions: ScheduleSubscription[] = [];
  try {
    subscriptions.push(
      await catalogueSchedule.subscribe(
        async (job) => {
          let applied = 0;
          await catalogue.use(
            CATALOGUE_ID,
            async (model) => {
              applied = (await job.apply(model, { signal: job.signal })).applied;
            },
            { create: () => new Catalogue(), signal: job.signal },
          );
          catalogueApplied += applied;
        },
        { startup: true, onError, signal },
      ),
    );
    subscriptions.push(
      await ordersSchedule.subscribe(
        async (job) => {
          const result = await job.applyToModels(orders, {
            aggregateNames: ['order'],
            create: (ref) => new OrderSummary(ref.id),
            signal: job.signal,
          });
          ordersApplied += result.applied;
        },
        { startup: true, onError, signal },
      ),
    );
  } catch (error) {
    for (const subscription of subscriptions) await subscription.close();
    throw error;
  }
  const [catalogueSubscription, ordersSubscription] = subscriptions as [
    ScheduleSubscription,
    ScheduleSubscription,
  ];

  const lastPosition = async (names: readonly string[], options?: SignalOptions) => {
    const newest = query()
      .name(...names)
      .sortBy('position', 'desc');
    for await (const event of store.query(newest, options)) return event.position ?? 0;
    return 0;
  };

  const close = async () => {
    await Promise.all(subscriptions.map((subscription) => subscription.close()));
  };

  return {
    async catalogue(options) {
      try {
        return (await catalogue.fetch(CATALOGUE_ID, options)).entries();
      } catch (error) {
        if (isModelNotFoundError(error)) return [];
        throw error;
      }
    },
    async orders(ids, options) {
      const found: OrderSummaryData[] = [];
      for (const id of ids) {
        try {
          found.push((await orders.fetch(id, options)).toData());
        } catch (error) {
          if (!isModelNotFoundError(error)) throw error;
        }
      }
      return found;
    },
    async settle(options) {
      const [cataloguePosition, ordersPosition] = await Promise.all([
        lastPosition(CATALOGUE_EVENTS, options),
        lastPosition(ORDER_SUMMARY_EVENTS, options),
      ]);
      await Promise.all([
        catalogueSubscription.whenProcessed(cataloguePosition, options),
        ordersSubscription.whenProcessed(ordersPosition, options),
      ]);
      return {
        position: Math.max(cataloguePosition, ordersPosition),
        jobs: catalogueSubscription.jobs + ordersSubscription.jobs,
      };
    },
    stats() {
      return {
        catalogue: {
          jobs: catalogueSubscription.jobs,
          failures: catalogueSubscription.failures,
          applied: catalogueApplied,
        },
        orders: {
          jobs: ordersSubscription.jobs,
          failures: ordersSubscription.failures,
          applied: ordersApplied,
        },
      };
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
