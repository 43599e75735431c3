import { createHash, randomUUID } from 'node:crypto';
import { InvalidArgumentError } from '@goes/event';
import { abortable } from '@goes/streams';
import {
  AckPolicy,
  type ConsumerConfig,
  type ConsumerInfo,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import { headers, type NatsConnection, nanos } from '@nats-io/transport-node';
import type { Driver, ManagedSubscription, OutgoingMessage, SubscriptionPlan } from './driver.js';
import {
  DeadLetterError,
  InvalidSubjectError,
  JetStreamSetupError,
  PublishError,
} from './errors.js';
import { JetStreamSubscription } from './jetstream-subscription.js';
import type { JetStreamOptions } from './options.js';
import { type SubjectMapper, subjectProblem } from './subjects.js';

const DAY = 24 * 3_600_000;
const EPHEMERAL_INACTIVE_THRESHOLD = 60_000;
const GROUP_PULL_BATCH = 16;
const NAME = /^[A-Za-z0-9_-]+$/;

/** JetStream options with their defaults applied. @internal */
export interface ResolvedJetStreamOptions {
  readonly stream: string;
  readonly storage: 'file' | 'memory';
  readonly maxAge: number;
  readonly maxMsgs: number;
  readonly maxBytes: number;
  readonly replicas: number;
  readonly duplicateWindow: number;
  readonly ackWait: number;
  readonly redeliveryDelay: number;
  readonly maxDeliver: number;
  readonly deadLetterSubject: string | undefined;
  readonly ack: 'next' | 'pull';
  readonly deliver: 'new' | 'all';
  readonly durableInactiveThreshold: number | undefined;
  readonly publishWindow: number;
  readonly pullBatch: number;
}

/** Applies defaults and checks every option, naming the bad one. @internal */
export function resolveJetStreamOptions(
  options: JetStreamOptions,
  subjects: SubjectMapper,
): ResolvedJetStreamOptions {
  const stream = options.stream ?? 'GOES_EVENTS';
  if (typeof stream !== 'string' || !NAME.test(stream)) {
    throw new InvalidArgumentError(
      `jetstream.stream ${JSON.stringify(stream)} must be a stream name of letters, digits, "-" and "_"`,
    );
  }
  const storage = options.storage ?? 'file';
  if (storage !== 'file' && storage !== 'memory') {
    throw new InvalidArgumentError(
      `jetstream.storage ${JSON.stringify(storage)} must be "file" or "memory"`,
    );
  }
  const deadLetterSubject = options.deadLetterSubject;
  if (deadLetterSubject !== undefined) {
    const problem = subjectProblem(deadLetterSubject);
    if (problem)
      throw new InvalidSubjectError('jetstream.deadLetterSubject', deadLetterSubject, problem);
    if (subjects.covers(deadLetterSubject)) {
      throw new InvalidSubjectError(
        'jetstream.deadLetterSubject',
        deadLetterSubject,
        `it is inside the bus' prefix "${subjects.prefix}", so dead letters would be delivered again`,
      );
    }
  }
  const ack = options.ack ?? 'next';
  if (ack !== 'next' && ack !== 'pull') {
    throw new InvalidArgumentError(`jetstream.ack ${JSON.stringify(ack)} must be "next" or "pull"`);
  }
  const deliver = options.deliver ?? 'new';
  if (deliver !== 'new' && deliver !== 'all') {
    throw new InvalidArgumentError(
      `jetstream.deliver ${JSON.stringify(deliver)} must be "new" or "all"`,
    );
  }
  return {
    stream,
    storage,
    maxAge: count('jetstream.maxAge', options.maxAge ?? 7 * DAY, 0),
    maxMsgs: count('jetstream.maxMsgs', options.maxMsgs ?? -1, -1),
    maxBytes: count('jetstream.maxBytes', options.maxBytes ?? -1, -1),
    replicas: count('jetstream.replicas', options.replicas ?? 1, 1),
    duplicateWindow: count('jetstream.duplicateWindow', options.duplicateWindow ?? 120_000, 1),
    ackWait: count('jetstream.ackWait', options.ackWait ?? 30_000, 1_000),
    redeliveryDelay: count('jetstream.redeliveryDelay', options.redeliveryDelay ?? 1_000, 0),
    maxDeliver: count('jetstream.maxDeliver', options.maxDeliver ?? 5, 1),
    deadLetterSubject,
    ack,
    deliver,
    durableInactiveThreshold:
      options.durableInactiveThreshold === undefined
        ? undefined
        : count('jetstream.durableInactiveThreshold', options.durableInactiveThreshold, 1_000),
    publishWindow: count('jetstream.publishWindow', options.publishWindow ?? 256, 1),
    pullBatch: count('jetstream.pullBatch', options.pullBatch ?? 256, 1),
  };
}

function count(what: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new InvalidArgumentError(`${what} ${JSON.stringify(value)} must be an integer ≥ ${min}`);
  }
  return value;
}

