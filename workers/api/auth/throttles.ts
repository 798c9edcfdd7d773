// The api's side of the SignInThrottle Durable Object: reserving attempts on several keys
// at once (sign-in, sign-up, profile PINs), releasing them, and the 429 a refusal becomes.
import type { Reservation, SignInThrottle, ThrottleLimits } from "../../../durable-objects/sign-in-throttle.ts";
import { ApiError } from "../../../lib/errors.ts";
import { log } from "../../../lib/log.ts";
import { callDurableObject } from "../bindings/durable-object-retry.ts";

type Env = { SIGN_IN_THROTTLE: ApiEnv["SIGN_IN_THROTTLE"] };
type Stub = DurableObjectStub<SignInThrottle>;

/** One throttle key; every call retried on a retryable error, with a fresh stub each time (durable-object-retry.ts). */
export function throttleKey(env: Env, name: string) {
  const call = <T>(what: string, f: (stub: Stub) => Promise<unknown>) =>
    // RPC answers are structured clones of the object's plain results, typed here once.
    callDurableObject(`SignInThrottle.${what}`, async () => (await f(env.SIGN_IN_THROTTLE.get(env.SIGN_IN_THROTTLE.idFromName(name)) as Stub)) as T);
  return {
    name,
    reserve: (limits: ThrottleLimits, nowMs: number, client?: string) => call<Reservation>("reserve", (s) => s.reserve(limits, nowMs, client)),
    release: (attemptId: string | null, recognise?: { client: string; nowMs: number }) => call<void>("release", (s) => s.release(attemptId, recognise)),
    reset: () => call<void>("reset", (s) => s.reset()),
  };
}

export type ThrottleKey = ReturnType<typeof throttleKey>;

/** What one attempt asks of one key. `client` lets a client the key recognises through uncounted. */
export type Ask = { key: ThrottleKey; limits: ThrottleLimits; client?: string };

/** Attempts held on keys, to release once the attempt proves not to be a failure. */
export type Held = { key: ThrottleKey; attemptId: string | null }[];

/**
 * Reserves one attempt on every key: the stages one after another, the keys of a stage
 * at once. If any key refuses, the attempt never happens: what was granted is released
 * and the longest wait is answered. Put the strictest key in the first stage: only what
 * it grants goes on, so a burst gets exactly its count, where keys asked all at once
 * could each grant a different few. (Released a moment later, a later stage's grants may
 * have refused a parallel attempt in between: a burst is refused a little more, never less.)
 */
export async function reserveAll(stages: Ask[][], nowMs: number): Promise<{ ok: true; held: Held } | { ok: false; retryAfterSec: number }> {
  const held: Held = [];
  for (const asks of stages) {
    const results = await Promise.allSettled(asks.map((a) => a.key.reserve(a.limits, nowMs, a.client)));
    let retryAfterSec = 0;
    let failure: unknown = null;
    results.forEach((r, i) => {
      if (r.status === "rejected") failure ??= r.reason;
      else if (r.value.ok) held.push({ key: asks[i]!.key, attemptId: r.value.attemptId });
      else retryAfterSec = Math.max(retryAfterSec, r.value.retryAfterSec);
    });
    if (failure !== null || retryAfterSec > 0) {
      await releaseAll(held);
      if (failure !== null) throw failure;
      return { ok: false, retryAfterSec };
    }
  }
  return { ok: true, held };
}

/**
 * Gives back held attempts (the work succeeded, or did not happen); `recognise` is passed
 * to the keys named in it. Never throws: a release that fails leaves one attempt counted
 * until it leaves its window, which must not turn a right password into an error.
 */
export async function releaseAll(held: Held, recognise?: { client: string; nowMs: number; keys: ThrottleKey[] }): Promise<void> {
  await Promise.all(
    held.map((h) =>
      h.key
        .release(h.attemptId, recognise?.keys.includes(h.key) ? { client: recognise.client, nowMs: recognise.nowMs } : undefined)
        .catch((err: unknown) => log("warn", { event: "dependency_failed", requestId: "", dependency: "durable_object", message: `releasing a throttle attempt: ${(err as Error)?.message ?? String(err)}` })),
    ),
  );
}

export function tooManyAttempts(message: string, retryAfterSec: number): ApiError {
  return new ApiError("RATE_LIMITED", message, { headers: { "Retry-After": String(retryAfterSec) } });
}
