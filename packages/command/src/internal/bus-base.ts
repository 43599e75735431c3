import { ClosedError, uuidv7 } from '@goes/event';
import type { CommandMap, CommandName } from '../command.js';
import type {
  CommandContext,
  CommandHandler,
  CommandHandlerRegistration,
  CommandSubscription,
  HandleOptions,
  ReceivedCommand,
  SubscribeCommandsOptions,
} from '../contracts.js';
import { AlreadySubscribedError } from '../errors.js';
import type { Delivery } from './delivery.js';
import { Inbox } from './inbox.js';
import { checkCount, safeReport } from './options.js';
import { checkHandler, checkNames } from './validate.js';

/** Default `maxInFlight` of a pull subscription. */
const DEFAULT_MAX_IN_FLIGHT = 16;

/**
 * Calls `fn` once when `signal` aborts (at once if it already did), until `ended` resolves: then
 * the listener is removed. Applications pass one long-lived signal (their shutdown) to every
 * registration, and a listener left on it kept every closed registration and its inbox alive.
 */
function onAbort(signal: AbortSignal | undefined, fn: () => void, ended: Promise<void>): void {
  if (!signal) return;
  if (signal.aborted) {
    fn();
    return;
  }
  signal.addEventListener('abort', fn, { once: true });
  void ended.then(() => signal.removeEventListener('abort', fn));
}

/** Runs one handler over an inbox: every delivery it yields is handed to the handler at once. */
async function runHandler(
  inbox: Inbox,
  handler: (context: CommandContext) => unknown,
): Promise<void> {
  for (;;) {
    const next = await inbox.next();
    if (next.done) break;
    const delivery: Delivery = next.value;
    let result: unknown;
    try {
      result = handler(delivery.context());
    } catch (error) {
      delivery.fail(error);
      continue;
    }
    if (
      result instanceof Promise ||
      (typeof result === 'object' && result !== null && 'then' in result)
    ) {
      Promise.resolve(result).then(
        (value) => delivery.finish(value),
        (error: unknown) => delivery.fail(error),
      );
    } else {
      delivery.finish(result);
    }
  }
  await inbox.drained();
}

class HandlerRegistration implements CommandHandlerRegistration {
  readonly name: string;
  readonly ready: Promise<void>;
  readonly #inbox: Inbox;
  readonly #done: Promise<void>;

  constructor(name: string, ready: Promise<void>, inbox: Inbox, done: Promise<void>) {
    this.name = name;
    this.ready = ready;
    this.#inbox = inbox;
    this.#done = done;
  }

  async close(): Promise<void> {
    this.#inbox.close();
    await this.#done;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

class InboxSubscription implements CommandSubscription {
  readonly names: readonly string[];
  readonly #inbox: Inbox;

  constructor(inbox: Inbox) {
    this.names = inbox.names;
    this.#inbox = inbox;
  }

  [Symbol.asyncIterator](): AsyncIterator<ReceivedCommand> {
    return this.#inbox.received();
  }

  async close(): Promise<void> {
    this.#inbox.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * What the local and the distributed bus share: the handler side (subscriptions, handler
 * registrations, one per name per instance) and an orderly close. Subclasses implement
 * `dispatch` and the transport hooks.
 */
export abstract class BusBase<M extends CommandMap> {
  readonly id: string = uuidv7();
  protected readonly onError: (error: unknown) => void;
  /** The open inbox of each command name this instance handles. */
  protected readonly inboxes = new Map<string, Inbox>();
  readonly #undrained = new Set<Inbox>();
  #closing: Promise<void> | undefined;

  constructor(onError: (error: unknown) => void) {
    this.onError = onError;
  }

  /** True once `close()` was called. */
  protected get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** Starts the transport (idempotent). */
  protected abstract start(): Promise<void>;
  /** The set of handled names changed. */
  protected abstract announce(): Promise<void>;
  /** `close()` began: dispatches not yet assigned must fail. */
  protected abstract closeDispatches(): void;
  /** `close()` drained every inbox: release the transport, fail what still waits. */
  protected abstract shutdown(): Promise<void>;

  async subscribe<N extends CommandName<M>>(
    names: readonly N[],
    options: SubscribeCommandsOptions = {},
  ): Promise<CommandSubscription<M, N>> {
    const maxInFlight = checkCount('maxInFlight', options.maxInFlight, DEFAULT_MAX_IN_FLIGHT);
    const inbox = this.#openInbox(checkNames(names), maxInFlight, options.onError ?? this.onError);
    try {
      await this.start();
      await this.announce();
    } catch (error) {
      inbox.abandon();
      throw error;
    }
    onAbort(options.signal, () => inbox.close(), inbox.drained());
    return new InboxSubscription(inbox) as unknown as CommandSubscription<M, N>;
  }

  mustHandle<N extends CommandName<M>>(
    name: N,
    handler: CommandHandler<M, N>,
    options: HandleOptions = {},
  ): CommandHandlerRegistration {
    const registration = this.#register(name, handler, options);
    // Nobody awaits `ready` here necessarily: a failed start goes to onError as well.
    registration.ready.catch((error: unknown) =>
      safeReport(options.onError ?? this.onError, error),
    );
    return registration;
  }

  async handle<N extends CommandName<M>>(
    name: N,
    handler: CommandHandler<M, N>,
    options: HandleOptions = {},
  ): Promise<CommandHandlerRegistration> {
    const registration = this.#register(name, handler, options);
    try {
      await registration.ready;
    } catch (error) {
      // The caller gets no registration to close: free the name.
      await registration.close();
      throw error;
    }
    return registration;
  }

  #register(name: string, handler: unknown, options: HandleOptions): CommandHandlerRegistration {
    const [checked] = checkNames([name]) as [string];
    checkHandler(checked, handler);
    const concurrency = checkCount('concurrency', options.concurrency, 1);
    const onError = options.onError ?? this.onError;
    const inbox = this.#openInbox([checked], concurrency, onError);
    const done = runHandler(inbox, handler as (context: CommandContext) => unknown);
    const ready = this.start().then(() => this.announce());
    ready.catch(() => {}); // observed by handle() or mustHandle()
    const registration = new HandlerRegistration(checked, ready, inbox, done);
    onAbort(
      options.signal,
      () => {
        registration.close().catch((error: unknown) => safeReport(onError, error));
      },
      inbox.drained(),
    );
    return registration;
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** The names this instance currently claims commands for. */
  protected handledNames(): string[] {
    return [...this.inboxes.keys()];
  }

  protected checkOpen(what: string): void {
    if (this.closed) throw new ClosedError(what);
  }

  #openInbox(names: string[], maxInFlight: number, onError: (error: unknown) => void): Inbox {
    this.checkOpen('the command bus');
    for (const name of names) {
      if (this.inboxes.has(name)) throw new AlreadySubscribedError(name);
    }
    const inbox: Inbox = new Inbox(names, maxInFlight, onError, () => {
      for (const name of names) if (this.inboxes.get(name) === inbox) this.inboxes.delete(name);
      if (!this.closed) this.announce().catch((error: unknown) => safeReport(this.onError, error));
    });
    for (const name of names) this.inboxes.set(name, inbox);
    this.#undrained.add(inbox);
    void inbox.drained().then(() => this.#undrained.delete(inbox));
    return inbox;
  }

  async #close(): Promise<void> {
    this.closeDispatches();
    const inboxes = [...this.#undrained];
    for (const inbox of inboxes) inbox.close();
    await Promise.all(inboxes.map((inbox) => inbox.drained()));
    await this.shutdown();
  }
}