/** The JetStream clients of one connection. */
interface Clients {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: Promise<JetStreamManager>;
}

/**
 * JetStream: events are stored in one stream whose only subject is `<prefix>.>` (created or
 * updated once per bus, then cached: no stream lookup per publish, unlike goes), published with
 * `Nats-Msg-Id` = event id (server-side de-duplication) and read through pull consumers.
 *
 * @internal
 */
export class JetStreamDriver implements Driver {
  readonly name = 'jetstream' as const;
  readonly defaultOverflow = 'block' as const;
  readonly #options: ResolvedJetStreamOptions;
  readonly #subjects: SubjectMapper;
  #clients: Clients | undefined;
  /** Resolves once the latest publish call handed its last message to the client. */
  #sent: Promise<void> = Promise.resolve();
  /** Resolves once the latest publish call and every earlier one finished (acknowledged or failed). */
  #done: Promise<void> = Promise.resolve();
  /** Publish calls sending again after the stream was found deleted. */
  #resending = 0;
  #ready = false;
  #setup: Promise<void> | undefined;

  constructor(options: ResolvedJetStreamOptions, subjects: SubjectMapper) {
    this.#options = options;
    this.#subjects = subjects;
  }

  /** The stream in use. */
  get stream(): string {
    return this.#options.stream;
  }

  check(plan: SubscriptionPlan): void {
    if (
      plan.durable !== undefined &&
      (typeof plan.durable !== 'string' || !NAME.test(plan.durable))
    ) {
      throw new InvalidArgumentError(
        `durable ${JSON.stringify(plan.durable)} must be a name of letters, digits, "-" and "_"`,
      );
    }
    if (plan.group !== undefined && (typeof plan.group !== 'string' || plan.group.length === 0)) {
      throw new InvalidArgumentError(
        `group ${JSON.stringify(plan.group)} must be a non-empty string`,
      );
    }
  }

