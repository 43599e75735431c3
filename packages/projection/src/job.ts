import {
  type AggregateRef,
  ClosedError,
  compileQuery,
  type Event,
  type EventPredicate,
  type EventQuery,
  type EventStore,
  InvalidArgumentError,
  refKey,
  type SignalOptions,
  validateQuery,
} from '@goes/event';
import { abortable } from '@goes/streams';
import { type ApplyOptions, type ApplyResult, type ErrorPolicy, EventApplier } from './apply.js';
import { AggregateNotFoundError, type ApplyError } from './errors.js';
import { narrowToAggregate, queryKey } from './internal/query-key.js';
import { SharedRead } from './internal/shared-read.js';
import type { ModelRepository } from './model-repository.js';
import {
  isProgressAware,
  isResetter,
  type ProgressAware,
  readProgress,
  type Target,
} from './target.js';

/**
 * Why a job was created: by a schedule's startup, by live events, by a periodic tick, by a
 * (possibly remote) trigger, or by hand with {@link createJob}.
 *
 * @example
 * ```ts
 * if (job.kind === 'startup') console.log('catching up');
 * ```
 */
export type JobKind = 'startup' | 'live' | 'periodic' | 'trigger' | 'manual';

/**
 * An interceptor of a job's event streams (goes' `BeforeEvent`): for each event (of `names`, or
 * every event when omitted) the handler returns events to insert before it. Inserted events pass
 * the job's filters and guards like the others; they have no position, so they never move a
 * target's progress, and they are applied only when the event they precede is.
 *
 * @example
 * ```ts
 * const expandItems: BeforeEvent = {
 *   names: ['order.placed'],
 *   handler: (event) => (event.data as Order).items.map((item) => createEvent('order.item', item)),
 * };
 * ```
 */
export interface BeforeEvent {
  readonly names?: readonly string[] | undefined;
  readonly handler: (
    event: Event,
    options: { readonly signal: AbortSignal },
  ) => readonly Event[] | PromiseLike<readonly Event[]>;
}

/**
 * Options of {@link createJob}.
 *
 * @example
 * ```ts
 * const job = createJob(store, { query: query().name('order.placed'), reset: true });
 * ```
 */
export interface JobOptions extends SignalOptions {
  /** What the job reads from the store. Default: every event. */
  readonly query?: EventQuery | undefined;
  /** The job's window: `events()`, `aggregates()` and targets without progress see positions above it. Default 0. */
  readonly from?: number | undefined;
  /**
   * In-memory filters every event must match (goes' `WithFilter`). A progress-aware target's
   * progress moves past filtered-out events it never saw once it applies a later event.
   */
  readonly filter?: EventQuery | readonly EventQuery[] | undefined;
  /** Reset targets before applying (goes' `WithReset`): `setProgress(0)`, then `reset()`. */
  readonly reset?: boolean | undefined;
  /** The query `aggregates()` and `aggregate()` read instead of `query` (goes' `WithAggregateQuery`). */
  readonly aggregateQuery?: EventQuery | undefined;
  /** Interceptors of the job's event streams. */
  readonly beforeEvent?: BeforeEvent | readonly BeforeEvent[] | undefined;
  /** Default error policy of `apply`. */
  readonly errorPolicy?: ErrorPolicy | undefined;
  /** Default `onError` of `apply`: failures the error policy skipped. */
  readonly onError?: ((error: ApplyError) => void) | undefined;
  /** @internal What created the job (schedules set it). */
  readonly kind?: JobKind | undefined;
}

/**
 * Options of the job's event streams.
 *
 * @example
 * ```ts
 * for await (const event of job.events({ filter: query().aggregateName('order') })) {}
 * ```
 */
export interface JobEventsOptions extends SignalOptions {
  /** Extra in-memory filters (ANDed with the job's). */
  readonly filter?: EventQuery | readonly EventQuery[] | undefined;
}

/**
 * Options of {@link Job.apply} and {@link Job.eventsFor}.
 *
 * @example
 * ```ts
 * await job.apply(summary, { aggregate: { name: 'order', id } });
 * ```
 */
