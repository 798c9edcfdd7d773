// Content steering in the media Worker (docs/media-origin.md): an asset complete on the
// replica is offered on both pathways in its manifests (HLS EXT-X-CONTENT-STEERING with a
// PATHWAY-ID per variant, DASH ContentSteering with a BaseURL per serviceLocation), each
// parsed by the players' own parsers; the steering server's answer follows the operator's
// policy, the viewer's country and the origins' health (this isolate's breakers, and what
// another isolate of the location marked in the Cache API); and a segment the primary
// cannot give is served from the replica, whichever pathway it was asked on.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { parse as parseMpd } from "mpd-parser";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { BindingGuard, guardEnv, resetBreakers } from "../../../lib/bindings/guard.ts";
import { parseChaos } from "../../../lib/bindings/chaos.ts";
import { redactedPath, setLogLevel } from "../../../lib/log.ts";
import { base64UrlDecode } from "../../../lib/base64url.ts";
import { hlsStartSchema, type HlsStart } from "../../../lib/hls-start.ts";
import { mediaKeys } from "../../../lib/media-layout.ts";
import type { StoredSteeringPolicy } from "../../../lib/media-origins/steering-policy.ts";
import { seedSyntheticAsset } from "../../../test-support/synthetic-asset.ts";
import { createMediaApp } from "../app.ts";
import { r2BindingsOf } from "../../../lib/media-origins/pathways.ts";
import { choosePathways, DEGRADED_TTL_SECONDS } from "../steering/choose.ts";
import { ORIGIN, parseHls, tokenFor } from "./helpers.ts";

const ASSET = "steer-asset";
const asset = await seedSyntheticAsset(env.MEDIA, ASSET, { heights: [240, 480], segments: 4 });
await seedSyntheticAsset(env.MEDIA_REPLICA, ASSET, { heights: [240, 480], segments: 4 });
const record = JSON.stringify({ version: 1, complete: ["p2"] });
await env.MEDIA.put(mediaKeys.replicas(ASSET), record);
await env.MEDIA_REPLICA.put(mediaKeys.replicas(ASSET), record);
// On the primary alone: no replica record.
await seedSyntheticAsset(env.MEDIA, "steer-solo", { heights: [240] });
const token = await tokenFor({ assetId: ASSET });
const soloToken = await tokenFor({ assetId: "steer-solo" });
const segments = [...asset.files.keys()].filter((p) => p.endsWith(".m4s"));

type Vars = Partial<Record<"CHAOS" | "STEERING_TTL_SECONDS" | "LOG_LEVEL", string>>;

/** Requests through a guarded env like the Worker's entry point's (index.ts), `createMediaApp()` being one isolate's state. */
function isolate() {
  const app = createMediaApp();
  return async (path: string, vars: Vars = {}, init: RequestInit & { cf?: { country: string } } = {}) => {
    const ctx = createExecutionContext();
    const vars_ = { ...env, ...vars } as typeof env;
    const guarded = guardEnv(vars_, { r2: r2BindingsOf(vars_.MEDIA_REPLICAS), queue: ["QOE_EVENTS"] });
    const res = await app.fetch(new Request(`${ORIGIN}${path}`, init), guarded, ctx);
    const body = new Uint8Array(await res.arrayBuffer());
    await waitOnExecutionContext(ctx);
    return { res, body, text: () => new TextDecoder().decode(body) };
  };
}

const get = isolate();


async function clearPolicy() {
  await Promise.all([env.MEDIA.delete(mediaKeys.steeringPolicy), env.MEDIA_REPLICA.delete(mediaKeys.steeringPolicy)]);
}

beforeEach(async () => {
  resetBreakers();
  await clearPolicy();
});