  async publish(
    nc: NatsConnection,
    messages: readonly OutgoingMessage[],
    signal: AbortSignal | undefined,
  ): Promise<void> {
    // Publish order: a call sends its first message only after every earlier call sent its last
    // one. Without this, waiting for the stream set-up with a signal (one more microtask turn)
    // let a later call without a signal go first, and a call larger than the publish window let
    // later calls in between its windows while it waited for acknowledgements.
    const previous = this.#sent;
    let sent!: () => void;
    this.#sent = new Promise<void>((resolve) => {
      sent = resolve;
    });
    const earlier = this.#done;
    let finished!: () => void;
    this.#done = new Promise<void>((resolve) => {
      finished = resolve;
    });
    try {
      await this.#ensureStream(nc, signal);
      await previous; // never rejects
      // An earlier call is sending again into the recreated stream: go after all of it.
      if (this.#resending > 0) await abortable(earlier, signal);
      signal?.throwIfAborted();
      await this.#publishAll(nc, messages, signal, sent, earlier);
    } finally {
      sent();
      void earlier.then(finished);
    }
  }

  /** Publishes in windows; calls `sent` once the last message was handed to the client. */
  async #publishAll(
    nc: NatsConnection,
    messages: readonly OutgoingMessage[],
    signal: AbortSignal | undefined,
    sent: () => void,
    earlier: Promise<void>,
  ): Promise<void> {
    const { js } = this.#clientsOf(nc);
    let from = 0;
    let retried = false;
    try {
      for (;;) {
        try {
          await this.#publishFrom(js, messages, from, signal, sent);
          return;
        } catch (error) {
          // No responders: nothing captures the subject, so the stream was deleted behind our back.
          // Set it up again and go on from the first event that was not accepted (ids de-duplicate).
          if (retried || !(error instanceof PublishError) || !isNoStream(error.cause)) throw error;
          retried = true;
          from = error.index;
          this.#ready = false;
          // Later calls sent their events into the missing stream too, and resend them: each
          // resends after every earlier call finished, so the stream gets them in call order (a
          // call waiting for the set-up with a signal resumed later than one without and went
          // first). Calls starting meanwhile wait for the resends (see publish).
          this.#resending++;
          await abortable(earlier, signal);
          await this.#ensureStream(nc, signal);
        }
      }
    } finally {
      if (retried) this.#resending--;
    }
  }

  async #publishFrom(
    js: JetStreamClient,
    messages: readonly OutgoingMessage[],
    from: number,
    signal: AbortSignal | undefined,
    sent: () => void,
  ): Promise<void> {
    const window = this.#options.publishWindow;
    for (let start = from; start < messages.length; start += window) {
      const end = Math.min(messages.length, start + window);
      const acks: Promise<unknown>[] = [];
      for (let i = start; i < end; i++) {
        const message = messages[i] as OutgoingMessage;
        acks.push(js.publish(message.subject, message.bytes, { msgID: message.id }));
      }
      if (end === messages.length) sent();
      const results = await abortable(Promise.allSettled(acks), signal);
      const failed = results.findIndex((result) => result.status === 'rejected');
      if (failed >= 0) {
        const index = start + failed;
        const result = results[failed] as PromiseRejectedResult;
        throw new PublishError(index, (messages[index] as OutgoingMessage).id, {
          cause: result.reason,
        });
      }
    }
  }

  async subscribe(
    nc: NatsConnection,
    plan: SubscriptionPlan,
    onEnd: () => void,
    signal: AbortSignal | undefined,
  ): Promise<ManagedSubscription> {
    await this.#ensureStream(nc, signal);
    const { js } = this.#clientsOf(nc);
    const jsm = await this.#jsm(nc);
    const ephemeral: string[] = [];
    const filter = this.#filterOf(nc, plan);
    const subscription = new JetStreamSubscription(plan, {
      // A consumer reading more than the subscription's subjects: skip the others undecoded.
      subjects: filter.wide ? new Set(plan.subjects) : undefined,
      maxDeliver: this.#options.maxDeliver,
      ackWait: this.#options.ackWait,
      redeliveryDelay: this.#options.redeliveryDelay,
      giveUp: (msg, reason, cause) => this.#giveUp(js, msg, reason, cause, plan.onError),
      onEnd: async () => {
        await Promise.all(
          ephemeral.map((name) =>
            jsm.consumers.delete(this.#options.stream, name).catch(() => false),
          ),
        );
        onEnd();
      },
    });
    const creating = this.#consumer(jsm, plan, filter);
    try {
      const { info, isEphemeral } = await abortable(creating, signal);
      if (isEphemeral) ephemeral.push(info.name);
      const consumer = js.consumers.getConsumerFromInfo(info);
      const messages = await consumer.consume({
        max_messages: Math.min(
          this.#options.pullBatch,
          plan.bufferSize,
          // A member holding a large pull request takes every event of a quiet moment; small
          // requests let the server spread the events of a group over its members.
          plan.group === undefined ? Number.POSITIVE_INFINITY : GROUP_PULL_BATCH,
        ),
        abort_on_missing_resource: true,
      });
      subscription.pump(messages);
    } catch (error) {
      // An abort rejects at once, while the request creating the consumer is still in flight:
      // wait for its answer so an ephemeral consumer it made is deleted by close(), not left on
      // the server until its inactivity threshold.
      const created = await creating.catch(() => undefined);
      if (created?.isEphemeral && !ephemeral.includes(created.info.name)) {
        ephemeral.push(created.info.name);
      }
      await subscription.close();
      throw error;
    }
    return subscription;
  }

  /**
   * One consumer per subscription keeps the stream's order across the subscribed names. Several
   * subjects need `filter_subjects` (NATS ≥ 2.10); older servers read the whole prefix and the
   * subscription skips the other subjects.
   */
  #filterOf(nc: NatsConnection, plan: SubscriptionPlan): Filter {
    const subjects = plan.subjects;
    if (subjects.length === 1) return { subjects, wide: false };
    if (supportsFilterSubjects(nc.info?.version)) return { subjects, wide: false };
    return { subjects: [this.#subjects.all], wide: true };
  }

  /** Creates the subscription's consumer: ephemeral, or durable (by name or group) and shared. */
  async #consumer(
    jsm: JetStreamManager,
    plan: SubscriptionPlan,
    filter: Filter,
  ): Promise<{ info: ConsumerInfo; isEphemeral: boolean }> {
    const stream = this.#options.stream;
    const filterConfig: Partial<ConsumerConfig> =
      filter.subjects.length === 1
        ? { filter_subject: filter.subjects[0] as string }
        : { filter_subjects: [...filter.subjects] };
    const config: Partial<ConsumerConfig> = {
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(this.#options.ackWait),
      // One delivery more than maxDeliver: the subscriber gives the message up on that one
      // (dead letter + report), so giving up never happens silently on the server.
      max_deliver: this.#options.maxDeliver + 1,
      ...filterConfig,
      deliver_policy: plan.deliver === 'all' ? DeliverPolicy.All : DeliverPolicy.New,
    };
    const base = plan.durable ?? (plan.group !== undefined ? `group-${plan.group}` : undefined);
    if (base === undefined) {
      const name = `goes_${randomUUID().replaceAll('-', '')}`;
      const info = await setupCall(`creating a consumer on stream ${stream}`, () =>
        jsm.consumers.add(stream, {
          ...config,
          name,
          inactive_threshold: nanos(EPHEMERAL_INACTIVE_THRESHOLD),
        }),
      );
      return { info, isEphemeral: true };
    }
    const filterKey = [...filter.subjects].sort().join(' ');
    const name = consumerName(base, filterKey);
    const durable: Partial<ConsumerConfig> = { ...config, durable_name: name };
    if (this.#options.durableInactiveThreshold !== undefined) {
      durable.inactive_threshold = nanos(this.#options.durableInactiveThreshold);
    }
    let info = await findConsumer(jsm, stream, name);
    if (!info) {
      try {
        info = await jsm.consumers.add(stream, durable);
        return { info, isEphemeral: false };
      } catch (error) {
        // Another member of the group may have created it meanwhile.
        info = await findConsumer(jsm, stream, name);
        if (!info) throw setupError(`creating durable consumer ${name} on stream ${stream}`, error);
      }
    }
    const existing = [
      ...(info.config.filter_subjects ?? []),
      ...(info.config.filter_subject ? [info.config.filter_subject] : []),
    ]
      .sort()
      .join(' ');
    if (existing !== filterKey) {
      throw new JetStreamSetupError(
        `durable consumer ${name} on stream ${stream} reads ${existing || 'everything'}, not ${filterKey}`,
      );
    }
    if (
      info.config.ack_wait !== durable.ack_wait ||
      info.config.max_deliver !== durable.max_deliver ||
      (durable.inactive_threshold !== undefined &&
        info.config.inactive_threshold !== durable.inactive_threshold)
    ) {
      const update: Partial<ConsumerConfig> = {
        ack_wait: durable.ack_wait as number,
        max_deliver: durable.max_deliver as number,
      };
      if (durable.inactive_threshold !== undefined) {
        update.inactive_threshold = durable.inactive_threshold;
      }
      info = await setupCall(`updating durable consumer ${name} on stream ${stream}`, () =>
        jsm.consumers.update(stream, name, update),
      );
    }
    return { info, isEphemeral: false };
  }

  /** Dead-letters (if configured), terminates and reports a message given up on. */
  async #giveUp(
    js: JetStreamClient,
    msg: JsMsg,
    reason: string,
    cause: unknown,
    onError: (error: unknown) => void,
  ): Promise<void> {
    const target = this.#options.deadLetterSubject;
    const details = {
      subject: msg.subject,
      streamSequence: msg.info.streamSequence,
      deliveries: msg.info.deliveryCount,
      deadLetterSubject: target,
      reason,
      cause,
    };
    if (target !== undefined) {
      const h = headers();
      h.set('Goes-Dead-Letter-Reason', reason.replace(/[\r\n]+/g, ' '));
      h.set('Goes-Original-Subject', msg.subject);
      h.set('Goes-Stream', msg.info.stream);
      h.set('Goes-Stream-Sequence', String(msg.info.streamSequence));
      h.set('Goes-Consumer', msg.info.consumer);
      h.set('Goes-Deliveries', String(msg.info.deliveryCount));
      try {
        await js.publish(target, msg.data, {
          headers: h,
          msgID: `${msg.info.stream}:${msg.info.streamSequence}`,
        });
      } catch (error) {
        // Not dead-lettered: let the server deliver it again, which retries the dead-lettering.
        try {
          msg.nak(this.#options.ackWait);
        } catch {
          // the connection is gone; the server redelivers after the ack wait
        }
        onError(
          new DeadLetterError({
            ...details,
            reason: `${reason}; publishing it to ${target} failed, it will be retried`,
            cause: error,
          }),
        );
        return;
      }
    }
    try {
      msg.term(reason);
    } catch {
      // the connection is gone; the next delivery gives it up again
    }
    onError(new DeadLetterError(details));
  }

  #clientsOf(nc: NatsConnection): Clients {
    if (this.#clients?.nc !== nc) {
      const jsm = jetstreamManager(nc);
      jsm.catch(() => {});
      this.#clients = { nc, js: jetstream(nc), jsm };
    }
    return this.#clients;
  }

  async #jsm(nc: NatsConnection): Promise<JetStreamManager> {
    const clients = this.#clientsOf(nc);
    try {
      return await clients.jsm;
    } catch (error) {
      if (this.#clients === clients) this.#clients = undefined;
      throw setupError('JetStream is not available on this NATS server (start it with -js)', error);
    }
  }

  /** Creates or updates the stream once; a failure is retried by the next call. */
  #ensureStream(nc: NatsConnection, signal: AbortSignal | undefined): Promise<void> | void {
    if (this.#ready) return;
    if (!this.#setup) {
      this.#setup = this.#setupStreams(nc).then(
        () => {
          this.#ready = true;
          this.#setup = undefined;
        },
        (error: unknown) => {
          this.#setup = undefined;
          throw error;
        },
      );
    }
    return abortable(this.#setup, signal);
  }

  async #setupStreams(nc: NatsConnection): Promise<void> {
    const jsm = await this.#jsm(nc);
    const o = this.#options;
    const storage = o.storage === 'memory' ? StorageType.Memory : StorageType.File;
    await ensureStream(jsm, {
      name: o.stream,
      subject: this.#subjects.all,
      storage,
      limits: {
        max_age: nanos(o.maxAge),
        max_msgs: o.maxMsgs,
        max_bytes: o.maxBytes,
        num_replicas: o.replicas,
        duplicate_window: nanos(o.duplicateWindow),
      },
    });
    if (o.deadLetterSubject !== undefined) {
      const owner = await jsm.streams.find(o.deadLetterSubject).catch(() => undefined);
      if (!owner) {
        await ensureStream(jsm, {
          name: `${o.stream}_DEAD_LETTERS`,
          subject: o.deadLetterSubject,
          storage,
          limits: { num_replicas: o.replicas },
        });
      }
    }
  }
}

