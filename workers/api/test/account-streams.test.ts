// The AccountStreams Durable Object: exactly N screens under a stampede, expiry through the
// alarm (idempotent, always at the earliest expiry), and leases that survive a restart.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { LEASE_TTL_MS, PREPARED_LEASE_TTL_MS, type AccountStreams, type Ender, type LeaseRequest, type PlanState } from "../../../durable-objects/account-streams.ts";
import { callDurableObject } from "../bindings/durable-object-retry.ts";
import { ApiError } from "../../../lib/errors.ts";
import { anotherDevice, heartbeat, memberOn, seedPlayableCatalog, startPlayback, started, streamsObject } from "./playback-client.ts";

await seedPlayableCatalog();

const lease = (id: string, device = `dev-${id}`): LeaseRequest => ({
  id,
  deviceSessionId: device,
  deviceName: `Device ${id}`,
  profileId: "prf_1",
  profileName: "Ada",
  titleId: "first-light",
  episodeId: null,
  titleName: "First Light",
  assetId: "asset-one",
  maxHeight: 1080,
});

/** A plan of `screens` screens (version 1: any plan pushed later wins). */
const screensPlan = (screens: number): PlanState => ({ planId: "test", playing: true, maxStreams: screens, maxHeight: 2160, version: 1 });
const adult = (device: string): Ender => ({ deviceSessionId: device, profileId: "prf_1", isKids: false });

let accounts = 0;
const freshObject = () => streamsObject(`test-account-${++accounts}`);

/** Moves every lease's expiry to the past, as if LEASE_TTL had gone by without a heartbeat. */
const ageLeases = (stub: DurableObjectStub<AccountStreams>, byMs = LEASE_TTL_MS + 1) =>
  runInDurableObject(stub, (_: AccountStreams, state: DurableObjectState) => {
    state.storage.sql.exec("UPDATE leases SET expires_at_ms = expires_at_ms - ?", byMs);
  });

describe("exactly N screens", () => {
  it.each([1, 2, 4])("200 simultaneous starts from 200 devices of a %i-screen plan grant exactly that many", async (screens) => {
    const planId = ({ 1: "basic", 2: "standard", 4: "premium" } as const)[screens as 1 | 2 | 4];
    const m = await memberOn(planId);
    const devices = await Promise.all(Array.from({ length: 200 }, (_, i) => anotherDevice(m.accountId, `Device ${i}`)));
    const answers = await Promise.all(devices.map((headers) => startPlayback(headers, { titleId: "first-light", profileId: m.profileId })));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(screens);
    expect(statuses.filter((s) => s === 409)).toHaveLength(200 - screens);
    const bodies = await Promise.all(answers.filter((r) => r.status === 409).map((r) => r.json() as Promise<{ error: { code: string } }>));
    expect(new Set(bodies.map((b) => b.error.code))).toEqual(new Set(["TOO_MANY_STREAMS"]));
    const live = await runInDurableObject(streamsObject(m.accountId), (instance: AccountStreams) => instance.list(Date.now()));
    expect(live).toHaveLength(screens);
  });

  it("200 concurrent acquire calls straight into the object grant exactly the limit", async () => {
    const stub = freshObject();
    const now = Date.now();
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => stub.acquire(lease(`pbs_${i}`), screensPlan(3), now, undefined, adult("x"))));
    expect(results.filter((r) => r.ok)).toHaveLength(3);
    expect(results.filter((r) => !r.ok && r.code === "TOO_MANY_STREAMS")).toHaveLength(197);
  });
});

