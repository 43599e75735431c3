import {
  DecodeError,
  EncodeError,
  InvalidRegistrationError,
  UnknownNameError,
  ValidationError,
} from './errors.js';
import type { StandardSchemaV1 } from './standard-schema.js';

/**
 * A map from event or command names to the type of their data, e.g.
 * `{ 'product.created': { sku: string }; 'product.priced': { cents: number } }`.
 *
 * @example
 * ```ts
 * type ShopEvents = { 'order.placed': { orderId: string; total: number } };
 * const codec: Codec<ShopEvents> = createRegistry<ShopEvents>();
 * ```
 */
export type DataMap = { readonly [name: string]: unknown };

/**
 * How data turns into text and back when no per-name encoder is registered. The default is JSON.
 *
 * @example
 * ```ts
 * const json: Encoding = { encode: JSON.stringify, decode: JSON.parse };
 * ```
 */
export interface Encoding {
  encode(data: unknown): string;
  decode(encoded: string): unknown;
}

/**
 * What a name is registered with. Everything is optional: a bare registration just makes the
 * name known to a strict registry. With a `schema`, decoded data (and data to encode) is
 * validated and the schema's output is what `decode` returns.
 *
 * @example
 * ```ts
 * registry.register('order.placed', { schema: z.object({ orderId: z.string().uuid() }) });
 * ```
 */
export interface Registration<T> {
  /** A Standard Schema (zod, valibot, arktype...) with a synchronous `validate`. */
  readonly schema?: StandardSchemaV1<unknown, T> | undefined;
  /** Encodes the data of this name instead of the registry's default encoding. */
  readonly encode?: ((data: T) => string) | undefined;
  /** Decodes the data of this name instead of the registry's default encoding. */
  readonly decode?: ((encoded: string) => unknown) | undefined;
}

/**
 * The codec contract the rest of goes uses: name-aware encode, decode and validate. Stores and
 * buses encode event data with it; the command bus encodes payloads with it. Any typed
 * {@link Registry} is assignable to the plain `Codec` that stores take; use the registry itself
 * for calls whose data type is inferred from the name.
 *
 * @example
 * ```ts
 * const text = codec.encode('order.placed', { orderId, total: 10 });
 * const data = codec.decode('order.placed', text);
 * ```
 */
export interface Codec<M extends DataMap = DataMap> {
  /** Encodes `data` registered under `name`. @throws {@link EncodeError}, {@link ValidationError}, {@link UnknownNameError} */
  encode(name: keyof M & string, data: M[keyof M & string]): string;
  /** Decodes text produced by `encode`. @throws {@link DecodeError}, {@link ValidationError}, {@link UnknownNameError} */
  decode(name: keyof M & string, encoded: string): M[keyof M & string];
  /** Checks `data` against the schema of `name` (if any) and returns the schema's output. */
  validate(name: keyof M & string, data: unknown): M[keyof M & string];
  /** True when `name` was registered. */
  has(name: string): boolean;
  /** The registered names. */
  names(): string[];
}

/**
 * Options of {@link createRegistry}.
 *
 * @example
 * ```ts
 * const registry = createRegistry({ strict: true });
 * ```
 */
export interface RegistryOptions {
  /**
   * When true, names that were never registered are refused with {@link UnknownNameError}
   * (goes' behaviour). When false (the default), they pass through the default encoding.
   */
  readonly strict?: boolean | undefined;
  /** Replaces JSON as the default encoding. */
  readonly encoding?: Encoding | undefined;
}

const json: Encoding = {
  encode(data) {
    // JSON.stringify(undefined) is undefined, which no store can hold; store null instead.
    return JSON.stringify(data) ?? 'null';
  },
  decode(encoded) {
    return JSON.parse(encoded);
  },
};

/**
 * A codec registry: goes' `codec.Registry`. Register names (optionally with a schema or custom
 * encoders) and use it as the {@link Codec} of stores, buses and the command bus.
 * `register` returns the registry with a widened type, so chained registrations build the
 * {@link DataMap} for you.
 *
 * @example
 * ```ts
 * const events = createRegistry({ strict: true })
 *   .register<'product.created', { sku: string }>('product.created')
 *   .register('product.priced', { schema: pricedSchema });
 * events.decode('product.created', '{"sku":"A-1"}').sku; // typed as string
 * ```
 */