/** The subjects a consumer reads; `wide` when that is more than the subscription asked for. */
interface Filter {
  readonly subjects: readonly string[];
  readonly wide: boolean;
}

/** True for a server version (`2.10.0` and later) that has consumers with several filters. */
function supportsFilterSubjects(version: string | undefined): boolean {
  const match = /^v?(\d+)\.(\d+)/.exec(version ?? '');
  if (!match) return false;
  const major = Number(match[1]);
  const minor = Number(match[2]);
  return major > 2 || (major === 2 && minor >= 10);
}

type StreamLimits = Partial<
  Pick<StreamConfig, 'max_age' | 'max_msgs' | 'max_bytes' | 'num_replicas' | 'duplicate_window'>
>;

/** Creates the stream, or brings an existing one's subjects and limits to what is asked. */
async function ensureStream(
  jsm: JetStreamManager,
  wanted: { name: string; subject: string; storage: StorageType; limits: StreamLimits },
): Promise<void> {
  const { name, subject, storage, limits } = wanted;
  let info: StreamInfo | undefined = await findStream(jsm, name);
  if (!info) {
    try {
      await jsm.streams.add({
        name,
        subjects: [subject],
        storage,
        retention: RetentionPolicy.Limits,
        discard: DiscardPolicy.Old,
        ...limits,
      });
      return;
    } catch (error) {
      info = await findStream(jsm, name);
      if (!info) throw setupError(`creating stream ${name} for ${subject}`, error);
    }
  }
  const config = info.config;
  if (config.storage !== storage) {
    throw new JetStreamSetupError(
      `stream ${name} exists with ${config.storage} storage, not ${storage}; the storage of a stream cannot change (delete it or choose another stream name)`,
    );
  }
  const subjects = config.subjects ?? [];
  const update: Partial<StreamConfig> = {};
  if (!subjects.includes(subject)) update.subjects = [...subjects, subject];
  for (const [key, value] of Object.entries(limits) as [keyof StreamLimits, number][]) {
    if (config[key] !== value) update[key] = value;
  }
  if (Object.keys(update).length === 0) return;
  await setupCall(`updating stream ${name}`, () =>
    jsm.streams.update(name, { ...config, ...update }),
  );
}