describe("acquire", () => {
  it("is idempotent on the playback session id, for the device that made it", async () => {
    const stub = freshObject();
    const now = Date.now();
    const first = await stub.acquire(lease("pbs_a"), screensPlan(1), now, undefined, adult("x"));
    const again = await stub.acquire(lease("pbs_a"), screensPlan(1), now + 10, undefined, adult("x"));
    expect(first).toMatchObject({ ok: true, granted: "new" });
    expect(again).toMatchObject({ ok: true, granted: "existing", lease: { id: "pbs_a", startedAt: now } });
    expect(await stub.acquire(lease("pbs_a", "someone-else"), screensPlan(5), now, undefined, adult("x"))).toEqual({ ok: false, code: "ID_IN_USE" });
    expect(await stub.list(now)).toHaveLength(1);
  });

  it("a prepared lease (Play on intent) lives PREPARED_LEASE_TTL_MS, and Play pressed confirms it to a full lease", async () => {
    const stub = freshObject();
    const now = Date.now();
    const prepared = await stub.acquire({ ...lease("pbs_p"), prepared: true }, screensPlan(1), now, undefined, adult("x"));
    expect(prepared).toMatchObject({ ok: true, granted: "new", lease: { expiresAt: now + PREPARED_LEASE_TTL_MS } });
    // Asked again on intent: unchanged, never shortened nor lengthened.
    expect(await stub.acquire({ ...lease("pbs_p"), prepared: true }, screensPlan(1), now + 5000, undefined, adult("x"))).toMatchObject({ lease: { expiresAt: now + PREPARED_LEASE_TTL_MS } });
    // The press: the same id without `prepared` holds a full lease from now.
    expect(await stub.acquire(lease("pbs_p"), screensPlan(1), now + 6000, undefined, adult("x"))).toMatchObject({ ok: true, granted: "existing", lease: { expiresAt: now + 6000 + LEASE_TTL_MS } });
    expect(await stub.list(now + PREPARED_LEASE_TTL_MS + 1)).toHaveLength(1);
  });

  it("a prepared lease never pressed frees its screen after PREPARED_LEASE_TTL_MS; a heartbeat before then confirms it", async () => {
    const stub = freshObject();
    const now = Date.now();
    await stub.acquire({ ...lease("pbs_q"), prepared: true }, screensPlan(1), now, undefined, adult("x"));
    expect(await stub.acquire(lease("pbs_r"), screensPlan(1), now + PREPARED_LEASE_TTL_MS - 1, undefined, adult("x"))).toMatchObject({ ok: false, code: "TOO_MANY_STREAMS" });
    expect(await stub.acquire(lease("pbs_r"), screensPlan(1), now + PREPARED_LEASE_TTL_MS + 1, undefined, adult("x"))).toMatchObject({ ok: true, granted: "new" });

    const other = freshObject();
    await other.acquire({ ...lease("pbs_s"), prepared: true }, screensPlan(1), now, undefined, adult("x"));
    expect(await other.heartbeat("pbs_s", "dev-pbs_s", 0, now + 3000)).toMatchObject({ ok: true, lease: { expiresAt: now + 3000 + LEASE_TTL_MS } });
    expect(await other.list(now + PREPARED_LEASE_TTL_MS + 1)).toHaveLength(1);
  });

  it("does not grant an ended stream again under its old id", async () => {
    const stub = freshObject();
    const now = Date.now();
    await stub.acquire(lease("pbs_a"), screensPlan(2), now, undefined, adult("x"));
    expect(await stub.release("pbs_a", adult("dev-pbs_a"), now)).toMatchObject({ ok: true, reason: "released" });
    expect(await stub.acquire(lease("pbs_a"), screensPlan(2), now, undefined, adult("x"))).toEqual({ ok: false, code: "ENDED", reason: "released" });
  });

  it("refuses plans that are not a plan's", async () => {
    const stub = freshObject();
    // The object's own error crosses RPC as a remote, non-retryable error: one attempt, then a 503.
    let attempts = 0;
    const call = callDurableObject("acquire", async () => (attempts++, await stub.acquire(lease("pbs_x"), screensPlan(0), Date.now(), undefined, adult("x"))), { sleep: async () => {} });
    await expect(call).rejects.toBeInstanceOf(ApiError);
    await expect(call).rejects.toMatchObject({ status: 503, headers: { "Retry-After": "2" } });
    expect(attempts).toBe(1);
  });
});

