/**
 * The codec registry of goes: maps event and command names to how their data is encoded,
 * decoded and validated. JSON by default; any Standard Schema validator (zod, valibot, arktype)
 * can validate data.
 *
 * @packageDocumentation
 */
export {
  CodecError,
  type CodecErrorCode,
  DecodeError,
  EncodeError,
  InvalidRegistrationError,
  isCodecError,
  UnknownNameError,
  ValidationError,
} from './errors.js';
export {
  type Codec,
  createRegistry,
  type DataMap,
  type Encoding,
  type Registration,
  Registry,
  type RegistryOptions,
} from './registry.js';
export type { StandardSchemaV1 } from './standard-schema.js';