async function findStream(jsm: JetStreamManager, name: string): Promise<StreamInfo | undefined> {
  try {
    return await jsm.streams.info(name);
  } catch (error) {
    if (isApiError(error, JetStreamApiCodes.StreamNotFound)) return undefined;
    throw setupError(`looking up stream ${name}`, error);
  }
}

async function findConsumer(
  jsm: JetStreamManager,
  stream: string,
  name: string,
): Promise<ConsumerInfo | undefined> {
  try {
    return await jsm.consumers.info(stream, name);
  } catch (error) {
    if (isApiError(error, JetStreamApiCodes.ConsumerNotFound)) return undefined;
    throw setupError(`looking up consumer ${name} on stream ${stream}`, error);
  }
}

async function setupCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw setupError(what, error);
  }
}

function setupError(what: string, cause: unknown): JetStreamSetupError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new JetStreamSetupError(`${what} failed: ${reason}`, { cause });
}

function isApiError(error: unknown, code: number): boolean {
  return error instanceof JetStreamApiError && error.code === code;
}

/** True when a publish found no stream for its subject. */
function isNoStream(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return error.name === 'JetStreamNotEnabled' || /no responders/i.test(error.message);
}

/**
 * The consumer name for a durable or group `base` on `subject`: readable, valid for NATS, and
 * unique per (base, subject) thanks to a hash of both.
 *
 * @internal
 */
export function consumerName(base: string, subject: string): string {
  const readable = base.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40);
  const hash = createHash('sha256').update(`${base}\u0000${subject}`).digest('hex').slice(0, 12);
  return `${readable}_${hash}`;
}
