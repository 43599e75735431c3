import { ALL_EVENTS, InvalidArgumentError } from '@goes/event';
import { InvalidSubjectError } from './errors.js';

// Whitespace and control characters end a subject in the NATS protocol; `*` and `>` are wildcards.
function forbidden(subject: string): string | undefined {
  for (const char of subject) {
    const code = char.codePointAt(0) as number;
    if (char === '*' || char === '>' || code < 0x20 || code === 0x7f || /\s/u.test(char))
      return char;
  }
  return undefined;
}

/**
 * Why `subject` is not a valid literal NATS subject (dot-separated non-empty tokens without
 * whitespace, control characters or wildcards), or undefined when it is valid.
 *
 * @example
 * ```ts
 * subjectProblem('order.placed'); // undefined
 * subjectProblem('order..placed'); // 'it has an empty token'
 * ```
 */
export function subjectProblem(subject: string): string | undefined {
  if (typeof subject !== 'string') return 'it is not a string';
  if (subject.length === 0) return 'it is empty';
  const char = forbidden(subject);
  if (char !== undefined) {
    if (char === '*' || char === '>') return `it contains the wildcard ${JSON.stringify(char)}`;
    return `it contains the whitespace or control character U+${char.codePointAt(0)?.toString(16).toUpperCase().padStart(4, '0')}`;
  }
  if (subject.startsWith('.') || subject.endsWith('.') || subject.includes('..')) {
    return 'it has an empty token (a leading, trailing or double dot)';
  }
  return undefined;
}

/**
 * Maps event names to subjects. An event named `order.placed` is published on
 * `<prefix>.order.placed`; `*` (ALL_EVENTS) subscribes to `<prefix>.>`. A custom `subject`
 * function maps a name to the part after the prefix (for example to escape names a bus must
 * carry that are not valid subjects); its result is validated the same way.
 *
 * @example
 * ```ts
 * const subjects = new SubjectMapper('goes.events');
 * subjects.of('order.placed', 'events[0]'); // 'goes.events.order.placed'
 * ```
 */
export class SubjectMapper {
  readonly prefix: string;
  /** The subject that covers every event of the bus: `<prefix>.>`. */
  readonly all: string;
  readonly #map: ((eventName: string) => string) | undefined;
  readonly #cache = new Map<string, string>();

  constructor(prefix: string, map?: (eventName: string) => string) {
    const problem = subjectProblem(prefix);
    if (problem) throw new InvalidSubjectError('subjectPrefix', prefix, problem);
    if (map !== undefined && typeof map !== 'function') {
      throw new InvalidArgumentError('the subject option must be a function (eventName) => string');
    }
    this.prefix = prefix;
    this.all = `${prefix}.>`;
    this.#map = map;
  }

  /**
   * The subject of event `name`. Validated once per name, then cached (event names are few).
   * @throws {@link InvalidSubjectError} naming `where` and the name.
   */
  of(name: string, where: string): string {
    const cached = this.#cache.get(name);
    if (cached !== undefined) return cached;
    if (typeof name !== 'string' || name.length === 0) {
      throw new InvalidSubjectError(
        where,
        String(name),
        'an event name must be a non-empty string',
      );
    }
    if (name === ALL_EVENTS) {
      throw new InvalidSubjectError(where, name, `"${ALL_EVENTS}" is only valid for subscribing`);
    }
    const suffix = this.#map ? this.#map(name) : name;
    const problem = subjectProblem(suffix);
    if (problem) {
      const mapped = this.#map ? ` (mapped to ${JSON.stringify(suffix)})` : '';
      throw new InvalidSubjectError(where, name, `${problem}${mapped}`);
    }
    const subject = `${this.prefix}.${suffix}`;
    // Event names are a small, fixed set in practice; the bound only guards against misuse.
    if (this.#cache.size >= 10_000) this.#cache.clear();
    this.#cache.set(name, subject);
    return subject;
  }

  /** True when `subject` is under the prefix (and so is one of the bus' subjects). */
  covers(subject: string): boolean {
    return subject.startsWith(`${this.prefix}.`);
  }
}
