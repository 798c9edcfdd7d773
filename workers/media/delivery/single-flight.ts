// Coalesces concurrent work on one key within an isolate: the first caller starts it,
// the others wait for the same promise.
export class SingleFlight<T> {
  readonly #inflight = new Map<string, Promise<T>>();

  /** The promise for `key` if work on it is under way. */
  pending(key: string): Promise<T> | undefined {
    return this.#inflight.get(key);
  }

  run(key: string, work: () => Promise<T>): Promise<T> {
    const existing = this.#inflight.get(key);
    if (existing) return existing;
    const promise = work().finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, promise);
    return promise;
  }
}