describe("expiry through the alarm", () => {
  it("the alarm is set to the earliest expiry, removes stale leases, and is idempotent", async () => {
    const stub = freshObject();
    const t0 = Date.now();
    await stub.acquire(lease("pbs_old"), screensPlan(4), t0 - 30_000, undefined, adult("x"));
    await stub.acquire(lease("pbs_new"), screensPlan(4), t0, undefined, adult("x"));
    const alarmAt = await runInDurableObject(stub, (_: AccountStreams, state: DurableObjectState) => state.storage.getAlarm());
    expect(alarmAt).toBe(t0 - 30_000 + LEASE_TTL_MS);

    // Only the older lease is stale by the time the alarm runs.
    await runInDurableObject(stub, (_: AccountStreams, state: DurableObjectState) => {
      state.storage.sql.exec("UPDATE leases SET expires_at_ms = ? WHERE id = 'pbs_old'", Date.now() - 1);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await stub.list(Date.now())).map((l) => l.id)).toEqual(["pbs_new"]);
    const next = await runInDurableObject(stub, (_: AccountStreams, state: DurableObjectState) => state.storage.getAlarm());
    expect(next).toBe(t0 + LEASE_TTL_MS);
    // Running it again (an early or repeated alarm) removes nothing more and plans the same.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await stub.list(Date.now())).map((l) => l.id)).toEqual(["pbs_new"]);
    expect(await runInDurableObject(stub, (_: AccountStreams, state: DurableObjectState) => state.storage.getAlarm())).toBe(t0 + LEASE_TTL_MS);
    expect(await stub.heartbeat("pbs_old", "dev-pbs_old", 1, Date.now())).toEqual({ ok: false, code: "ENDED", reason: "expired" });
  });

  it("an expired stream's heartbeat is a 409, and its screen is free for another device", async () => {
    const m = await memberOn("basic");
    const tv = await anotherDevice(m.accountId, "TV");
    const s = await started(await startPlayback(m.headers, { titleId: "first-light", profileId: m.profileId }));
    expect((await startPlayback(tv, { titleId: "first-light", profileId: m.profileId })).status).toBe(409);
    const stub = streamsObject(m.accountId);
    await ageLeases(stub);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await runInDurableObject(stub, (_: AccountStreams, state: DurableObjectState) => state.storage.sql.exec("SELECT COUNT(*) AS n FROM leases").one().n)).toBe(0);
    const beat = await heartbeat(m.headers, s.id);
    expect(beat.status).toBe(409);
    expect(await beat.json()).toMatchObject({ error: { code: "STREAM_ENDED", details: { reason: "expired" } } });
    expect((await startPlayback(tv, { titleId: "first-light", profileId: m.profileId })).status).toBe(201);
  });

  it("forgets ended streams after their retention, and then clears its alarm", async () => {
    const stub = freshObject();
    const now = Date.now();
    await stub.acquire(lease("pbs_a"), screensPlan(1), now, undefined, adult("x"));
    await stub.release("pbs_a", adult("dev-pbs_a"), now);
    await runInDurableObject(stub, (_: AccountStreams, state: DurableObjectState) => {
      state.storage.sql.exec("UPDATE ended SET ended_at_ms = 0");
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await runInDurableObject(stub, (_: AccountStreams, state: DurableObjectState) => state.storage.getAlarm())).toBeNull();
    expect(await stub.heartbeat("pbs_a", "dev-pbs_a", 0, Date.now())).toEqual({ ok: false, code: "ENDED", reason: "unknown" });
  });
});

describe("durability", () => {
  it("leases survive the object being restarted: a new instance reads them from SQLite storage", async () => {
    const name = `test-account-${++accounts}`;
    const stub = streamsObject(name);
    const now = Date.now();
    await stub.acquire(lease("pbs_a"), screensPlan(2), now, undefined, adult("x"));
    await stub.acquire(lease("pbs_b"), screensPlan(2), now, undefined, adult("x"));
    const before = await runInDurableObject(stub, (instance: AccountStreams) => instance);
    // abort() resets the object: its in-memory state and instance are gone, storage stays.
    await runInDurableObject(stub, (_: AccountStreams, state: DurableObjectState) => {
      try {
        state.abort("restart for the test");
      } catch {
        // abort() throws to end the current request; the object is reset either way.
      }
    }).catch(() => {});
    // A stub that saw its object break stays broken: callers make a new one (as the api does).
    const restarted = streamsObject(name);
    const after = await runInDurableObject(restarted, (instance: AccountStreams) => instance);
    expect(after).not.toBe(before);
    expect((await restarted.list(Date.now())).map((l) => l.id)).toEqual(["pbs_a", "pbs_b"]);
    // The limit still holds across the restart.
    expect(await restarted.acquire(lease("pbs_c"), screensPlan(2), Date.now(), undefined, adult("x"))).toMatchObject({ ok: false, code: "TOO_MANY_STREAMS" });
  });
});
