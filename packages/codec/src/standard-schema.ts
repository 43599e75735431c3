/**
 * The Standard Schema interface (https://standardschema.dev), version 1: the common shape that
 * zod (≥ 3.24), valibot (≥ 1.0) and arktype (≥ 2.0) schemas implement. Declared here so the codec
 * accepts any of them without depending on one.
 *
 * @example
 * ```ts
 * import { z } from 'zod';
 * const schema: StandardSchemaV1<unknown, { sku: string }> = z.object({ sku: z.string() });
 * ```
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': StandardSchemaV1.Props<Input, Output>;
}

/**
 * Types of the Standard Schema interface.
 *
 * @example
 * ```ts
 * type Data = StandardSchemaV1.InferOutput<typeof schema>;
 * ```
 */
export declare namespace StandardSchemaV1 {
  /** The properties under `~standard`. */
  export interface Props<Input = unknown, Output = Input> {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => Result<Output> | Promise<Result<Output>>;
    readonly types?: Types<Input, Output> | undefined;
  }
  /** The outcome of a validation. */
  export type Result<Output> = SuccessResult<Output> | FailureResult;
  /** A valid value. */
  export interface SuccessResult<Output> {
    readonly value: Output;
    readonly issues?: undefined;
  }
  /** An invalid value, with the reasons. */
  export interface FailureResult {
    readonly issues: ReadonlyArray<Issue>;
  }
  /** One reason a value is invalid. */
  export interface Issue {
    readonly message: string;
    readonly path?: ReadonlyArray<PropertyKey | PathSegment> | undefined;
  }
  /** A path segment of an issue. */
  export interface PathSegment {
    readonly key: PropertyKey;
  }
  /** Type carriers of a schema. */
  export interface Types<Input = unknown, Output = Input> {
    readonly input: Input;
    readonly output: Output;
  }
  /** The input type of a schema. */
  export type InferInput<Schema extends StandardSchemaV1> = NonNullable<
    Schema['~standard']['types']
  >['input'];
  /** The output type of a schema. */
  export type InferOutput<Schema extends StandardSchemaV1> = NonNullable<
    Schema['~standard']['types']
  >['output'];
}