describe("manifests of an asset on two pathways", () => {
  it("HLS: the steering tag, every variant once per pathway with its PATHWAY-ID, each pathway's own rendition groups", async () => {
    const { res, text } = await get(`/p/${token}/${ASSET}/master.m3u8`);
    expect(res.status).toBe(200);
    const m = parseHls(text());
    expect(m.contentSteering).toEqual({ serverUri: `/p/${token}/${ASSET}/steering.hls.json`, pathwayId: "p" });
    const variants = m.playlists ?? [];
    expect(variants.map((v) => [v.attributes["PATHWAY-ID"], v.attributes.RESOLUTION?.height])).toEqual([
      ["p", 240],
      ["p", 480],
      ["p2", 240],
      ["p2", 480],
    ]);
    expect(variants.filter((v) => v.attributes["PATHWAY-ID"] === "p").map((v) => v.uri)).toEqual(["240p/playlist.m3u8", "480p/playlist.m3u8"]);
    expect(variants.filter((v) => v.attributes["PATHWAY-ID"] === "p2").map((v) => v.uri)).toEqual([`/p2/${token}/${ASSET}/240p/playlist.m3u8`, `/p2/${token}/${ASSET}/480p/playlist.m3u8`]);
    expect(variants.map((v) => v.attributes.AUDIO)).toEqual(["audio", "audio", "audio-p2", "audio-p2"]);
    expect(Object.keys(m.mediaGroups!.AUDIO)).toEqual(["audio", "audio-p2"]);
    expect(Object.values(m.mediaGroups!.AUDIO["audio-p2"]!).map((r) => r.uri)).toEqual([`/p2/${token}/${ASSET}/audio-en/playlist.m3u8`]);
    expect(Object.values(m.mediaGroups!.SUBTITLES["subs-p2"]!).map((r) => r.uri)).toEqual([`/p2/${token}/${ASSET}/subs/en.m3u8`]);
    // Every URL it names answers, on both pathways.
    for (const v of variants) {
      const path = v.uri.startsWith("/") ? v.uri : `/p/${token}/${ASSET}/${v.uri}`;
      const playlist = await get(path);
      expect(playlist.res.status, path).toBe(200);
      const first = parseHls(playlist.text()).segments[0]!.uri;
      const segment = await get(path.replace(/playlist\.m3u8$/, first));
      expect(segment.res.status, `${path} → ${first}`).toBe(200);
    }
  });

  it("HLS asked on the replica's pathway: its own URIs relative, the primary's absolute", async () => {
    const m = parseHls((await get(`/p2/${token}/${ASSET}/master.m3u8`)).text());
    expect(m.contentSteering?.serverUri).toBe(`/p2/${token}/${ASSET}/steering.hls.json`);
    const uris = (id: string) => (m.playlists ?? []).filter((v) => v.attributes["PATHWAY-ID"] === id).map((v) => v.uri);
    expect(uris("p2")).toEqual(["240p/playlist.m3u8", "480p/playlist.m3u8"]);
    expect(uris("p")).toEqual([`/p/${token}/${ASSET}/240p/playlist.m3u8`, `/p/${token}/${ASSET}/480p/playlist.m3u8`]);
  });

  it("DASH: a BaseURL per serviceLocation and the ContentSteering element, as mpd-parser reads them", async () => {
    const { res, text } = await get(`/p/${token}/${ASSET}/manifest.mpd`);
    expect(res.status).toBe(200);
    const mpd = parseMpd(text(), { manifestUri: `${ORIGIN}/p/${token}/${ASSET}/manifest.mpd` });
    expect(mpd.contentSteering).toMatchObject({ serverURL: `/p/${token}/${ASSET}/steering.dash.json`, defaultServiceLocation: "p", queryBeforeStart: false });
    const byLocation = new Map<string, string[]>();
    for (const p of mpd.playlists ?? []) {
      const at = p.attributes.serviceLocation!;
      byLocation.set(at, [...(byLocation.get(at) ?? []), p.segments![0]!.resolvedUri]);
    }
    expect([...byLocation.keys()].sort()).toEqual(["p", "p2"]);
    for (const uri of byLocation.get("p2")!) expect(uri.startsWith(`${ORIGIN}/p2/${token}/${ASSET}/`)).toBe(true);
    for (const uri of byLocation.get("p")!) expect(uri.startsWith(`${ORIGIN}/p/${token}/${ASSET}/`)).toBe(true);
    for (const uri of [...byLocation.values()].flat()) expect((await get(new URL(uri).pathname)).res.status, uri).toBe(200);
  });

  it("an asset on the primary alone has no steering in its manifests", async () => {
    expect((await get(`/p/${soloToken}/steer-solo/master.m3u8`)).text()).not.toMatch(/CONTENT-STEERING|PATHWAY-ID|\/p2\//);
    expect((await get(`/p/${soloToken}/steer-solo/manifest.mpd`)).text()).not.toMatch(/ContentSteering|serviceLocation/);
    const steering = await get(`/p/${soloToken}/steer-solo/steering.hls.json`);
    expect(JSON.parse(steering.text())).toEqual({ VERSION: 1, TTL: 10, "PATHWAY-PRIORITY": ["p"] });
  });
});

describe("the steering server", () => {
  it("healthy: the configured order for the configured TTL, never cached", async () => {
    const hlsAnswer = await get(`/p/${token}/${ASSET}/steering.hls.json?_HLS_pathway=p&_HLS_throughput=5000000`);
    expect(hlsAnswer.res.status).toBe(200);
    expect(hlsAnswer.res.headers.get("cache-control")).toBe("no-store");
    expect(JSON.parse(hlsAnswer.text())).toEqual({ VERSION: 1, TTL: 10, "PATHWAY-PRIORITY": ["p", "p2"] });
    const dash = await get(`/p2/${token}/${ASSET}/steering.dash.json?_DASH_pathway=p2`, { STEERING_TTL_SECONDS: "45" });
    // DASH-IF's key, and the HLS one that Shaka reads for DASH too.
    expect(JSON.parse(dash.text())).toEqual({ VERSION: 1, TTL: 45, "SERVICE-LOCATION-PRIORITY": ["p", "p2"], "PATHWAY-PRIORITY": ["p", "p2"] });
  });

  it("garbage steering parameters are ignored, not refused (like CMCD)", async () => {
    const { res } = await get(`/p/${token}/${ASSET}/steering.hls.json?_HLS_pathway=${"x".repeat(500)}&_HLS_throughput=-1`);
    expect(res.status).toBe(200);
  });

  it("the operator's policy: a default order, and an order for one country", async () => {
    const stored: StoredSteeringPolicy = { version: 1, updatedAt: new Date().toISOString(), policy: { priority: ["p2", "p"], countries: { DE: ["p", "p2"] } } };
    await env.MEDIA.put(mediaKeys.steeringPolicy, JSON.stringify(stored));
    const fresh = isolate();
    expect(JSON.parse((await fresh(`/p/${token}/${ASSET}/steering.hls.json`)).text())["PATHWAY-PRIORITY"]).toEqual(["p2", "p"]);
    const de = await fresh(`/p/${token}/${ASSET}/steering.hls.json`, {}, { cf: { country: "DE" } });
    expect(JSON.parse(de.text())["PATHWAY-PRIORITY"]).toEqual(["p", "p2"]);
    // The HLS manifest starts players where the policy says.
    expect(parseHls((await fresh(`/p/${token}/${ASSET}/master.m3u8`)).text()).contentSteering?.pathwayId).toBe("p2");
  });

  it("the newest copy of the policy wins, whichever origin holds it", async () => {
    const older: StoredSteeringPolicy = { version: 1, updatedAt: "2026-01-01T00:00:00.000Z", policy: { priority: ["p", "p2"] } };
    const newer: StoredSteeringPolicy = { version: 1, updatedAt: "2026-06-01T00:00:00.000Z", policy: { priority: ["p2", "p"] } };
    await env.MEDIA.put(mediaKeys.steeringPolicy, JSON.stringify(older));
    await env.MEDIA_REPLICA.put(mediaKeys.steeringPolicy, JSON.stringify(newer));
    expect(JSON.parse((await isolate()(`/p/${token}/${ASSET}/steering.hls.json`)).text())["PATHWAY-PRIORITY"]).toEqual(["p2", "p"]);
  });

  it("the primary failing: the replica first, a short TTL, and manifests start players on the replica", async () => {
    const chaos = { CHAOS: "r2:MEDIA=1" };
    // Fresh segments (no cache hit): each read of the primary fails, the replica serves.
    for (const path of segments.slice(0, 3)) {
      const { res } = await get(`/p/${token}/${ASSET}/${path}?fresh=${Math.random()}`, chaos);
      expect(res.status).toBe(200);
    }
    const answer = JSON.parse((await get(`/p/${token}/${ASSET}/steering.hls.json`, chaos)).text());
    expect(answer).toEqual({ VERSION: 1, TTL: DEGRADED_TTL_SECONDS, "PATHWAY-PRIORITY": ["p2", "p"] });
    expect(parseHls((await get(`/p/${token}/${ASSET}/master.m3u8`, chaos)).text()).contentSteering?.pathwayId).toBe("p2");
  });

  it("the start bundle: the steering answer of the moment, and the init segments of the pathway it starts on, whatever holds them", async () => {
    const read = async (vars: Vars = {}) => hlsStartSchema.parse(JSON.parse((await get(`/p/${token}/${ASSET}/hls-start.json`, vars)).text()));
    const healthy = await read();
    expect(healthy.steering).toEqual(JSON.parse((await get(`/p/${token}/${ASSET}/steering.hls.json`)).text()));
    // The init segments of the start variant and its audio, on the pathway the master starts players on.
    const initsOf = (b: HlsStart) => b.playlists.map((p) => p.uri.replace(/playlist\.m3u8$/, "init.m4s"));
    expect(healthy.inits.map((i) => i.uri)).toEqual(initsOf(healthy));
    // The primary failing: players start on the replica, whose URIs the master writes absolute.
    const chaos = { CHAOS: "r2:MEDIA=1" };
    for (const path of segments.slice(0, 3)) expect((await get(`/p/${token}/${ASSET}/${path}?fresh=${Math.random()}`, chaos)).res.status).toBe(200);
    const degraded = await read(chaos);
    expect(degraded.steering).toEqual({ VERSION: 1, TTL: DEGRADED_TTL_SECONDS, "PATHWAY-PRIORITY": ["p2", "p"] });
    expect(degraded.inits.map((i) => i.uri)).toEqual(initsOf(degraded));
    for (const i of degraded.inits) expect(i.uri).toMatch(new RegExp(`^/p2/${token}/${ASSET}/(\\d+p|audio-en)/init\\.m4s$`));
    for (const i of degraded.inits) expect(base64UrlDecode(i.data)).toEqual(asset.files.get(i.uri.split(`/${ASSET}/`)[1]!));
  });

  it("the start bundle of an asset whose init cannot be read: the playlists without it, never an error", async () => {
    const solo = isolate();
    const base = `/p/${soloToken}/steer-solo/`;
    // The index in this isolate's memory; then every read of the bucket fails.
    expect((await solo(`${base}master.m3u8`)).res.status).toBe(200);
    const { res, text } = await solo(`${base}hls-start.json`, { CHAOS: "r2:MEDIA=1" });
    expect(res.status).toBe(200);
    const bundle = hlsStartSchema.parse(JSON.parse(text()));
    expect(bundle.playlists).toHaveLength(2);
    expect(bundle.inits).toEqual([]);
    expect(bundle.steering).toBeNull();
  });

  it("health is shared in the location: another isolate, whose own breakers saw nothing, steers away too", async () => {
    const chaos = { CHAOS: "r2:MEDIA=1" };
    for (const path of segments.slice(3, 6)) await get(`/p/${token}/${ASSET}/${path}`, chaos);
    // This isolate's steering answer marks the primary failing in the Cache API.
    expect(JSON.parse((await get(`/p/${token}/${ASSET}/steering.dash.json`, chaos)).text())["SERVICE-LOCATION-PRIORITY"]).toEqual(["p2", "p"]);
    // Another isolate: its breakers are fresh, and the primary answers it.
    resetBreakers();
    const other = JSON.parse((await isolate()(`/p/${token}/${ASSET}/steering.dash.json`)).text());
    expect(other["SERVICE-LOCATION-PRIORITY"]).toEqual(["p2", "p"]);
  });
});

describe("failover without steering", () => {
  it("a segment the primary cannot give comes from the replica, byte for byte, on either pathway", async () => {
    for (const pathway of ["p", "p2"]) {
      const path = segments[segments.length - 1]!;
      const { res, body } = await get(`/${pathway}/${token}/${ASSET}/${path}?x=${pathway}`, { CHAOS: "r2:MEDIA=1,cache=1" });
      expect(res.status, pathway).toBe(200);
      expect(res.headers.get("x-origin")).toBe("p2");
      expect(body).toEqual(asset.files.get(path));
    }
  });

  it("while the primary's breaker is open, a miss goes straight to the replica: no retry of the primary", async () => {
    resetBreakers({ minCalls: 2, failureRate: 0.5 });
    const chaos = { CHAOS: "r2:MEDIA=1,cache=1" };
    // Two failed reads open the primary's breaker (the first request's read and its retry).
    await get(`/p/${token}/${ASSET}/${segments[2]}?open=1`, chaos);
    const warnings: string[] = [];
    const spy = vi.spyOn(console, "warn").mockImplementation((line: string) => void warnings.push(line));
    try {
      const { res } = await get(`/p/${token}/${ASSET}/${segments[2]}?open=2`, { ...chaos, LOG_LEVEL: "warn" });
      expect(res.status).toBe(200);
      expect(res.headers.get("x-origin")).toBe("p2");
    } finally {
      spy.mockRestore();
      setLogLevel("error");
    }
    expect(warnings.some((w) => w.includes('"origin_fallback"'))).toBe(true);
    expect(warnings.filter((w) => w.includes("retrying once"))).toEqual([]);
  });

  it("the replica failing: the replica's pathway is served from the primary", async () => {
    const path = segments[1]!;
    const { res, body } = await get(`/p2/${token}/${ASSET}/${path}`, { CHAOS: "r2:MEDIA_REPLICA=1,cache=1" });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-origin")).toBe("p");
    expect(body).toEqual(asset.files.get(path));
  });

  it("the index too: a cold isolate and cache with the primary down still plays", async () => {
    const fresh = isolate();
    const { res } = await fresh(`/p/${token}/${ASSET}/master.m3u8`, { CHAOS: "r2:MEDIA=1,cache=1" });
    expect(res.status).toBe(200);
  });

  it("an asset the replica does not hold gets a retryable 503 when the primary is down, not the replica's 404", async () => {
    const { res } = await get(`/p/${soloToken}/steer-solo/240p/1.m4s`, { CHAOS: "r2:MEDIA=1,cache=1" });
    expect(res.status).toBe(503);
    expect(res.headers.get("x-origin")).toBeNull();
  });
});

describe("the pieces", () => {
  it("choosePathways: policy, then health; a policy naming what the asset lacks is ignored", () => {
    const base = { complete: ["p", "p2"], unhealthy: new Set<string>(), country: "FR", policy: null, ttlSeconds: 30 };
    expect(choosePathways(base)).toEqual({ priority: ["p", "p2"], ttlSeconds: 30, degraded: false });
    expect(choosePathways({ ...base, unhealthy: new Set(["p"]) })).toEqual({ priority: ["p2", "p"], ttlSeconds: DEGRADED_TTL_SECONDS, degraded: true });
    expect(choosePathways({ ...base, unhealthy: new Set(["p", "p2"]), policy: { priority: ["p2"] } }).priority).toEqual(["p2", "p"]);
    expect(choosePathways({ ...base, policy: { priority: ["p3", "p2"] } }).priority).toEqual(["p2", "p"]);
    expect(choosePathways({ ...base, complete: ["p"], policy: { priority: ["p2", "p"] } }).priority).toEqual(["p"]);
    expect(choosePathways({ ...base, country: "DE", policy: { priority: ["p2", "p"], countries: { DE: ["p"] } } }).priority).toEqual(["p", "p2"]);
  });

  it("chaos for one binding, from a delay after its first call", async () => {
    const config = parseChaos("r2:MEDIA=1@10s")!;
    const guard = new BindingGuard(config);
    const call = (dependency: string) => guard.call("r2", dependency, "get", async () => "ok");
    await expect(call("r2:MEDIA")).resolves.toBe("ok");
    await expect(call("r2:MEDIA_REPLICA")).resolves.toBe("ok");
    config.firstCallAt.set("r2:MEDIA", Date.now() - 10_001);
    await expect(call("r2:MEDIA")).rejects.toThrow(/chaos: injected/);
    await expect(call("r2:MEDIA_REPLICA")).resolves.toBe("ok");
    expect(() => parseChaos("r2:MEDIA=2")).toThrow(/rate/);
    expect(() => parseChaos("r2:MEDIA=1@soon")).toThrow(/delay/);
  });

  it("a replica pathway's token is kept out of logs like the primary's", () => {
    expect(redactedPath(`/p2/${token}/${ASSET}/240p/1.m4s`)).toBe(`/p2/<token>/${ASSET}/240p/1.m4s`);
    expect(redactedPath(`/p/${token}/${ASSET}/master.m3u8`)).toBe(`/p/<token>/${ASSET}/master.m3u8`);
  });
});
