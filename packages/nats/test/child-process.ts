import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { eventually } from './helpers.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

/** One JSON message a fixture process printed on a line of its stdout. */
export type ChildMessage = Record<string, unknown>;

/**
 * A fixture (`test/fixtures/<name>.ts`) running in its own Node process: tsx runs the TypeScript
 * sources, resolving workspace packages to their sources. The fixture talks in JSON lines: it
 * prints one object per line on stdout (`{"ready":true}` once it is set up) and reads one per
 * line on stdin. Fixtures write stdout synchronously (pipes are synchronous on Linux), so what a
 * process printed before it was killed is never lost.
 */
export class ChildService {
  readonly name: string;
  /** Every message the process printed, in order. */
  readonly messages: ChildMessage[] = [];
  exited = false;
  readonly #process: ChildProcess;
  #stderr = '';

  constructor(fixture: string, name: string, env: Record<string, string>) {
    this.name = name;
    const script = fileURLToPath(new URL(`./fixtures/${fixture}.ts`, import.meta.url));
    // jest's NODE_OPTIONS (--experimental-vm-modules) are for jest, not for the fixture.
    const { NODE_OPTIONS: _, ...inherited } = process.env;
    this.#process = spawn(
      process.execPath,
      ['--conditions=@goes/source', '--import', 'tsx', script],
      { cwd: packageDir, env: { ...inherited, ...env }, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    createInterface({ input: this.#process.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      this.messages.push(JSON.parse(line) as ChildMessage);
    });
    this.#process.stderr?.on('data', (chunk: Buffer) => {
      this.#stderr += chunk.toString();
    });
    this.#process.on('exit', () => {
      this.exited = true;
    });
  }

  /** The messages that have `key`. */
  with(key: string): ChildMessage[] {
    return this.messages.filter((message) => key in message);
  }

  /** The `{"ready":true,...}` message, once the fixture printed it; fails if the process died. */
  async waitReady(ms = 20_000): Promise<ChildMessage> {
    await eventually(
      () => this.with('ready').length > 0 || this.exited,
      ms,
      `${this.name} to be ready`,
    );
    const [ready] = this.with('ready');
    if (!ready) throw new Error(`${this.name} failed:\n${this.#stderr}`);
    return ready;
  }

  /** Writes one message to the process's stdin. */
  send(message: ChildMessage): void {
    this.#process.stdin?.write(`${JSON.stringify(message)}\n`);
  }

  /** Sends `signal` and waits until the process exited. */
  async stop(signal: NodeJS.Signals): Promise<void> {
    if (this.exited) return;
    this.#process.kill(signal);
    await eventually(() => this.exited, 10_000, `${this.name} to exit on ${signal}`);
  }
}
