// The api under injected faults (CHAOS), through its own entry point: what a viewer gets
// when D1, a Durable Object, the Queue or the cache fails — stale catalog and home pages,
// retryable 503s in the standard body, never a 500, nothing written twice — and the
// guard's pieces on their own: the spec, the production refusal, timeouts, the read
// retry, application errors passing through, and the circuit breaker.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BindingGuard, breakerStates, DependencyError, guardD1, guardR2, isReadOnlySql, resetBreakers } from "../../../lib/bindings/guard.ts";
import { CircuitBreaker } from "../../../lib/bindings/breaker.ts";
import { chaosFor, parseChaos, seededRandom, type ChaosConfig } from "../../../lib/bindings/chaos.ts";
import { base64UrlEncode } from "../../../lib/base64url.ts";
import { errorBodySchema } from "../../../lib/errors.ts";
import worker from "../index.ts";
import { memberOn, seedPlayableCatalog, startPlayback, started, streamsObject } from "./playback-client.ts";
import { fromStreams, scalar, watchEvent } from "./events-client.ts";

await seedPlayableCatalog();

/** A request through the Worker's entry with CHAOS (and anything else) set on its env. */
async function through(vars: Record<string, string>, path: string, init: { method?: string; headers?: Record<string, string>; json?: unknown } = {}) {
  const ctx = createExecutionContext();
  const request = new Request(`https://marquee.test${path}`, {
    method: init.method ?? (init.json === undefined ? "GET" : "POST"),
    headers: { ...(init.json === undefined ? {} : { "content-type": "application/json" }), ...init.headers },
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
  });
  const res = await worker.fetch(request as Parameters<typeof worker.fetch>[0], { ...env, ...vars }, ctx);
  const text = await res.text();
  await waitOnExecutionContext(ctx);
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) as Record<string, any> };
}

function expectUnavailable(res: Awaited<ReturnType<typeof through>>) {
  expect(res.status, res.text.slice(0, 300)).toBe(503);
  expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
  const body = errorBodySchema.parse(res.json());
  expect(body.error.code).toBe("UNAVAILABLE");
  return body;
}

const OK = {};
const D1_DOWN = { CHAOS: "d1=1" };

beforeEach(() => resetBreakers());
afterEach(() => resetBreakers());

describe("the CHAOS spec", () => {
  it("parses rates, latency for all and for one kind, and a seed; refuses anything else", () => {
    const c = parseChaos("d1=0.1, r2=0.05,do=0.1,queue=0.1,latency=50ms,cache.latency=0.2s,seed=7")!;
    expect(c.rates).toMatchObject({ d1: 0.1, r2: 0.05, do: 0.1, queue: 0.1, cache: 0, service: 0 });
    expect(c.latencyMs).toMatchObject({ d1: 50, r2: 50, cache: 200 });
    expect(parseChaos("")).toBeNull();
    expect(parseChaos("off")).toBeNull();
    for (const bad of ["d1=2", "d1=-0.1", "d1=", "kv=0.1", "latency=fast", "d1", "seed=x", "d1=0.1=2", "latency=40s"]) {
      expect(() => parseChaos(bad), bad).toThrow();
    }
  });

  it("a seeded run's draws go on from request to request, whichever env object each brings", async () => {
    // seed=2 at a rate of one half: were the draws restarted per env, every request would see the same first draw.
    const statuses = new Set<number>();
    for (let i = 0; i < 12; i++) statuses.add((await through({ CHAOS: "service=0.5,seed=2" }, "/p/healthz")).status);
    expect(statuses).toEqual(new Set([200, 503]));
  });

  it("is a repeatable run with a seed", () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const first = Array.from({ length: 5 }, a);
    expect(Array.from({ length: 5 }, b)).toEqual(first);
    expect(new Set(first).size).toBe(5);
  });

  it("is honoured only where ENVIRONMENT is local, test or staging", () => {
    for (const ENVIRONMENT of ["local", "test", "staging"]) expect(chaosFor({ CHAOS: "d1=1", ENVIRONMENT }).config?.rates.d1).toBe(1);
    for (const ENVIRONMENT of ["production", "", "prod", undefined]) {
      const decision = chaosFor({ CHAOS: "d1=1", ...(ENVIRONMENT === undefined ? {} : { ENVIRONMENT }) });
      expect(decision.config).toBeNull();
      expect(decision.refused).toMatch(/only where ENVIRONMENT/);
    }
    expect(chaosFor({ CHAOS: "d1=oops", ENVIRONMENT: "test" })).toMatchObject({ config: null, refused: expect.stringMatching(/not valid/) });
  });

  it("in production changes nothing, and the health check says chaos is off", async () => {
    const prod = { CHAOS: "d1=1,do=1,queue=1,cache=1", ENVIRONMENT: "production" };
    const health = await through(prod, "/healthz");
    expect(health.status).toBe(200);
    expect(health.json().chaos).toBeUndefined();
    const m = await memberOn("premium");
    expect((await through(prod, "/v1/me", { headers: m.headers })).status).toBe(200);
    expect((await through(prod, "/v1/titles")).status).toBe(200);
    // Where it is honoured, the health check shows the spec, so a chaos run can confirm it is on.
    expect((await through({ CHAOS: "d1=0.1" }, "/healthz")).json().chaos).toBe("d1=0.1");
  });
});

