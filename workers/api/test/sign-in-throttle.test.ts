// The sign-in throttle Durable Object over real RPC: blocking at the limit, Retry-After, reset, independent keys, bounded storage.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { SignInThrottle, ThrottleLimits } from "../../../durable-objects/sign-in-throttle.ts";
import { ACCOUNT_THROTTLE_LIMITS, ADDRESS_THROTTLE_LIMITS } from "../auth/throttle-limits.ts";

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
function clock() {
  return Date.now();
}

async function rows(stub: DurableObjectStub<SignInThrottle>): Promise<number[]> {
  return runInDurableObject(stub, (_: SignInThrottle, state) =>
    state.storage.sql.exec<{ at_ms: number }>("SELECT at_ms FROM failures ORDER BY at_ms").toArray().map((r) => r.at_ms),
  );
}

async function alarmAt(stub: DurableObjectStub<SignInThrottle>): Promise<number | null> {
  return runInDurableObject(stub, (_: SignInThrottle, state) => state.storage.getAlarm());
}

describe("the default limits", () => {
  it("are 5 failures per account and 30 per client address, over 15 minutes", () => {
    expect(ACCOUNT_THROTTLE_LIMITS).toEqual({ maxFailures: 5, windowSec: 15 * 60 });
    expect(ADDRESS_THROTTLE_LIMITS).toEqual({ maxFailures: 30, windowSec: 15 * 60 });
  });
});

describe("blocking", () => {
  it("lets failures through up to the limit, then blocks with the time until the oldest leaves the window", async () => {
    const stub = throttle("account:block@example.com");
    const t0 = clock();
    expect(await stub.check(LIMITS, t0)).toEqual({ ok: true });
    for (let i = 0; i < 4; i++) {
      expect(await stub.recordFailure(LIMITS, t0 + i * 60 * SEC)).toEqual({ ok: true });
      expect(await stub.check(LIMITS, t0 + i * 60 * SEC)).toEqual({ ok: true });
    }
    // The fifth failure reaches the limit: blocked until t0's failure is 900 s old.
    expect(await stub.recordFailure(LIMITS, t0 + 240 * SEC)).toEqual({ ok: false, retryAfterSec: 660 });
    expect(await stub.check(LIMITS, t0 + 300 * SEC)).toEqual({ ok: false, retryAfterSec: 600 });
    expect(await stub.check(LIMITS, t0 + 899 * SEC)).toEqual({ ok: false, retryAfterSec: 1 });
    // Never less than a second, even with part of one left.
    expect(await stub.check(LIMITS, t0 + 899_900)).toEqual({ ok: false, retryAfterSec: 1 });
  });

  it("lets through again once the oldest failure leaves the window, and blocks again on the next failure", async () => {
    const stub = throttle("account:window@example.com");
    const t0 = clock();
    for (let i = 0; i < 5; i++) await stub.recordFailure(LIMITS, t0 + i * 60 * SEC);
    expect((await stub.check(LIMITS, t0 + WINDOW_MS - 1)).ok).toBe(false);
    expect(await stub.check(LIMITS, t0 + WINDOW_MS)).toEqual({ ok: true });
    expect(await rows(stub)).toHaveLength(4);
    // Four remain in the window; the next failure makes five, blocked until t0+60 s leaves.
    expect(await stub.recordFailure(LIMITS, t0 + WINDOW_MS)).toEqual({ ok: false, retryAfterSec: 60 });
    // A whole window later everything has left.
    expect(await stub.check(LIMITS, t0 + 2 * WINDOW_MS)).toEqual({ ok: true });
    expect(await rows(stub)).toEqual([]);
  });

  it("does not count attempts made while blocked, so the block does not slide forward", async () => {
    const stub = throttle("account:hammered@example.com");
    const t0 = clock();
    for (let i = 0; i < 5; i++) await stub.recordFailure(LIMITS, t0 + i * SEC);
    const before = await rows(stub);
    for (let i = 0; i < 20; i++) {
      expect(await stub.recordFailure(LIMITS, t0 + 100 * SEC + i * SEC)).toEqual({ ok: false, retryAfterSec: 800 - i });
    }
    expect(await rows(stub)).toEqual(before);
    expect(await stub.check(LIMITS, t0 + WINDOW_MS)).toEqual({ ok: true });
  });

  it("counts concurrent failures exactly: one object per key serialises them", async () => {
    const stub = throttle("account:concurrent@example.com");
    const t0 = clock();
    const verdicts = await Promise.all(Array.from({ length: 20 }, () => stub.recordFailure(LIMITS, t0)));
    expect(verdicts.filter((v) => v.ok)).toHaveLength(4);
    expect(verdicts.filter((v) => !v.ok)).toHaveLength(16);
    expect(await rows(stub)).toHaveLength(5);
  });

  it("under a lower limit, waits for enough failures to leave, not just the oldest", async () => {
    const stub = throttle("account:lowered@example.com");
    const t0 = clock();
    for (let i = 0; i < 5; i++) await stub.recordFailure(LIMITS, t0 + i * 100 * SEC);
    // Five failures against a limit of 3: three must leave before the count is below 3,
    // i.e. the one at t0+200 s, which leaves at t0+1100 s.
    expect(await stub.check({ maxFailures: 3, windowSec: 900 }, t0 + 500 * SEC)).toEqual({ ok: false, retryAfterSec: 600 });
  });
});

