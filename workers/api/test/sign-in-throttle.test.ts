// The SignInThrottle Durable Object over real RPC: reserving (check and count in one
// call) up to the limit, Retry-After, releasing, the progressive delay, recognised
// clients, independent keys, the legacy table, alarms and bounded storage.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { RECOGNISED_FOR_MS, type Reservation, type SignInThrottle, type ThrottleLimits } from "../../../durable-objects/sign-in-throttle.ts";
import { ACCOUNT_THROTTLE_LIMITS, ADDRESS_THROTTLE_LIMITS, PAIR_THROTTLE_LIMITS, SIGNUP_THROTTLE_LIMITS } from "../auth/throttle-limits.ts";

const LIMITS: ThrottleLimits = { maxFailures: 5, windowSec: 900 };
const WINDOW_MS = LIMITS.windowSec * 1000;
const SEC = 1000;

function throttle(name: string) {
  return env.SIGN_IN_THROTTLE.get(env.SIGN_IN_THROTTLE.idFromName(name));
}

/**
 * Simulated clocks start at the real now: the object sets real alarms from them, and an
 * alarm in the past would fire on its own in the middle of a test.
 */
const clock = () => Date.now();

async function rows(stub: DurableObjectStub<SignInThrottle>): Promise<number[]> {
  return runInDurableObject(stub, (_: SignInThrottle, state) =>
    state.storage.sql.exec<{ at_ms: number }>("SELECT at_ms FROM attempts ORDER BY at_ms").toArray().map((r) => r.at_ms),
  );
}

async function alarmAt(stub: DurableObjectStub<SignInThrottle>): Promise<number | null> {
  return runInDurableObject(stub, (_: SignInThrottle, state) => state.storage.getAlarm());
}

const granted = (r: Reservation) => {
  if (!r.ok) throw new Error(`refused: ${JSON.stringify(r)}`);
  return r.attemptId;
};

describe("the default limits", () => {
  it("are strict per (account, client), looser per client, a progressive delay per account, and a sign-up budget per client", () => {
    expect(PAIR_THROTTLE_LIMITS).toEqual({ maxFailures: 5, windowSec: 15 * 60 });
    expect(ADDRESS_THROTTLE_LIMITS).toEqual({ maxFailures: 30, windowSec: 15 * 60 });
    expect(ACCOUNT_THROTTLE_LIMITS).toEqual({ maxFailures: 50, windowSec: 3600, delay: { afterFailures: 10, baseSec: 1, maxSec: 300 } });
    expect(SIGNUP_THROTTLE_LIMITS).toEqual({ maxFailures: 10, windowSec: 3600 });
  });
});

describe("reserving", () => {
  it("grants up to the limit, then refuses with the time until the oldest attempt leaves the window", async () => {
    const stub = throttle("account:block@example.com");
    const t0 = clock();
    for (let i = 0; i < 5; i++) expect((await stub.reserve(LIMITS, t0 + i * 60 * SEC)).ok).toBe(true);
    expect(await stub.reserve(LIMITS, t0 + 300 * SEC)).toEqual({ ok: false, retryAfterSec: 600 });
    expect(await stub.peek(LIMITS, t0 + 899 * SEC)).toEqual({ ok: false, retryAfterSec: 1 });
    // Never less than a second, even with part of one left.
    expect(await stub.peek(LIMITS, t0 + 899_900)).toEqual({ ok: false, retryAfterSec: 1 });
    expect(await stub.peek(LIMITS, t0 + WINDOW_MS)).toEqual({ ok: true });
  });

  it("counts a parallel burst exactly: one object per key serialises the reservations", async () => {
    const stub = throttle("account:concurrent@example.com");
    const t0 = clock();
    const answers = await Promise.all(Array.from({ length: 40 }, () => stub.reserve(LIMITS, t0)));
    expect(answers.filter((a) => a.ok)).toHaveLength(5);
    expect(answers.filter((a) => !a.ok)).toHaveLength(35);
    expect(await rows(stub)).toHaveLength(5);
  });

  it("does not count refused attempts, so the block does not slide forward", async () => {
    const stub = throttle("account:hammered@example.com");
    const t0 = clock();
    for (let i = 0; i < 5; i++) await stub.reserve(LIMITS, t0 + i * SEC);
    const before = await rows(stub);
    for (let i = 0; i < 20; i++) expect(await stub.reserve(LIMITS, t0 + 100 * SEC + i * SEC)).toEqual({ ok: false, retryAfterSec: 800 - i });
    expect(await rows(stub)).toEqual(before);
  });

  it("under a lower limit, waits for enough attempts to leave, not just the oldest", async () => {
    const stub = throttle("account:lowered@example.com");
    const t0 = clock();
    for (let i = 0; i < 5; i++) await stub.reserve(LIMITS, t0 + i * 100 * SEC);
    // Five against a limit of 3: three must leave before the count is below 3, i.e. the
    // one at t0+200 s, which leaves at t0+1100 s.
    expect(await stub.peek({ maxFailures: 3, windowSec: 900 }, t0 + 500 * SEC)).toEqual({ ok: false, retryAfterSec: 600 });
  });

  it("refuses nonsense limits from its caller loudly", async () => {
    // Called inside the object: a throw across RPC would also be reported as the object's uncaught error.
    await runInDurableObject(throttle("account:nonsense@example.com"), async (instance: SignInThrottle) => {
      await expect(instance.reserve({ maxFailures: 0, windowSec: 60 }, clock())).rejects.toThrow(/maxFailures/);
      await expect(instance.reserve({ maxFailures: 5, windowSec: 60, delay: { afterFailures: 1, baseSec: 10, maxSec: 5 } }, clock())).rejects.toThrow(/delay/);
    });
  });
});