export interface JobApplyOptions extends ApplyOptions {
  /**
   * Read only this aggregate's events: the store query is narrowed to it, so a per-aggregate read
   * model catches up with one indexed query instead of reading every event after its progress.
   */
  readonly aggregate?: AggregateRef | undefined;
}

/**
 * Options of {@link Job.applyToModels}.
 *
 * @example
 * ```ts
 * await job.applyToModels(summaries, { aggregateNames: ['order'], create: (ref) => new OrderSummary(ref.id) });
 * ```
 */
export interface ApplyToModelsOptions<M> extends Omit<ApplyOptions, 'ignoreProgress'> {
  /** A new model for an aggregate that has none yet. */
  readonly create: (ref: AggregateRef) => M;
  /** The aggregates to project (default: every aggregate of the job's events). */
  readonly aggregateNames?: readonly string[] | undefined;
  /**
   * The model id of an aggregate. Default: the aggregate id. Several aggregates may share a
   * model; it then gets the events of all of them in position order.
   */
  readonly modelId?: ((ref: AggregateRef) => string) | undefined;
  /** Retries of the repository's `use` on a version conflict. */
  readonly retries?: number | undefined;
}

/**
 * What {@link Job.applyToModels} did.
 *
 * @example
 * ```ts
 * const { models, applied } = await job.applyToModels(repository, { create });
 * ```
 */
export interface ApplyToModelsResult {
  /** Models looked at (one per model id of the job's aggregates). */
  readonly models: number;
  /** Models saved (the others had nothing new). */
  readonly saved: number;
  /** Events applied over all models. */
  readonly applied: number;
  /** Failed events the error policy skipped over all models. */
  readonly skipped: number;
}

/**
 * A projection job (goes' `projection.Job`): one trigger's access to the store. Every read is
 * cached for the life of the job, so several projections applied in one job query the store
 * once per distinct read, and later readers replay from memory.
 *
 * Reads are by global position. `apply(target)` reads the events after a progress-aware
 * target's progress — which is what joins catch-up and live delivery without a gap or a
 * duplicate — and the job's window (positions above `from`) for other targets. Progress-aware
 * targets always get position order: a sort in the job's query is dropped for them.
 *
 * @example
 * ```ts
 * await schedule.subscribe(async (job) => {
 *   await job.apply(revenue);                          // one store read…
 *   await job.apply(orderCount);                       // …replayed from memory when the progress matches
 *   for await (const ref of job.aggregates({ names: ['order'] })) console.log(ref.id);
 * });
 * ```
 */
export interface Job {
  /** What created the job. */
  readonly kind: JobKind;
  /** Targets are reset before they are applied. */
  readonly reset: boolean;
  /** The job's window starts after this position. */
  readonly from: number;
  /** What the job reads. */
  readonly query: EventQuery;
  /** Aborted when the job's schedule subscription closes; pass it to what the job calls. */
  readonly signal: AbortSignal;
  /** The job's events (its window), through its filters and interceptors (goes' `Events`). */
  events(options?: JobEventsOptions): AsyncIterable<Event>;
  /** The job's events of aggregates with these names; all events when empty (goes' `EventsOf`). */
  eventsOf(aggregateNames: readonly string[], options?: JobEventsOptions): AsyncIterable<Event>;
  /** The events `apply(target)` would apply (goes' `EventsFor`). */
  eventsFor(target: Target, options?: JobApplyOptions): AsyncIterable<Event>;
  /** The distinct aggregates of the job's events, in first-seen order (goes' `Aggregates`). */
  aggregates(
    options?: { readonly names?: readonly string[] | undefined } & SignalOptions,
  ): AsyncIterable<AggregateRef>;
  /** The id of the first aggregate named `name`. @throws {@link AggregateNotFoundError} */
  aggregate(name: string, options?: SignalOptions): Promise<string>;
  /**
   * Applies the job to a target (goes' `Job.Apply`): resets it first in a reset job, then applies
   * what {@link Job.eventsFor} returns with the semantics of {@link apply}.
   */
  apply(target: Target, options?: JobApplyOptions): Promise<ApplyResult>;
  /**
   * Projects the job into per-aggregate read models (goes left this to its users): for every
   * aggregate of the job, `repository.use` fetches (or creates) its model, applies the aggregate's
   * events after the model's progress, and saves model and progress together — so each event is
   * applied to each model exactly once, also across restarts and concurrent processes.
   */
  applyToModels<M extends Target & ProgressAware>(
    repository: ModelRepository<M>,
    options: ApplyToModelsOptions<M>,
  ): Promise<ApplyToModelsResult>;
}