describe("when D1 fails", () => {
  it("the catalog serves its last answer, marked stale; a page never computed is a retryable 503", async () => {
    const fresh = await through(OK, "/v1/titles?limit=5");
    expect(fresh.status).toBe(200);
    const stale = await through(D1_DOWN, "/v1/titles?limit=5");
    expect(stale.status).toBe(200);
    expect(stale.headers.get("x-cache")).toBe("STALE");
    expect(stale.json()).toEqual(fresh.json());
    const detail = await through(OK, "/v1/titles/first-light");
    expect((await through(D1_DOWN, "/v1/titles/first-light")).json()).toEqual(detail.json());
    expectUnavailable(await through(D1_DOWN, "/v1/titles?limit=7"));
  });

  it("a member seen in the last minutes still gets a home page (the last one built); an unknown (well-formed) session a 503, never a 401 or 500", async () => {
    const m = await memberOn("premium");
    const built = await through(OK, `/v1/home?profile=${m.profileId}`, { headers: m.headers });
    expect(built.status).toBe(200);
    const degraded = await through(D1_DOWN, `/v1/home?profile=${m.profileId}`, { headers: m.headers });
    expect(degraded.status).toBe(200);
    expect(degraded.json().rows.map((r: { id: string }) => r.id)).toEqual(built.json().rows.map((r: { id: string }) => r.id));
    const stranger = await memberOn("premium");
    // Signed up through the normal path, but never seen by this isolate's session check? It was (memberOn calls /v1/me).
    // A token D1 has never confirmed has nothing to fall back on:
    const wellFormed = base64UrlEncode(crypto.getRandomValues(new Uint8Array(32)));
    const unknown = await through(D1_DOWN, "/v1/me", { headers: { Authorization: `Bearer ${wellFormed}` } });
    expectUnavailable(unknown);
    // A string that cannot be a token of ours needs no D1 to be refused.
    expect((await through(D1_DOWN, "/v1/me", { headers: { Authorization: "Bearer mq_s_unknown-token-0000000000000000" } })).status).toBe(401);
    // Writes cannot be served stale: they fail cleanly, retryable.
    expectUnavailable(await through(D1_DOWN, `/v1/profiles/${stranger.profileId}/list/first-light`, { method: "PUT", headers: stranger.headers }));
    expect(await scalar("SELECT COUNT(*) AS n FROM profile_list WHERE profile_id = ?", stranger.profileId)).toBe(0);
  });

  it("pages degrade to a notice in the layout, not a 500", async () => {
    const res = await through(D1_DOWN, "/");
    expect(res.status, res.text.slice(0, 300)).not.toBe(500);
    expect([200, 503]).toContain(res.status); // the site's notice, or the page from the stale catalog
    expect(res.headers.get("content-type") ?? "").toMatch(/text\/html/);
  });

  it("after a burst of failures the breaker opens: calls fail fast until a trial succeeds", async () => {
    resetBreakers({ openMs: 200 });
    const reasons = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const res = await through(D1_DOWN, "/v1/titles?limit=9");
      reasons.add((expectUnavailable(res).error.details as { reason: string }).reason);
    }
    expect(reasons).toEqual(new Set(["fault", "circuit_open"]));
    expect(breakerStates()["d1:DB"]).toBe("open");
    // While open, even a healthy D1 is not called: the answer is immediate and says why.
    expect((expectUnavailable(await through(OK, "/v1/titles?limit=9")).error.details as { reason: string }).reason).toBe("circuit_open");
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(breakerStates()["d1:DB"]).toBe("half_open");
    expect((await through(OK, "/v1/titles?limit=9")).status).toBe(200);
    expect(breakerStates()["d1:DB"]).toBe("closed");
  });
});