describe("releasing", () => {
  it("uncounts exactly the attempt released, once", async () => {
    const stub = throttle("account:release@example.com");
    const t0 = clock();
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(granted(await stub.reserve(LIMITS, t0 + i * SEC)));
    expect((await stub.peek(LIMITS, t0 + 5 * SEC)).ok).toBe(false);
    await stub.release(ids[2]!);
    await stub.release(ids[2]!);
    await stub.release("never-issued");
    expect(await rows(stub)).toEqual([t0, t0 + SEC, t0 + 3 * SEC, t0 + 4 * SEC]);
    expect((await stub.reserve(LIMITS, t0 + 5 * SEC)).ok).toBe(true);
    expect((await stub.reserve(LIMITS, t0 + 5 * SEC)).ok).toBe(false);
  });

  it("reset clears every attempt and the pending alarm", async () => {
    const stub = throttle("account:reset@example.com");
    const t0 = clock();
    for (let i = 0; i < 5; i++) await stub.reserve(LIMITS, t0);
    await stub.reset();
    expect(await rows(stub)).toEqual([]);
    expect(await alarmAt(stub)).toBeNull();
    expect(await stub.peek(LIMITS, t0)).toEqual({ ok: true });
  });
});

describe("the progressive delay", () => {
  const DELAY: ThrottleLimits = { maxFailures: 50, windowSec: 3600, delay: { afterFailures: 3, baseSec: 2, maxSec: 30 } };

  it("lets the first attempts through, then doubles the wait after the latest, up to its ceiling", async () => {
    const stub = throttle("account:delay@example.com");
    const t0 = clock();
    for (let i = 0; i < 3; i++) expect((await stub.reserve(DELAY, t0)).ok).toBe(true);
    // Three counted: the next waits 2 s after the latest.
    expect(await stub.reserve(DELAY, t0 + 1 * SEC)).toEqual({ ok: false, retryAfterSec: 1 });
    expect((await stub.reserve(DELAY, t0 + 2 * SEC)).ok).toBe(true);
    // Four: 4 s after t0+2 s.
    expect(await stub.reserve(DELAY, t0 + 3 * SEC)).toEqual({ ok: false, retryAfterSec: 3 });
    let at = t0 + 6 * SEC;
    expect((await stub.reserve(DELAY, at)).ok).toBe(true);
    // Five: 8 s; six: 16 s; then never more than 30 s.
    for (const wait of [8, 16, 30, 30]) {
      expect(await stub.reserve(DELAY, at + (wait - 1) * SEC)).toEqual({ ok: false, retryAfterSec: 1 });
      at += wait * SEC;
      expect((await stub.reserve(DELAY, at)).ok).toBe(true);
    }
  });

  it("holds a parallel burst to the free attempts", async () => {
    const stub = throttle("account:delay-burst@example.com");
    const answers = await Promise.all(Array.from({ length: 30 }, () => stub.reserve(DELAY, clock())));
    expect(answers.filter((a) => a.ok)).toHaveLength(3);
  });
});