/**
 * Creates a job over `store` (goes' `projection.NewJob`); schedules create jobs for you.
 * Close the returned job (`close()` or `await using`) when done to release its cached reads.
 *
 * @throws {@link InvalidQueryError} for a malformed query or filter; {@link InvalidArgumentError} for a bad option.
 * @example
 * ```ts
 * await using job = createJob(store, { query: query().name('order.placed', 'order.cancelled') });
 * await job.apply(orderCount); // the job's cached reads are released at the end of the block
 * ```
 */
export function createJob(
  store: EventStore,
  options: JobOptions = {},
): Job & AsyncDisposable & { close(): void } {
  return new StoreJob(store, options);
}

/**
 * A job as schedules use it: with the bookkeeping that moves the subscription's checkpoint.
 *
 * @internal
 */
export interface ManagedJob extends Job {
  /** The position up to which every read of the job covered the store, if it learned one. */
  coveredUpTo(): number | undefined;
  close(): void;
}

/** One use of a shared read by the job, remembered to compute what the job covered. */
interface ReadRequest {
  readonly read: SharedRead;
  readonly min: number;
  readonly narrowed: boolean;
}

/** @internal */
export class StoreJob implements ManagedJob {
  readonly kind: JobKind;
  readonly reset: boolean;
  readonly from: number;
  readonly query: EventQuery;
  readonly signal: AbortSignal;
  readonly #store: EventStore;
  readonly #aggregateQuery: EventQuery | undefined;
  readonly #filter: EventPredicate | undefined;
  readonly #interceptors: readonly BeforeEvent[];
  readonly #errorPolicy: ErrorPolicy | undefined;
  readonly #onError: ((error: ApplyError) => void) | undefined;
  readonly #controller = new AbortController();
  readonly #reads = new Map<string, SharedRead[]>();
  readonly #requests: ReadRequest[] = [];
  readonly #resetTargets = new WeakSet<object>();

  constructor(store: EventStore, options: JobOptions) {
    const from = options.from ?? 0;
    if (!Number.isSafeInteger(from) || from < 0) {
      throw new InvalidArgumentError(
        `job: from ${String(from)} must be a non-negative integer position`,
      );
    }
    const query = options.query ?? {};
    validateQuery(query);
    if (options.aggregateQuery) validateQuery(options.aggregateQuery);
    this.#store = store;
    this.kind = options.kind ?? 'manual';
    this.reset = options.reset ?? false;
    this.from = from;
    this.query = query;
    this.#aggregateQuery = options.aggregateQuery;
    this.#filter = compileFilters(options.filter);
    this.#interceptors = toList(options.beforeEvent);
    for (const interceptor of this.#interceptors) {
      if (typeof interceptor?.handler !== 'function') {
        throw new InvalidArgumentError('job: every beforeEvent needs a handler function');
      }
    }
    this.#errorPolicy = options.errorPolicy;
    this.#onError = options.onError;
    this.signal = options.signal
      ? AbortSignal.any([options.signal, this.#controller.signal])
      : this.#controller.signal;
  }

  events(options: JobEventsOptions = {}): AsyncIterable<Event> {
    return this.#stream(
      this.query,
      this.from,
      undefined,
      compileFilters(options.filter),
      options.signal,
    );
  }

  eventsOf(
    aggregateNames: readonly string[],
    options: JobEventsOptions = {},
  ): AsyncIterable<Event> {
    const extra = compileFilters([
      ...toList(options.filter),
      ...(aggregateNames.length > 0 ? [{ aggregateNames }] : []),
    ]);
    return this.#stream(this.query, this.from, undefined, extra, options.signal);
  }

  eventsFor(target: Target, options: JobApplyOptions = {}): AsyncIterable<Event> {
    const { query, from } = this.#targetRead(target, options);
    return this.#stream(query, from, options.aggregate, undefined, options.signal);
  }

  aggregates(
    options: { readonly names?: readonly string[] | undefined } & SignalOptions = {},
  ): AsyncIterable<AggregateRef> {
    const names = options.names ?? [];
    const extra = names.length > 0 ? compileQuery({ aggregateNames: names }) : undefined;
    const source = this.#stream(
      this.#aggregateQuery ?? this.query,
      this.from,
      undefined,
      extra,
      options.signal,
    );
    return {
      [Symbol.asyncIterator]: () => {
        const iterator = source[Symbol.asyncIterator]();
        const seen = new Set<string>();
        return {
          async next(): Promise<IteratorResult<AggregateRef>> {
            for (;;) {
              const result = await iterator.next();
              if (result.done) return { done: true, value: undefined };
              const aggregate = result.value.aggregate;
              if (!aggregate) continue;
              const key = refKey(aggregate);
              if (seen.has(key)) continue;
              seen.add(key);
              return { done: false, value: { name: aggregate.name, id: aggregate.id } };
            }
          },
          async return(): Promise<IteratorResult<AggregateRef>> {
            await iterator.return?.();
            return { done: true, value: undefined };
          },
        };
      },
    };
  }