export class Registry<M extends DataMap = DataMap> implements Codec<M> {
  readonly #entries = new Map<string, Registration<unknown>>();
  readonly #strict: boolean;
  readonly #encoding: Encoding;

  constructor(options: RegistryOptions = {}) {
    this.#strict = options.strict ?? false;
    this.#encoding = options.encoding ?? json;
  }

  /**
   * Registers `name`. Registering a name again replaces its registration.
   * @throws {@link InvalidRegistrationError} for an empty name.
   */
  register<N extends string, T = unknown>(
    name: N,
    registration: Registration<T> = {},
  ): Registry<M & { [K in N]: T }> {
    if (typeof name !== 'string' || name.length === 0) {
      throw new InvalidRegistrationError(String(name), 'the name must be a non-empty string');
    }
    this.#entries.set(name, registration as Registration<unknown>);
    return this as unknown as Registry<M & { [K in N]: T }>;
  }

  has(name: string): boolean {
    return this.#entries.has(name);
  }

  names(): string[] {
    return [...this.#entries.keys()];
  }

  encode<N extends keyof M & string>(name: N, data: M[N]): string {
    const entry = this.#entry(name);
    const value = entry?.schema ? this.#check(name, entry.schema, data) : data;
    let text: unknown;
    try {
      text = entry?.encode ? entry.encode(value) : this.#encoding.encode(value);
    } catch (error) {
      throw new EncodeError(name, error);
    }
    // Stores and buses hold text: an encoder returning anything else would fail far from here
    // (or store something undecodable), without naming the name.
    if (typeof text !== 'string') {
      throw new EncodeError(name, new TypeError(`the encoder returned ${typeof text}, not text`));
    }
    return text;
  }

  decode<N extends keyof M & string>(name: N, encoded: string): M[N] {
    const entry = this.#entry(name);
    let raw: unknown;
    try {
      raw = entry?.decode ? entry.decode(encoded) : this.#encoding.decode(encoded);
    } catch (error) {
      throw new DecodeError(name, error);
    }
    return (entry?.schema ? this.#check(name, entry.schema, raw) : raw) as M[N];
  }

  validate<N extends keyof M & string>(name: N, data: unknown): M[N] {
    const entry = this.#entry(name);
    return (entry?.schema ? this.#check(name, entry.schema, data) : data) as M[N];
  }

  #entry(name: string): Registration<unknown> | undefined {
    const entry = this.#entries.get(name);
    if (!entry && this.#strict) throw new UnknownNameError(name);
    return entry;
  }

  #check(name: string, schema: StandardSchemaV1<unknown, unknown>, value: unknown): unknown {
    let result: ReturnType<StandardSchemaV1<unknown, unknown>['~standard']['validate']>;
    try {
      result = schema['~standard'].validate(value);
    } catch (error) {
      // A hand-written schema may throw on data it does not expect instead of returning issues;
      // report it like any other invalid data, naming the name.
      const message = error instanceof Error ? error.message : String(error);
      throw new ValidationError(name, [{ message: `the schema threw: ${message}` }], {
        cause: error,
      });
    }
    if (result instanceof Promise) {
      result.catch(() => {});
      throw new InvalidRegistrationError(
        name,
        'its schema validates asynchronously; the codec needs a synchronous schema',
      );
    }
    if (result.issues) throw new ValidationError(name, result.issues);
    return result.value;
  }
}

/**
 * Creates a {@link Registry}; give the {@link DataMap} as a type argument when the names are
 * known up front, or let chained `register` calls build it.
 *
 * @example
 * ```ts
 * const codec = createRegistry<{ 'user.registered': { email: string } }>({ strict: true })
 *   .register('user.registered', { schema: userRegisteredSchema });
 * ```
 */
export function createRegistry<M extends DataMap = DataMap>(
  options: RegistryOptions = {},
): Registry<M> {
  return new Registry<M>(options);
}
