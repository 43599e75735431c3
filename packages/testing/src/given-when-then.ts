import { type Aggregate, applyHistory } from '@goes/aggregate';
import { createEvent, type Event, type EventMap, isGoesError } from '@goes/event';
import { expect } from '@jest/globals';

/**
 * The event map of an aggregate type (what its `next` calls accept).
 *
 * @example
 * ```ts
 * type Events = EventMapOf<Product>; // ProductEvents
 * ```
 */
export type EventMapOf<A extends Aggregate> = NonNullable<A['~events']>;

/**
 * An event of an aggregate's map as name and data, the way scenarios write events.
 *
 * @example
 * ```ts
 * const created: EventInput<ProductEvents> = { name: 'product.created', data: { sku: 'A-1' } };
 * ```
 */
export type EventInput<M extends EventMap> = {
  [K in keyof M & string]: { readonly name: K; readonly data: M[K] };
}[keyof M & string];

/**
 * What a failing action is expected to throw: an error code (`'VERSION_CONFLICT'`), a class,
 * a pattern the message must match, or a predicate.
 *
 * @example
 * ```ts
 * const expected: ExpectedError = /negative price/;
 * ```
 */
export type ExpectedError =
  | string
  | RegExp
  | (abstract new (
      ...args: never[]
    ) => Error)
  | ((error: unknown) => boolean);

/**
 * The "when" step of a scenario: an action ran (or is about to) on the aggregate built from the
 * given events; each `then…` method runs it and asserts its outcome with jest's `expect`.
 *
 * @example
 * ```ts
 * await given(make, created).when((p) => p.price(100)).thenRaised({ name: 'product.priced', data: { cents: 100 } });
 * ```
 */
export interface WhenStep<A extends Aggregate> {
  /**
   * Asserts the action raised exactly these events, in order (names and data), with versions
   * following the given events and strictly increasing times. Resolves to the aggregate, for
   * assertions on its state.
   */
  thenRaised(...expected: EventInput<EventMapOf<A>>[]): Promise<A>;
  /** Asserts the action succeeded and raised nothing. Resolves to the aggregate. */
  thenNothing(): Promise<A>;
  /**
   * Asserts the action threw what `expected` describes (any error when omitted) and that it
   * left no uncommitted change behind. Resolves to the error.
   */
  thenThrew(expected?: ExpectedError): Promise<unknown>;
}

/**
 * The "given" step of a scenario: an aggregate with a history.
 *
 * @example
 * ```ts
 * const scenario = given(() => new Product(id), { name: 'product.created', data: { sku: 'A-1' } });
 * await scenario.when((p) => p.discontinue()).thenRaised({ name: 'product.discontinued', data: {} });
 * ```
 */
export interface GivenStep<A extends Aggregate> {
  /** The action under test; it receives the aggregate and may be async. */
  when(action: (aggregate: A) => unknown): WhenStep<A>;
}

/**
 * Starts a given/when/then scenario for an aggregate: `make` builds a fresh aggregate, `events`
 * (name and data, typed by the aggregate's event map) become its stored history — versions 1..n
 * and increasing times — applied with `applyHistory`. Use it inside a jest test.
 *
 * @example
 * ```ts
 * it('prices a product', async () => {
 *   const product = await given(() => new Product(id), { name: 'product.created', data: { sku: 'A-1' } })
 *     .when((p) => p.price(250))
 *     .thenRaised({ name: 'product.priced', data: { cents: 250 } });
 *   expect(product.cents).toBe(250);
 * });
 *
 * it('refuses a negative price', async () => {
 *   await given(() => new Product(id)).when((p) => p.price(-1)).thenThrew(/negative/);
 * });
 * ```
 */
export function given<A extends Aggregate>(
  make: () => A,
  ...events: EventInput<EventMapOf<A>>[]
): GivenStep<A> {
  return {
    when(action) {
      const run = async (): Promise<{
        aggregate: A;
        history: number;
        error?: unknown;
        threw: boolean;
      }> => {
        const aggregate = make();
        const start = 1_000_000_000_000_000_000n;
        const history: Event[] = events.map(({ name, data }, i) =>
          createEvent(name, data, {
            time: start + BigInt(i),
            aggregate: { name: aggregate.aggregateName, id: aggregate.id, version: i + 1 },
          }),
        );
        applyHistory(aggregate, history);
        try {
          await action(aggregate);
          return { aggregate, history: history.length, threw: false };
        } catch (error) {
          return { aggregate, history: history.length, error, threw: true };
        }
      };
      return {
        async thenRaised(...expected) {
          const outcome = await run();
          if (outcome.threw) throw outcome.error;
          const { aggregate } = outcome;
          expect(aggregate.changes.map(({ name, data }) => ({ name, data }))).toEqual(
            expected.map(({ name, data }) => ({ name, data })),
          );
          aggregate.changes.forEach((change, i) => {
            expect(change.aggregate).toEqual({
              name: aggregate.aggregateName,
              id: aggregate.id,
              version: outcome.history + i + 1,
            });
            const previous = aggregate.changes[i - 1];
            if (previous) expect(change.time > previous.time).toBe(true);
          });
          return aggregate;
        },
        async thenNothing() {
          const outcome = await run();
          if (outcome.threw) throw outcome.error;
          expect(outcome.aggregate.changes.map((e) => e.name)).toEqual([]);
          return outcome.aggregate;
        },
        async thenThrew(expectedError) {
          const outcome = await run();
          if (!outcome.threw) {
            throw new Error(
              `expected the action to throw, but it raised ${outcome.aggregate.changes.length} event(s): ${outcome.aggregate.changes.map((e) => e.name).join(', ') || 'none'}`,
            );
          }
          if (expectedError !== undefined && !errorMatches(outcome.error, expectedError)) {
            throw new Error(
              `the action threw ${String(outcome.error)}, which does not match ${describeExpected(expectedError)}`,
            );
          }
          expect(outcome.aggregate.changes.map((e) => e.name)).toEqual([]);
          return outcome.error;
        },
      };
    },
  };
}

function errorMatches(error: unknown, expected: ExpectedError): boolean {
  if (typeof expected === 'string') return isGoesError(error, expected);
  if (expected instanceof RegExp)
    return expected.test(error instanceof Error ? error.message : String(error));
  if (expected.prototype instanceof Error || expected === Error) {
    return error instanceof (expected as abstract new (...args: never[]) => Error);
  }
  return (expected as (error: unknown) => boolean)(error);
}

function describeExpected(expected: ExpectedError): string {
  if (typeof expected === 'string') return `code ${expected}`;
  if (expected instanceof RegExp) return String(expected);
  if (expected.prototype instanceof Error || expected === Error) return `class ${expected.name}`;
  return 'the predicate';
}
