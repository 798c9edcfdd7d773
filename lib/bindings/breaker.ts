// A circuit breaker per dependency, per isolate: closed while calls mostly succeed; open
// (calls fail fast, callers fall back) once at least `minCalls` calls in the last
// `windowMs` saw a failure rate of `failureRate` or more; half-open after `openMs`, when
// one trial call at a time may pass: a success closes it, a failure opens it again.

export type BreakerOptions = {
  windowMs: number;
  minCalls: number;
  failureRate: number;
  openMs: number;
  now?: () => number;
};

export const defaultBreakerOptions: BreakerOptions = { windowMs: 10_000, minCalls: 20, failureRate: 0.5, openMs: 5_000 };

export type BreakerState = "closed" | "open" | "half_open";

/** Outcomes are counted in one-second buckets over the window. */
const BUCKET_MS = 1_000;

export class CircuitBreaker {
  readonly #options: BreakerOptions;
  readonly #now: () => number;
  #buckets: { at: number; ok: number; failed: number }[] = [];
  #state: BreakerState = "closed";
  #openedAt = 0;
  #trialInFlight = false;

  constructor(options: Partial<BreakerOptions> = {}) {
    this.#options = { ...defaultBreakerOptions, ...options };
    this.#now = options.now ?? Date.now;
  }

  get state(): BreakerState {
    if (this.#state === "open" && this.#now() - this.#openedAt >= this.#options.openMs) this.#state = "half_open";
    return this.#state;
  }

  /** Whether a call may go ahead now; in half-open, only one trial at a time. */
  allow(): boolean {
    const state = this.state;
    if (state === "closed") return true;
    if (state === "open" || this.#trialInFlight) return false;
    this.#trialInFlight = true;
    return true;
  }

  /**
   * A call that ended with no verdict on this dependency (see the guard's slow-statement
   * rule): counts for nothing, but a half-open trial is over and the next may go.
   */
  abstain(): void {
    if (this.#state === "half_open") this.#trialInFlight = false;
  }

  /** The calls and failures counted in the window so far (an open breaker counts none: it starts afresh). */
  recent(): { calls: number; failed: number } {
    const since = this.#now() - this.#options.windowMs;
    let calls = 0;
    let failed = 0;
    for (const b of this.#buckets) {
      if (b.at <= since) continue;
      calls += b.ok + b.failed;
      failed += b.failed;
    }
    return { calls, failed };
  }

  record(ok: boolean): void {
    if (this.#state === "half_open") {
      this.#trialInFlight = false;
      if (ok) this.#close();
      else this.#open();
      return;
    }
    const now = this.#now();
    const at = now - (now % BUCKET_MS);
    let last = this.#buckets.at(-1);
    if (!last || last.at !== at) {
      last = { at, ok: 0, failed: 0 };
      this.#buckets.push(last);
    }
    if (ok) last.ok++;
    else last.failed++;
    this.#buckets = this.#buckets.filter((b) => b.at > now - this.#options.windowMs);
    if (!ok && this.#state === "closed") {
      let calls = 0;
      let failed = 0;
      for (const b of this.#buckets) {
        calls += b.ok + b.failed;
        failed += b.failed;
      }
      if (calls >= this.#options.minCalls && failed / calls >= this.#options.failureRate) this.#open();
    }
  }

  #open(): void {
    this.#state = "open";
    this.#openedAt = this.#now();
    this.#buckets = [];
  }

  #close(): void {
    this.#state = "closed";
    this.#buckets = [];
  }
}
