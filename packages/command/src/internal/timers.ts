/** A timer handle of the host (Node's `Timeout`, a number in browsers). */
export type Timer = ReturnType<typeof setTimeout>;

/** Milliseconds on the monotonic clock. */
export function monotonicNow(): number {
  return performance.now();
}

/**
 * A pending one-shot deadline (see {@link startTimer}); {@link stopTimer} cancels it.
 */
export class Deadline {
  /** @internal Monotonic ms at which it is due. */
  readonly due: number;
  /** @internal */
  readonly fn: (arg: never) => void;
  /** @internal */
  readonly arg: unknown;
  /** @internal The list it waits in; undefined once it fired or was stopped. */
  list: DeadlineList | undefined;
  /** @internal */
  prev: Deadline | undefined = undefined;
  /** @internal */
  next: Deadline | undefined = undefined;

  constructor(due: number, fn: (arg: never) => void, arg: unknown, list: DeadlineList) {
    this.due = due;
    this.fn = fn;
    this.arg = arg;
    this.list = list;
  }
}

const ref = (timer: Timer) => (timer as { ref?: () => void }).ref?.();
const unref = (timer: Timer) => (timer as { unref?: () => void }).unref?.();

/**
 * How long past its time an armed host timer may be before a new deadline stops trusting it and
 * arms another one: a host timer that never fires (cleared or discarded by fake timers in a test)
 * must not hold later deadlines back for good.
 */
const OVERDUE_HOST_TIMER = 1_000;

/**
 * The deadlines of one duration, in due order (they were started in that order), sharing one host
 * timer. A host timer per command costs more than the rest of a command on the in-memory path:
 * each start allocates a timer and links it into the host's timer lists, each stop unlinks it,
 * and with one command in flight every pair also toggles whether the process is kept alive. Here
 * a start appends to a linked list and a stop unlinks from it; the host timer is armed for the
 * head, stays armed when the list empties (so the next deadline usually finds it armed, and it is
 * re-armed only when it fires before the new head is due), and keeps the process alive exactly
 * while the list has deadlines.
 */
class DeadlineList {
  readonly #ms: number;
  #head: Deadline | undefined;
  #tail: Deadline | undefined;
  #timer: Timer | undefined;
  /** When the armed host timer should fire, and which `setTimeout` armed it. */
  #firesAt = 0;
  #armedWith: typeof setTimeout | undefined;
  #refed = false;

  constructor(ms: number) {
    this.#ms = ms;
  }

  add(fn: (arg: never) => void, arg: unknown): Deadline {
    const now = monotonicNow();
    const deadline = new Deadline(now + this.#ms, fn, arg, this);
    const tail = this.#tail;
    if (tail) {
      tail.next = deadline;
      deadline.prev = tail;
      this.#tail = deadline;
      return deadline;
    }
    this.#head = this.#tail = deadline;
    if (
      !this.#timer ||
      this.#armedWith !== setTimeout ||
      now > this.#firesAt + OVERDUE_HOST_TIMER
    ) {
      this.#arm(this.#ms, now);
    } else if (!this.#refed) {
      ref(this.#timer);
      this.#refed = true;
    }
    return deadline;
  }

  remove(deadline: Deadline): void {
    const { prev, next } = deadline;
    if (prev) prev.next = next;
    else this.#head = next;
    if (next) next.prev = prev;
    else this.#tail = prev;
    deadline.prev = deadline.next = deadline.list = undefined;
    if (!this.#head && this.#refed && this.#timer) {
      // Nothing pending: the armed host timer must not keep the process alive.
      unref(this.#timer);
      this.#refed = false;
    }
  }

  /** Arms a host timer (one that is already armed is ignored when it fires: it was superseded). */
  #arm(delay: number, now: number): void {
    const timer: Timer = setTimeout(() => this.#fire(timer), delay);
    this.#timer = timer;
    this.#firesAt = now + delay;
    this.#armedWith = setTimeout;
    this.#refed = true;
  }

  #fire(timer: Timer): void {
    if (timer !== this.#timer) return;
    this.#timer = undefined;
    this.#refed = false;
    const now = monotonicNow();
    for (let head = this.#head; head && head.due <= now; head = this.#head) {
      this.remove(head);
      try {
        head.fn(head.arg as never);
      } catch (error) {
        // As if it had been its own timer: uncaught, without stopping the other deadlines.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
    const head = this.#head;
    if (!head) {
      if (!this.#timer && lists.get(this.#ms) === this) lists.delete(this.#ms);
      return;
    }
    if (!this.#timer) {
      // The host fired before the head was due (it was armed for an earlier one, or its clock is
      // coarser): wait for the rest.
      const later = monotonicNow();
      this.#arm(Math.max(1, Math.ceil(head.due - later)), later);
    }
  }
}

/** The deadline lists by duration (whole ms). An empty list is dropped when its timer fires. */
const lists = new Map<number, DeadlineList>();

/**
 * Starts a one-shot deadline that calls `fn(arg)` after `ms` (rounded up to whole ms, never
 * early on the monotonic clock); passing the argument instead of capturing it saves a closure
 * per command on hot paths. Deadlines of one duration share a host timer (see `DeadlineList`).
 * Pending deadlines keep the process alive on purpose: a pending dispatch must settle rather than
 * vanish when the process has nothing else to do.
 */
export function startTimer<A>(ms: number, fn: (arg: A) => void, arg: A): Deadline {
  const whole = Math.max(1, Math.ceil(ms));
  let list = lists.get(whole);
  if (!list) {
    list = new DeadlineList(whole);
    lists.set(whole, list);
  }
  return list.add(fn as (arg: never) => void, arg);
}

/** Cancels a deadline (nothing happens for one that fired, was stopped, or is undefined). */
export function stopTimer(deadline: Deadline | undefined): void {
  deadline?.list?.remove(deadline);
}

/**
 * Starts a repeating timer that does not keep the process alive (where the host supports it), for
 * background chores such as heartbeats.
 */
export function startBackgroundInterval(ms: number, fn: () => void): Timer {
  const timer = setInterval(fn, ms);
  unref(timer);
  return timer;
}

/** A one-shot timer that does not keep the process alive (background retries). */
export function startBackgroundTimer(ms: number, fn: () => void): Timer {
  const timer = setTimeout(fn, ms);
  unref(timer);
  return timer;
}
