/**
 * The NATS event bus of goes: core NATS (at most once, queue groups) and JetStream (stored, at
 * least once, durable consumers, redelivery and dead letters), carrying events in a documented,
 * language-neutral JSON envelope.
 *
 * @packageDocumentation
 */
export { createNatsEventBus, DEFAULT_SUBJECT_PREFIX } from './bus.js';
export { DEFAULT_NATS_URL } from './connection.js';
export { decodeEnvelope, ENVELOPE_VERSION, type Envelope, encodeEnvelope } from './envelope.js';
export {
  DeadLetterError,
  InvalidEnvelopeError,
  InvalidSubjectError,
  JetStreamSetupError,
  PublishError,
} from './errors.js';
export type {
  AckMode,
  DeliverFrom,
  JetStreamOptions,
  NatsDriver,
  NatsEventBus,
  NatsEventBusOptions,
  NatsSubscribeOptions,
} from './options.js';
export { subjectProblem } from './subjects.js';
