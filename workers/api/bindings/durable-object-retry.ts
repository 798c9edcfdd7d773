// Calling a Durable Object the way Cloudflare advises: retry only what the runtime marks
// `.retryable` (never `.overloaded`), on a fresh stub, with exponential backoff and full
// jitter; anything else, or running out of attempts, is a 503 with Retry-After.
import { ApiError } from "../../../lib/errors.ts";
import { log } from "../../../lib/log.ts";

export type RetryOptions = {
  /** Attempts in all, the first included. */
  attempts?: number;
  /** Backoff base: attempt n waits a random time in [0, baseDelayMs * 2^(n-1)). */
  baseDelayMs?: number;
  /** Seconds a client is told to wait after a 503. */
  retryAfterSec?: number;
  requestId?: string;
  /** Waits between attempts; tests pass one that does not sleep. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
};

type RuntimeError = Error & { retryable?: boolean; overloaded?: boolean; remote?: boolean };

export function isRetryable(err: unknown): boolean {
  const e = err as RuntimeError | null;
  return typeof e === "object" && e !== null && e.retryable === true && e.overloaded !== true;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `call(attempt)` until it returns, retrying retryable errors. `call` must make its
 * own stub each time (a stub that threw may stay broken) and must be idempotent.
 */
export async function callDurableObject<T>(what: string, call: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 3;
  const base = options.baseDelayMs ?? 25;
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call(attempt);
    } catch (err) {
      const retry = isRetryable(err) && attempt < attempts;
      log(retry ? "warn" : "error", {
        event: "dependency_failed",
        requestId: options.requestId ?? "",
        dependency: "durable_object",
        message: `${what} (attempt ${attempt}/${attempts}${retry ? ", retrying" : ""}): ${(err as Error)?.message ?? String(err)}`,
      });
      if (!retry) {
        const overloaded = (err as RuntimeError | null)?.overloaded === true;
        throw new ApiError("UNAVAILABLE", overloaded ? "Too many requests for this account right now; try again shortly." : "Streams could not be checked right now; try again.", {
          headers: { "Retry-After": String((options.retryAfterSec ?? 2) * (overloaded ? 2 : 1)) },
          details: { reason: overloaded ? "overloaded" : "unavailable" },
        });
      }
      await sleep(random() * base * 2 ** (attempt - 1));
    }
  }
}