describe("when other bindings fail", () => {
  it("a Durable Object that keeps failing: Play answers 503 with Retry-After and leases nothing", async () => {
    const m = await memberOn("premium");
    const res = await through({ CHAOS: "do=1" }, "/v1/playback/sessions", { headers: m.headers, json: { titleId: "first-light", profileId: m.profileId } });
    const body = expectUnavailable(res);
    expect(body.error.details).toMatchObject({ reason: "unavailable" });
    expect(await streamsObject(m.accountId).list(Date.now())).toEqual([]);
    // And Play works again as soon as the object does.
    expect((await started(await startPlayback(m.headers, { titleId: "first-light", profileId: m.profileId }))).id).toMatch(/^pbs_/);
  });

  it("a failing Queue: events are a retryable 503, and the same batch sent again lands once", async () => {
    const m = await memberOn("standard");
    const events = await fromStreams(m.accountId, Array.from({ length: 5 }, (_, i) => watchEvent(m.profileId, { type: i === 0 ? "start" : "seek", titleId: "first-light", positionSec: i, clientTime: Date.now() - 100 + i })));
    const down = await through({ CHAOS: "queue=1" }, "/v1/events", { headers: m.headers, json: { events } });
    expect(expectUnavailable(down).error.details).toMatchObject({ retryable: true });
    const up = await through(OK, "/v1/events", { headers: m.headers, json: { events } });
    expect(up.status).toBe(202);
    const again = await through(OK, "/v1/events", { headers: m.headers, json: { events } });
    expect(again.status).toBe(202);
    const deadline = Date.now() + 20_000;
    while ((await scalar("SELECT COUNT(*) AS n FROM watch_events WHERE profile_id = ?", m.profileId)) < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await scalar("SELECT COUNT(*) AS n FROM watch_events WHERE profile_id = ?", m.profileId)).toBe(5);
  }, 30_000);

  it("a failing media service binding: /p/* answers a retryable 503 in the standard body, not an exception", async () => {
    const res = await through({ CHAOS: "service=1" }, "/p/healthz");
    const body = expectUnavailable(res);
    expect(body.error.details).toMatchObject({ reason: "fault", retryable: true });
    expect((await through(OK, "/p/healthz")).status).toBe(200);
  });

  it("a failing cache is a miss: the catalog and home are built from D1", async () => {
    const m = await memberOn("premium");
    const catalog = await through({ CHAOS: "cache=1" }, "/v1/titles?limit=3");
    expect(catalog.status).toBe(200);
    expect(catalog.headers.get("x-cache")).toBe("MISS");
    expect((await through({ CHAOS: "cache=1" }, `/v1/home?profile=${m.profileId}`, { headers: m.headers })).status).toBe(200);
  });

  it("one in ten calls of every binding failing: the requests a viewer makes still succeed within three tries", async () => {
    const m = await memberOn("premium");
    const chaos = { CHAOS: "d1=0.1,do=0.1,queue=0.1,cache=0.1,seed=11" };
    const paths = [`/v1/me`, `/v1/home?profile=${m.profileId}`, `/v1/titles?limit=4`, `/v1/titles/first-light`, `/v1/search?q=light`];
    let firstTry = 0;
    let attempts = 0;
    for (let round = 0; round < 20; round++) {
      for (const path of paths) {
        let res = await through(chaos, path, { headers: m.headers });
        attempts++;
        if (res.status === 200) firstTry++;
        for (let retry = 0; retry < 2 && res.status === 503; retry++) res = await through(chaos, path, { headers: m.headers });
        expect(res.status, `${path}: ${res.text.slice(0, 200)}`).toBe(200);
      }
    }
    // The guard's own read retry hides most faults: far fewer than one request in ten needs the client's.
    expect(firstTry / attempts).toBeGreaterThan(0.9);
  });
});

