import { GoesError } from '@goes/event';

/**
 * An event name (or the subject it maps to) cannot be a NATS subject: it is empty, has an empty
 * token (`a..b`, a leading or trailing dot), or contains a space, a control character, `*` or `>`.
 * The bus refuses such names instead of escaping them, so a name can never turn into a wildcard
 * subscription or silently collide with another name. `where` says which argument it was
 * (`names[2]`, `events[0]`, `subjectPrefix`).
 *
 * @example
 * ```ts
 * await bus.subscribe(['order placed']); // InvalidSubjectError: names[0] "order placed" ...
 * ```
 */
export class InvalidSubjectError extends GoesError {
  readonly value: string;

  constructor(where: string, value: string, reason: string) {
    super(
      'INVALID_SUBJECT',
      `${where} ${JSON.stringify(value)} cannot be used as a NATS subject: ${reason}`,
    );
    this.value = value;
  }
}

/**
 * A message on a bus subject is not a valid goes envelope (see the README's envelope
 * specification): not JSON, an unknown envelope version `v`, a missing or mistyped field, or data
 * the codec refuses. Subscriptions report it to `onError` and skip the message (JetStream:
 * dead-letters and terminates it, so it is not redelivered forever).
 *
 * @example
 * ```ts
 * await bus.subscribe(['order.placed'], {
 *   onError: (e) => { if (isGoesError(e, 'INVALID_ENVELOPE')) log.warn(e.message); },
 * });
 * ```
 */
export class InvalidEnvelopeError extends GoesError {
  /** The subject the message arrived on. */
  readonly subject: string;

  constructor(subject: string, reason: string, options?: { cause?: unknown }) {
    super('INVALID_ENVELOPE', `invalid goes envelope on ${subject}: ${reason}`, options);
    this.subject = subject;
  }
}

/**
 * A JetStream message was given up on: delivered `maxDeliver` times without being acknowledged,
 * or undecodable. It was published to the dead-letter subject when one is configured
 * (`deadLetterSubject` tells where; undefined when none is), then terminated so the server stops
 * redelivering it. Reported to the subscription's `onError`.
 *
 * @example
 * ```ts
 * onError: (e) => { if (isGoesError(e, 'EVENT_DEAD_LETTERED')) alert(e.message); }
 * ```
 */
export class DeadLetterError extends GoesError {
  readonly subject: string;
  readonly streamSequence: number;
  readonly deliveries: number;
  readonly deadLetterSubject: string | undefined;

  constructor(details: {
    readonly subject: string;
    readonly streamSequence: number;
    readonly deliveries: number;
    readonly deadLetterSubject: string | undefined;
    readonly reason: string;
    readonly cause?: unknown;
  }) {
    const where = details.deadLetterSubject
      ? `moved to ${details.deadLetterSubject}`
      : 'dropped (no dead-letter subject is configured)';
    super(
      'EVENT_DEAD_LETTERED',
      `message ${details.streamSequence} on ${details.subject} ${where} after ${details.deliveries} deliveries: ${details.reason}`,
      { cause: details.cause },
    );
    this.subject = details.subject;
    this.streamSequence = details.streamSequence;
    this.deliveries = details.deliveries;
    this.deadLetterSubject = details.deadLetterSubject;
  }
}

/**
 * JetStream could not be set up for the bus: the stream or a consumer could not be created or
 * updated (JetStream disabled on the server, a stream whose storage type differs, subjects that
 * overlap another stream, a durable consumer name already used with another filter).
 *
 * @example
 * ```ts
 * try { await bus.subscribe(['order.placed'], { durable: 'billing' }); }
 * catch (e) { if (isGoesError(e, 'JETSTREAM_SETUP_FAILED')) console.error(e.message); }
 * ```
 */
export class JetStreamSetupError extends GoesError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('JETSTREAM_SETUP_FAILED', message, options);
  }
}

/**
 * Publishing to NATS failed (JetStream did not acknowledge a message, the connection closed).
 * Events before `index` in the batch were accepted; publishing the batch again is safe with
 * JetStream, which drops duplicates by event id within the stream's duplicate window.
 *
 * @example
 * ```ts
 * try { await bus.publish(events); } catch (e) { if (isGoesError(e, 'PUBLISH_FAILED')) await retry(); }
 * ```
 */
export class PublishError extends GoesError {
  /** Index in the batch of the first event that was not accepted. */
  readonly index: number;

  constructor(index: number, eventId: string, options?: { cause?: unknown }) {
    const reason = options?.cause instanceof Error ? `: ${options.cause.message}` : '';
    super(
      'PUBLISH_FAILED',
      `publishing event #${index} (${eventId}) to NATS failed${reason}`,
      options,
    );
    this.index = index;
  }
}
