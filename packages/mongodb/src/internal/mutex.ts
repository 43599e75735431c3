/**
 * A minimal async mutex: `run` calls are executed one at a time, in call order.
 *
 * @internal
 */
export class Mutex {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(task, task);
    // The next task waits for this one to settle, whatever its outcome.
    this.#tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}