describe("recognised clients", () => {
  it("pass a key uncounted once released with `recognise`, for RECOGNISED_FOR_MS, while strangers stay delayed", async () => {
    const stub = throttle("account:owner@example.com");
    const t0 = clock();
    const owner = "a".repeat(64);
    const mine = granted(await stub.reserve(ACCOUNT_THROTTLE_LIMITS, t0, owner));
    await stub.release(mine, { client: owner, nowMs: t0 });
    // A stranger spends the free attempts and is delayed ...
    for (let i = 0; i < 10; i++) expect((await stub.reserve(ACCOUNT_THROTTLE_LIMITS, t0 + SEC, "b".repeat(64))).ok).toBe(true);
    expect((await stub.reserve(ACCOUNT_THROTTLE_LIMITS, t0 + SEC, "c".repeat(64))).ok).toBe(false);
    // ... the owner is not, and is not counted.
    expect(await stub.reserve(ACCOUNT_THROTTLE_LIMITS, t0 + SEC, owner)).toEqual({ ok: true, attemptId: null });
    expect(await rows(stub)).toHaveLength(10);
    // Until the recognition runs out.
    expect((await stub.reserve(ACCOUNT_THROTTLE_LIMITS, t0 + RECOGNISED_FOR_MS, owner)).ok).toBe(true);
  });
});

describe("keys", () => {
  it("are independent: one refusing refuses no other", async () => {
    const t0 = clock();
    const blocked = throttle("pair:victim@example.com|x");
    for (let i = 0; i < 5; i++) await blocked.reserve(PAIR_THROTTLE_LIMITS, t0);
    expect((await blocked.peek(PAIR_THROTTLE_LIMITS, t0)).ok).toBe(false);
    expect(await throttle("pair:victim@example.com|y").peek(PAIR_THROTTLE_LIMITS, t0)).toEqual({ ok: true });
    expect(await throttle("account:victim@example.com").peek(ACCOUNT_THROTTLE_LIMITS, t0)).toEqual({ ok: true });
  });
});

describe("storage", () => {
  it("sets an alarm for when the newest attempt leaves the window, and the alarm prunes every row", async () => {
    const stub = throttle("account:alarm@example.com");
    const t0 = clock();
    await stub.reserve(LIMITS, t0);
    expect(await alarmAt(stub)).toBe(t0 + WINDOW_MS);
    await stub.reserve(LIMITS, t0 + 30 * SEC);
    await stub.reserve(LIMITS, t0 + 60 * SEC);
    expect(await alarmAt(stub)).toBe(t0 + 60 * SEC + WINDOW_MS);
    expect(await rows(stub)).toHaveLength(3);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await rows(stub)).toEqual([]);
    expect(await runDurableObjectAlarm(stub)).toBe(false);
  });

  it("runs the alarm idempotently, and spares attempts newer than its plan", async () => {
    const stub = throttle("account:idempotent@example.com");
    const t0 = clock();
    await stub.reserve(LIMITS, t0);
    await runInDurableObject(stub, async (instance: SignInThrottle, state) => {
      state.storage.sql.exec("INSERT INTO attempts (id, at_ms) VALUES ('late', ?)", t0 + 10 * SEC);
      await instance.alarm();
      await instance.alarm();
    });
    expect(await rows(stub)).toEqual([t0 + 10 * SEC]);
  });

  it("stays bounded by the limit after many attempts over many windows", async () => {
    const stub = throttle("account:many@example.com");
    const t0 = clock();
    let maxRows = 0;
    for (let i = 0; i < 450; i++) {
      await stub.reserve(LIMITS, t0 + i * 20 * SEC);
      if (i % 50 === 0) maxRows = Math.max(maxRows, (await rows(stub)).length);
    }
    expect(maxRows).toBeLessThanOrEqual(LIMITS.maxFailures);
    const last = t0 + 449 * 20 * SEC;
    expect((await rows(stub)).every((at) => at > last - WINDOW_MS)).toBe(true);
  });

  it("carries failures of an object made before reservations over as counted attempts", async () => {
    const stub = throttle("account:legacy@example.com");
    const t0 = clock();
    await runInDurableObject(stub, async (_: SignInThrottle, state) => {
      state.storage.sql.exec("CREATE TABLE failures (at_ms INTEGER NOT NULL)");
      for (let i = 0; i < 5; i++) state.storage.sql.exec("INSERT INTO failures (at_ms) VALUES (?)", t0 + i);
    });
    // The table migrates when an object starts: a new instance of the same object.
    await runInDurableObject(stub, async (_: SignInThrottle, state) => {
      const { SignInThrottle: Throttle } = await import("../../../durable-objects/sign-in-throttle.ts");
      const fresh = new Throttle(state, env as unknown as ApiEnv);
      await state.blockConcurrencyWhile(async () => undefined);
      expect(await fresh.reserve(LIMITS, t0 + 10)).toEqual({ ok: false, retryAfterSec: 900 });
      expect(state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'failures'").one().n).toBe(0);
    });
  });
});
