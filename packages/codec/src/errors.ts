import type { StandardSchemaV1 } from './standard-schema.js';

/**
 * The stable codes of codec errors. Test for them with {@link isCodecError} rather than
 * `instanceof`, which fails when two copies of the package are installed.
 *
 * @example
 * ```ts
 * if (isCodecError(error) && error.code === 'CODEC_UNKNOWN_NAME') register(error.dataName);
 * ```
 */
export type CodecErrorCode =
  | 'CODEC_UNKNOWN_NAME'
  | 'CODEC_ENCODE_FAILED'
  | 'CODEC_DECODE_FAILED'
  | 'CODEC_VALIDATION_FAILED'
  | 'CODEC_INVALID_REGISTRATION';

/**
 * Base class of the codec's errors. `dataName` is the event or command name the codec was asked
 * to handle.
 *
 * @example
 * ```ts
 * try { codec.decode('order.placed', text); } catch (e) { if (isCodecError(e)) console.log(e.dataName); }
 * ```
 */
export class CodecError extends Error {
  readonly code: CodecErrorCode;
  readonly dataName: string;

  constructor(
    code: CodecErrorCode,
    dataName: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.dataName = dataName;
  }

  static {
    // The brand goes' guards (isGoesError in @goes/event) check: codec errors are goes errors.
    Object.defineProperty(CodecError.prototype, Symbol.for('goes.error'), { value: true });
  }
}

/**
 * Thrown by a strict registry for a name nothing was registered for.
 *
 * @example
 * ```ts
 * createRegistry({ strict: true }).decode('nope', '{}'); // throws UnknownNameError
 * ```
 */
export class UnknownNameError extends CodecError {
  constructor(dataName: string) {
    super(
      'CODEC_UNKNOWN_NAME',
      dataName,
      `codec: nothing is registered for name ${JSON.stringify(dataName)}`,
    );
  }
}

/**
 * Thrown when data cannot be encoded (for JSON: a `bigint`, a cycle, a custom encoder failing).
 *
 * @example
 * ```ts
 * codec.encode('x', { n: 1n }); // throws EncodeError naming "x"
 * ```
 */
export class EncodeError extends CodecError {
  constructor(dataName: string, cause: unknown) {
    super(
      'CODEC_ENCODE_FAILED',
      dataName,
      `codec: cannot encode data of ${JSON.stringify(dataName)}: ${describe(cause)}`,
      {
        cause,
      },
    );
  }
}

/**
 * Thrown when stored or received bytes cannot be decoded (malformed JSON, a custom decoder failing).
 *
 * @example
 * ```ts
 * codec.decode('order.placed', '{oops'); // throws DecodeError naming "order.placed"
 * ```
 */
export class DecodeError extends CodecError {
  constructor(dataName: string, cause: unknown) {
    super(
      'CODEC_DECODE_FAILED',
      dataName,
      `codec: cannot decode data of ${JSON.stringify(dataName)}: ${describe(cause)}`,
      {
        cause,
      },
    );
  }
}

/**
 * Thrown when a registered Standard Schema rejects a value. `issues` are the schema's reasons.
 *
 * @example
 * ```ts
 * try { codec.validate('order.placed', {}); } catch (e) { if (e instanceof ValidationError) console.log(e.issues); }
 * ```
 */
export class ValidationError extends CodecError {
  readonly issues: ReadonlyArray<StandardSchemaV1.Issue>;

  constructor(
    dataName: string,
    issues: ReadonlyArray<StandardSchemaV1.Issue>,
    options?: { cause?: unknown },
  ) {
    const summary = issues
      .slice(0, 3)
      .map((issue) =>
        issue.path?.length ? `${formatPath(issue.path)}: ${issue.message}` : issue.message,
      )
      .join('; ');
    super(
      'CODEC_VALIDATION_FAILED',
      dataName,
      `codec: invalid data for ${JSON.stringify(dataName)}: ${summary}`,
      options,
    );
    this.issues = issues;
  }
}

/**
 * Thrown by `register` for a bad registration (empty name, an async-only schema, ...).
 *
 * @example
 * ```ts
 * createRegistry().register('', {}); // throws InvalidRegistrationError
 * ```
 */
export class InvalidRegistrationError extends CodecError {
  constructor(dataName: string, reason: string) {
    super(
      'CODEC_INVALID_REGISTRATION',
      dataName,
      `codec: cannot register ${JSON.stringify(dataName)}: ${reason}`,
    );
  }
}

/**
 * True for any codec error (checked by `code`, so it works across duplicate package installs).
 *
 * @example
 * ```ts
 * if (isCodecError(error)) console.log(error.code, error.dataName);
 * ```
 */
export function isCodecError(error: unknown): error is CodecError {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { [key: symbol]: unknown })[Symbol.for('goes.error')] === true &&
    typeof (error as { code?: unknown }).code === 'string' &&
    (error as { code: string }).code.startsWith('CODEC_')
  );
}

function describe(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

function formatPath(path: ReadonlyArray<PropertyKey | StandardSchemaV1.PathSegment>): string {
  return path
    .map((segment) => String(typeof segment === 'object' ? segment.key : segment))
    .join('.');
}
