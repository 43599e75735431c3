import {
  type EventQuery,
  InvalidArgumentError,
  type JsonQuery,
  queryFromJson,
  queryToJson,
} from '@goes/event';
import { checkTrigger } from './internal/subscription.js';
import type { TriggerOptions } from './schedule.js';

/**
 * A trigger in JSON-safe form, as the projection service sends it over the bus: queries go
 * through `queryToJson`, so every field survives any codec (goes lost the queries of a trigger
 * on the wire, because they were interface values).
 *
 * @example
 * ```ts
 * const wire: JsonTrigger = triggerToJson({ reset: true, query: query().name('order.placed') });
 * ```
 */
export interface JsonTrigger {
  readonly reset?: boolean;
  readonly from?: number;
  readonly query?: JsonQuery;
  readonly aggregateQuery?: JsonQuery;
  readonly filter?: readonly JsonQuery[];
}

/**
 * Converts trigger options to their JSON-safe form.
 *
 * @throws {@link InvalidQueryError} or {@link InvalidArgumentError} for invalid options.
 * @example
 * ```ts
 * JSON.stringify(triggerToJson({ query: query().name('a').timeMin(since) }));
 * ```
 */
export function triggerToJson(trigger: TriggerOptions): JsonTrigger {
  checkTrigger(trigger);
  const json: {
    reset?: boolean;
    from?: number;
    query?: JsonQuery;
    aggregateQuery?: JsonQuery;
    filter?: JsonQuery[];
  } = {};
  if (trigger.reset !== undefined) json.reset = trigger.reset;
  if (trigger.from !== undefined) json.from = trigger.from;
  if (trigger.query !== undefined) json.query = queryToJson(trigger.query);
  if (trigger.aggregateQuery !== undefined)
    json.aggregateQuery = queryToJson(trigger.aggregateQuery);
  if (trigger.filter !== undefined) {
    const filters = Array.isArray(trigger.filter) ? trigger.filter : [trigger.filter as EventQuery];
    json.filter = filters.map((q) => queryToJson(q));
  }
  return json;
}

/**
 * Rebuilds trigger options from {@link triggerToJson}'s output (for instance after a JSON round
 * trip) and validates them.
 *
 * @throws {@link InvalidArgumentError} naming the offending field; {@link InvalidQueryError} for a bad query.
 * @example
 * ```ts
 * const trigger = triggerFromJson(JSON.parse(text));
 * await schedule.trigger(trigger);
 * ```
 */
export function triggerFromJson(json: unknown): TriggerOptions {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new InvalidArgumentError(
      `a trigger must be an object, got ${JSON.stringify(json) ?? String(json)}`,
    );
  }
  const raw = json as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (!['reset', 'from', 'query', 'aggregateQuery', 'filter'].includes(key)) {
      throw new InvalidArgumentError(`trigger: unknown field ${JSON.stringify(key)}`);
    }
  }
  const trigger: {
    -readonly [K in keyof TriggerOptions]: TriggerOptions[K];
  } = {};
  if (raw.reset !== undefined) {
    if (typeof raw.reset !== 'boolean') {
      throw new InvalidArgumentError(
        `trigger: reset ${JSON.stringify(raw.reset)} must be a boolean`,
      );
    }
    trigger.reset = raw.reset;
  }
  if (raw.from !== undefined) trigger.from = raw.from as number;
  if (raw.query !== undefined) trigger.query = queryFromJson(object('query', raw.query));
  if (raw.aggregateQuery !== undefined) {
    trigger.aggregateQuery = queryFromJson(object('aggregateQuery', raw.aggregateQuery));
  }
  if (raw.filter !== undefined) {
    if (!Array.isArray(raw.filter)) {
      throw new InvalidArgumentError(`trigger: filter must be an array of queries`);
    }
    trigger.filter = raw.filter.map((q, i) => queryFromJson(object(`filter[${i}]`, q)));
  }
  checkTrigger(trigger);
  return trigger;
}

function object(field: string, value: unknown): JsonQuery {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(
      `trigger: ${field} must be a query object, got ${JSON.stringify(value)}`,
    );
  }
  return value as JsonQuery;
}