describe("reset", () => {
  it("clears the failures and the pending alarm", async () => {
    const stub = throttle("account:reset@example.com");
    const t0 = clock();
    for (let i = 0; i < 5; i++) await stub.recordFailure(LIMITS, t0);
    expect((await stub.check(LIMITS, t0)).ok).toBe(false);
    await stub.reset();
    expect(await stub.check(LIMITS, t0)).toEqual({ ok: true });
    expect(await rows(stub)).toEqual([]);
    expect(await alarmAt(stub)).toBeNull();
    // A fresh start: four more failures are allowed again.
    for (let i = 0; i < 4; i++) expect(await stub.recordFailure(LIMITS, t0)).toEqual({ ok: true });
  });

  it("is harmless on a key that never failed", async () => {
    const stub = throttle("account:never@example.com");
    await stub.reset();
    expect(await stub.check(LIMITS, clock())).toEqual({ ok: true });
  });
});

describe("keys", () => {
  it("are independent: blocking one account blocks neither another account nor an address", async () => {
    const t0 = clock();
    const blocked = throttle("account:victim@example.com");
    for (let i = 0; i < 5; i++) await blocked.recordFailure(ACCOUNT_THROTTLE_LIMITS, t0);
    expect((await blocked.check(ACCOUNT_THROTTLE_LIMITS, t0)).ok).toBe(false);
    expect(await throttle("account:bystander@example.com").check(ACCOUNT_THROTTLE_LIMITS, t0)).toEqual({ ok: true });
    expect(await throttle("ip:victim@example.com").check(ADDRESS_THROTTLE_LIMITS, t0)).toEqual({ ok: true });
    expect(await throttle("ip:203.0.113.7").check(ADDRESS_THROTTLE_LIMITS, t0)).toEqual({ ok: true });
  });

  it("give an address its own, higher limit", async () => {
    const stub = throttle("ip:198.51.100.20");
    const t0 = clock();
    for (let i = 0; i < 29; i++) expect(await stub.recordFailure(ADDRESS_THROTTLE_LIMITS, t0 + i * SEC)).toEqual({ ok: true });
    expect(await stub.recordFailure(ADDRESS_THROTTLE_LIMITS, t0 + 29 * SEC)).toEqual({ ok: false, retryAfterSec: 900 - 29 });
  });
});

describe("storage", () => {
  it("sets an alarm for when the newest failure leaves the window, and the alarm prunes every row", async () => {
    const stub = throttle("account:alarm@example.com");
    const t0 = clock();
    await stub.recordFailure(LIMITS, t0);
    expect(await alarmAt(stub)).toBe(t0 + WINDOW_MS);
    await stub.recordFailure(LIMITS, t0 + 30 * SEC);
    await stub.recordFailure(LIMITS, t0 + 60 * SEC);
    // Each failure moves the alarm to the newest one's exit.
    expect(await alarmAt(stub)).toBe(t0 + 60 * SEC + WINDOW_MS);
    expect(await rows(stub)).toHaveLength(3);

    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await rows(stub)).toEqual([]);
    expect(await alarmAt(stub)).toBeNull();
    // Nothing left to run.
    expect(await runDurableObjectAlarm(stub)).toBe(false);
    expect(await stub.check(LIMITS, t0 + 60 * SEC)).toEqual({ ok: true });
  });

  it("runs the alarm idempotently, and spares failures newer than its plan", async () => {
    const stub = throttle("account:idempotent@example.com");
    const t0 = clock();
    await stub.recordFailure(LIMITS, t0);
    await runInDurableObject(stub, async (instance: SignInThrottle, state) => {
      // A failure that arrives after the plan was made (as if its alarm had not replaced
      // this one yet) must survive the run.
      state.storage.sql.exec("INSERT INTO failures (at_ms) VALUES (?)", t0 + 10 * SEC);
      await instance.alarm();
      await instance.alarm();
    });
    expect(await rows(stub)).toEqual([t0 + 10 * SEC]);
  });

  it("stays bounded by the limit after many failures over many windows", async () => {
    const stub = throttle("account:many@example.com");
    const t0 = clock();
    let maxRows = 0;
    // One failure every 20 s for ten windows: 450 attempts.
    for (let i = 0; i < 450; i++) {
      await stub.recordFailure(LIMITS, t0 + i * 20 * SEC);
      if (i % 50 === 0) maxRows = Math.max(maxRows, (await rows(stub)).length);
    }
    expect(maxRows).toBeLessThanOrEqual(LIMITS.maxFailures);
    const left = await rows(stub);
    expect(left.length).toBeLessThanOrEqual(LIMITS.maxFailures);
    // Only failures still inside the window at the last call remain.
    const last = t0 + 449 * 20 * SEC;
    expect(left.every((at) => at > last - WINDOW_MS)).toBe(true);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await rows(stub)).toEqual([]);
  });

  it("prunes stale rows on a plain check too", async () => {
    const stub = throttle("account:check-prunes@example.com");
    const t0 = clock();
    for (let i = 0; i < 3; i++) await stub.recordFailure(LIMITS, t0 + i * SEC);
    await stub.check(LIMITS, t0 + WINDOW_MS + 1 * SEC);
    expect(await rows(stub)).toEqual([t0 + 2 * SEC]);
  });
});

describe("limits from a caller", () => {
  it.each([
    [{ maxFailures: 0, windowSec: 900 }],
    [{ maxFailures: 2.5, windowSec: 900 }],
    [{ maxFailures: 5, windowSec: 0 }],
    [{ maxFailures: 5, windowSec: Number.NaN }],
  ])("are refused when they make no sense: %j", async (limits) => {
    // Called on the instance: an exception thrown across RPC also surfaces as an
    // unhandled rejection in this shared test isolate.
    await runInDurableObject(throttle("account:bad-limits@example.com"), (instance: SignInThrottle) => {
      expect(() => instance.check(limits, clock())).toThrow(RangeError);
      expect(() => instance.check(limits, clock())).toThrow(/maxFailures|windowSec/);
    });
  });
});