  async aggregate(name: string, options: SignalOptions = {}): Promise<string> {
    for await (const ref of this.aggregates({ names: [name], signal: options.signal })) {
      if (ref.name === name) return ref.id;
    }
    throw new AggregateNotFoundError(name);
  }

  async apply(target: Target, options: JobApplyOptions = {}): Promise<ApplyResult> {
    const signal = this.#signalFor(options.signal);
    signal.throwIfAborted();
    if (this.reset && !this.#resetTargets.has(target)) {
      this.#resetTargets.add(target);
      if (isProgressAware(target)) target.setProgress(0);
      if (isResetter(target)) await target.reset();
    }
    const applier = new EventApplier(target, {
      ...options,
      errorPolicy: options.errorPolicy ?? this.#errorPolicy,
      onError: options.onError ?? this.#onError,
      signal,
    });
    try {
      return await this.#applyRead(applier, target, options, signal);
    } finally {
      applier.dispose();
    }
  }

  async #applyRead(
    applier: EventApplier,
    target: Target,
    options: JobApplyOptions,
    signal: AbortSignal,
  ): Promise<ApplyResult> {
    const { query, from } = this.#targetRead(target, options);
    const { read, test } = this.#open(query, from, options.aggregate);
    const interceptors = this.#interceptors;
    const filter = this.#filter;
    let chunkIndex = 0;
    for (;;) {
      while (chunkIndex < read.chunks.length) {
        const events = read.chunks[chunkIndex++] as Event[];
        const end = events.length;
        let index = 0;
        while (index < end) {
          const event = events[index++] as Event;
          if (test && !test(event)) continue;
          if (interceptors.length > 0) {
            if (applier.isBehind(event)) {
              applier.one(event);
              continue;
            }
            for (const added of await this.#intercept(event, signal)) {
              if (filter && !filter(added)) continue;
              const waiting = applier.one(added);
              if (waiting) await waiting;
            }
          }
          if (filter && !filter(event)) continue;
          const waiting = applier.one(event);
          if (waiting) await waiting;
        }
      }
      if (read.done) {
        read.throwIfFailed();
        return applier.result();
      }
      await abortable(read.pull(), signal);
    }
  }

  async applyToModels<M extends Target & ProgressAware>(
    repository: ModelRepository<M>,
    options: ApplyToModelsOptions<M>,
  ): Promise<ApplyToModelsResult> {
    if (typeof options?.create !== 'function') {
      throw new InvalidArgumentError(
        'applyToModels: options.create must make a model for an aggregate',
      );
    }
    const signal = this.#signalFor(options.signal);
    const {
      create,
      aggregateNames,
      modelId = (ref: AggregateRef) => ref.id,
      retries,
      ...applyOptions
    } = options;
    let models = 0;
    let saved = 0;
    let applied = 0;
    let skipped = 0;
    // Group the aggregates by model first: a model's progress is one global position, so
    // applying several aggregates' events to it one aggregate at a time would move its progress
    // past the older events of the aggregates that come later (and skip them for good).
    const groups = new Map<string, AggregateRef[]>();
    for await (const ref of this.aggregates({ names: aggregateNames, signal })) {
      const id = modelId(ref);
      const group = groups.get(id);
      if (group) group.push(ref);
      else groups.set(id, [ref]);
    }
    for (const [id, refs] of groups) {
      models++;
      const first = refs[0] as AggregateRef;
      // One aggregate: read only its events. Several: read the job's events after the model's
      // progress in position order and keep those of every aggregate that maps to this model.
      const read: JobApplyOptions =
        refs.length === 1
          ? { aggregate: first }
          : {
              guard: (event) =>
                event.aggregate !== undefined &&
                (!aggregateNames ||
                  aggregateNames.length === 0 ||
                  aggregateNames.includes(event.aggregate.name)) &&
                modelId({ name: event.aggregate.name, id: event.aggregate.id }) === id &&
                (applyOptions.guard?.(event) ?? true),
            };
      let outcome: ApplyResult | undefined;
      let changed = false;
      await repository.use(
        id,
        async (model) => {
          const before = readProgress(model);
          outcome = await this.apply(model, { ...applyOptions, ...read, signal });
          changed = outcome.applied > 0 || outcome.skipped > 0 || readProgress(model) !== before;
          return changed;
        },
        { create: () => create(first), retries, signal },
      );
      if (changed) saved++;
      if (outcome) {
        applied += outcome.applied;
        skipped += outcome.skipped;
      }
    }
    return { models, saved, applied, skipped };
  }

  coveredUpTo(): number | undefined {
    let covered: number | undefined;
    for (const { read, min, narrowed } of this.#requests) {
      if (narrowed) continue;
      const upTo = read.complete ? Math.max(min - 1, read.maxPosition) : min - 1;
      covered = covered === undefined ? upTo : Math.min(covered, upTo);
    }
    return covered === undefined ? undefined : Math.max(this.from, covered);
  }

  close(): void {
    this.#controller.abort(new ClosedError('the projection job'));
    for (const reads of this.#reads.values()) for (const read of reads) read.close();
    this.#reads.clear();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  /** What `apply(target)` reads: after the progress (position order) or the window. */
  #targetRead(target: Target, options: ApplyOptions): { query: EventQuery; from: number } {
    if (isProgressAware(target) && !options.ignoreProgress) {
      // A reset job resets the target before reading, so it reads from the beginning.
      const progress = this.reset && !this.#resetTargets.has(target) ? 0 : readProgress(target);
      const { sort: _sort, ...positionOrdered } = this.query;
      return { query: positionOrdered, from: progress };
    }
    return { query: this.query, from: this.from };
  }

  #signalFor(signal: AbortSignal | undefined): AbortSignal {
    return signal ? AbortSignal.any([signal, this.signal]) : this.signal;
  }

  /** Finds or starts the shared read for (query, after `from`, narrowed to `aggregate`). */
  #open(
    base: EventQuery,
    from: number,
    aggregate: AggregateRef | undefined,
  ): { read: SharedRead; test: ((event: Event) => boolean) | undefined } {
    const min = from + 1;
    const key = queryKey(base);
    const candidates = this.#reads.get(key) ?? [];
    const sameRef = (ref: AggregateRef | undefined) =>
      ref === aggregate ||
      (ref !== undefined && aggregate !== undefined && refKey(ref) === refKey(aggregate));
    let read = candidates.find((r) => !r.failed && r.min === min && sameRef(r.narrowing));
    if (!read) {
      let best: SharedRead | undefined;
      for (const r of candidates) {
        if (r.failed || r.min > min || (r.narrowing !== undefined && !sameRef(r.narrowing)))
          continue;
        if (
          !best ||
          (r.complete && !best.complete) ||
          (r.complete === best.complete && r.min > best.min)
        )
          best = r;
      }
      read = best;
    }
    if (!read) {
      let q: EventQuery | undefined = base;
      if (aggregate) q = narrowToAggregate(base, aggregate);
      if (q) {
        const lowest = Math.max(min, q.positions?.min ?? 0);
        q = { ...q, positions: { ...q.positions, min: lowest } };
      }
      const finalQuery = q;
      const store = this.#store;
      const signal = this.signal;
      read = new SharedRead(
        min,
        aggregate,
        finalQuery === undefined ? undefined : () => store.query(finalQuery, { signal }),
      );
      candidates.push(read);
      this.#reads.set(key, candidates);
    }
    this.#requests.push({ read, min, narrowed: aggregate !== undefined });
    const narrowing = aggregate && read.narrowing === undefined ? aggregate : undefined;
    // A read made for exactly this request needs no test per event.
    if (read.min === min && !narrowing) return { read, test: undefined };
    const test = (event: Event): boolean => {
      if (event.position !== undefined && event.position < min) return false;
      if (!narrowing) return true;
      const a = event.aggregate;
      return a !== undefined && a.name === narrowing.name && a.id === narrowing.id;
    };
    return { read, test };
  }

  async #intercept(event: Event, signal: AbortSignal): Promise<readonly Event[]> {
    const added: Event[] = [];
    for (const interceptor of this.#interceptors) {
      if (
        interceptor.names &&
        interceptor.names.length > 0 &&
        !interceptor.names.includes(event.name)
      )
        continue;
      const events = await interceptor.handler(event, { signal });
      if (events) added.push(...events);
    }
    return added;
  }

  /** A per-event async iterable over a shared read, through filters and interceptors. */
  #stream(
    base: EventQuery,
    from: number,
    aggregate: AggregateRef | undefined,
    extra: EventPredicate | undefined,
    signal: AbortSignal | undefined,
  ): AsyncIterable<Event> {
    const job = this;
    return {
      [Symbol.asyncIterator](): AsyncIterator<Event> {
        const combined = job.#signalFor(signal);
        combined.throwIfAborted();
        const cursor = job.#open(base, from, aggregate);
        const filter = job.#filter;
        const pending: Event[] = [];
        let chunkIndex = 0;
        let index = 0;
        let finished = false;
        const passes = (event: Event) => (!filter || filter(event)) && (!extra || extra(event));
        const next = async (): Promise<IteratorResult<Event>> => {
          for (;;) {
            if (pending.length > 0) return { done: false, value: pending.shift() as Event };
            if (finished) return { done: true, value: undefined };
            combined.throwIfAborted();
            const { read, test } = cursor;
            const chunk = read.chunks[chunkIndex];
            if (chunk !== undefined && index >= chunk.length) {
              chunkIndex++;
              index = 0;
              continue;
            }
            if (chunk !== undefined) {
              const event = chunk[index++] as Event;
              if (test && !test(event)) continue;
              if (job.#interceptors.length > 0) {
                for (const added of await job.#intercept(event, combined))
                  if (passes(added)) pending.push(added);
              }
              if (passes(event)) pending.push(event);
              continue;
            }
            if (read.done) {
              finished = true;
              read.throwIfFailed();
              continue;
            }
            await abortable(read.pull(), combined);
          }
        };
        return {
          next,
          async return(): Promise<IteratorResult<Event>> {
            finished = true;
            pending.length = 0;
            return { done: true, value: undefined };
          },
        };
      },
    };
  }
}

function toList<T>(value: T | readonly T[] | undefined): readonly T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? (value as readonly T[]) : [value as T];
}

function compileFilters(
  filters: EventQuery | readonly EventQuery[] | undefined,
): EventPredicate | undefined {
  const list = toList(filters);
  if (list.length === 0) return undefined;
  const tests = list.map((q) => {
    validateQuery(q);
    return compileQuery(q);
  });
  if (tests.length === 1) return tests[0];
  return (event) => tests.every((test) => test(event));
}