describe("the guard on its own", () => {
  const config = (o: Partial<ChaosConfig>): ChaosConfig => ({ ...parseChaos("d1=0")!, ...o });

  it("times out a call that takes too long, as a retryable DependencyError", async () => {
    const guard = new BindingGuard(config({ latencyMs: { ...parseChaos("latency=200ms")!.latencyMs } }), { timeoutsMs: { d1: 50 } });
    // The injected latency is spent before the call; the timeout is the call's own. A slow D1 call:
    const slow = new BindingGuard(null, { timeoutsMs: { d1: 20 } });
    const err = await slow.call("d1", "d1:test", "slow", () => new Promise((resolve) => setTimeout(resolve, 200))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DependencyError);
    expect(err).toMatchObject({ reason: "timeout", retryable: true });
    const started = Date.now();
    await guard.call("d1", "d1:test-latency", "x", async () => 1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  it("retries a read-only statement once, never a write", async () => {
    // Fail, then succeed, then fail, then succeed...
    let n = 0;
    const alternate = config({ rates: { ...parseChaos("d1=0.5")!.rates }, random: () => (n++ % 2 === 0 ? 0 : 0.99) });
    const db = guardD1(new BindingGuard(alternate), "d1:alt", env.DB);
    expect(await db.prepare("SELECT 1 AS one").first("one")).toBe(1);
    n = 0;
    const write = await db.prepare("UPDATE versions SET version = version WHERE name = 'nothing'").run().catch((e: unknown) => e);
    expect(write).toBeInstanceOf(DependencyError);
    n = 0;
    expect(await db.batch([db.prepare("SELECT 1 AS a"), db.prepare("SELECT 2 AS b")])).toHaveLength(2);
    n = 0;
    await expect(db.batch([db.prepare("SELECT 1 AS a"), db.prepare("DELETE FROM versions WHERE name = 'nothing'")])).rejects.toBeInstanceOf(DependencyError);
    expect(isReadOnlySql("WITH x AS (SELECT 1) SELECT * FROM x")).toBe(true);
    expect(isReadOnlySql("WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x")).toBe(false);
  });

  it("lets an application error through unchanged, and counts it as D1 working", async () => {
    resetBreakers({ minCalls: 2 });
    const db = guardD1(new BindingGuard(null), "d1:app", env.DB);
    for (let i = 0; i < 5; i++) {
      const err = await db.prepare("INSERT INTO versions (name, version) VALUES ('catalog', 1)").run().catch((e: unknown) => e);
      expect(err).not.toBeInstanceOf(DependencyError);
      expect(String(err)).toMatch(/UNIQUE|constraint/i);
    }
    expect(breakerStates()["d1:app"]).toBe("closed");
  });

  it("counts R2 refusing a body for its checksum as the request's error, not R2's", async () => {
    resetBreakers({ minCalls: 2 });
    const bucket = guardR2(new BindingGuard(null), "r2:app", env.MEDIA);
    for (let i = 0; i < 5; i++) {
      const err = await bucket.put("resilience/checksum", "these bytes", { sha256: "0".repeat(64) }).catch((e: unknown) => e);
      expect(err).not.toBeInstanceOf(DependencyError);
      expect(String(err)).toMatch(/sha-?256|checksum/i);
    }
    expect(breakerStates()["r2:app"]).toBe("closed");
  });
});

describe("the circuit breaker", () => {
  it("opens at half the calls of a window failing, allows one trial when half-open, and closes on its success", () => {
    let now = 0;
    const b = new CircuitBreaker({ minCalls: 10, failureRate: 0.5, windowMs: 10_000, openMs: 5_000, now: () => now });
    for (let i = 0; i < 9; i++) b.record(false);
    expect(b.state).toBe("closed"); // not enough calls yet
    b.record(false);
    expect(b.state).toBe("open");
    expect(b.allow()).toBe(false);
    now += 5_000;
    expect(b.state).toBe("half_open");
    expect(b.allow()).toBe(true);
    expect(b.allow()).toBe(false); // one trial at a time
    b.record(false);
    expect(b.state).toBe("open");
    now += 5_000;
    expect(b.allow()).toBe(true);
    b.record(true);
    expect(b.state).toBe("closed");
    expect(b.allow()).toBe(true);
  });

  it("stays closed under one failure in ten, and forgets failures older than its window", () => {
    let now = 0;
    const b = new CircuitBreaker({ now: () => now });
    const random = seededRandom(3);
    for (let i = 0; i < 100_000; i++) {
      now += 1;
      b.record(random() >= 0.1);
      expect(b.state).toBe("closed");
    }
    const old = new CircuitBreaker({ minCalls: 4, now: () => now });
    for (let i = 0; i < 3; i++) old.record(false);
    now += 11_000;
    old.record(false);
    expect(old.state).toBe("closed");
  });
});
