// Replication at publish and the operator's steering policy, through the real api Worker
// and the real media Worker behind its service binding, over the real primary and replica
// buckets (docs/media-origin.md): publishing copies every file to the replica, a bounded
// number per call, and only a complete replica is offered to players; `PUT
// /v1/admin/steering` reaches the steering server.
import { env, exports } from "cloudflare:workers";
import { Parser } from "m3u8-parser";
import { beforeEach, describe, expect, it } from "vitest";
import { base64UrlEncode } from "../../../lib/base64url.ts";
import { resetBreakers } from "../../../lib/bindings/guard.ts";
import { mediaKeys } from "../../../lib/media-layout.ts";
import { parsePlaybackKeys, signPlaybackToken } from "../../../lib/playback-token.ts";
import { syntheticAsset, type SyntheticAsset } from "../../../test-support/synthetic-asset.ts";
import { POLICY_REFRESH_MS as REFRESH_MS } from "../../../lib/media-origins/steering-policy.ts";
import { replicateAsset } from "../ingest/replicate.ts";
import { inlinePlaylists } from "../playback/playback-urls.ts";
import { startingPoint } from "../../../lib/hls-start.ts";
import { api, putJson, uploadAll } from "./admin-client.ts";

type ReplicaStatus = { pathway: string; filesDone: number; filesTotal: number; bytesDone: number; complete: boolean; error?: string };
type Published = { assetId: string; status: string; replication: ReplicaStatus[] };

async function token(assetId: string) {
  const keys = await parsePlaybackKeys(env.PLAYBACK_TOKEN_KEYS);
  return signPlaybackToken({ assetId, accountId: "a", sessionId: "s", maxHeight: 2160, expiresAt: Math.floor(Date.now() / 1000) + 600 }, keys);
}

const media = (path: string) => exports.default.fetch(`https://marquee.test${path}`);

async function upload(asset: SyntheticAsset) {
  expect((await putJson(`/v1/admin/assets/${asset.index.assetId}`, asset.index)).status).toBe(200);
  await uploadAll(asset);
}

async function replicaBytes(key: string): Promise<Uint8Array | null> {
  const object = await env.MEDIA_REPLICA.get(key);
  return object ? new Uint8Array(await object.arrayBuffer()) : null;
}

async function pathwaysOffered(assetId: string): Promise<string[]> {
  const res = await media(`/p/${await token(assetId)}/${assetId}/master.m3u8`);
  const parser = new Parser();
  parser.push(await res.text());
  parser.end();
  return [...new Set((parser.manifest.playlists ?? []).map((v) => String(v.attributes["PATHWAY-ID"] ?? "p")))];
}

beforeEach(() => resetBreakers());

describe("publishing copies the asset to the replica", () => {
  it("every file byte for byte, then its index and the record; only then is the replica offered", async () => {
    const asset = await syntheticAsset("repl-whole", { heights: [240, 480], segments: 3 });
    await upload(asset);
    const res = await api(`/v1/admin/assets/repl-whole/publish`, { method: "POST" });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Published;
    const bytes = asset.index.files.reduce((n, f) => n + f.bytes, 0);
    expect(body.replication).toEqual([{ pathway: "p2", filesDone: asset.index.files.length, filesTotal: asset.index.files.length, bytesDone: bytes, complete: true }]);
    for (const [path, data] of asset.files) expect(await replicaBytes(mediaKeys.file("repl-whole", path)), path).toEqual(data);
    expect(JSON.parse(new TextDecoder().decode((await replicaBytes(mediaKeys.index("repl-whole")))!))).toEqual(asset.index);
    for (const bucket of [env.MEDIA, env.MEDIA_REPLICA]) expect(await (await bucket.get(mediaKeys.replicas("repl-whole")))!.json()).toEqual({ version: 1, complete: ["p2"] });
    const row = await env.DB.prepare("SELECT files_done, files_total, completed_at FROM asset_replicas WHERE asset_id = ?1 AND pathway = 'p2'").bind("repl-whole").first();
    expect(row).toMatchObject({ files_done: asset.index.files.length, files_total: asset.index.files.length });
    expect(row!.completed_at).not.toBeNull();
    expect(await pathwaysOffered("repl-whole")).toEqual(["p", "p2"]);
    // Publishing again copies nothing and changes nothing.
    const again = (await (await api(`/v1/admin/assets/repl-whole/publish`, { method: "POST" })).json()) as Published;
    expect(again.replication[0]!.complete).toBe(true);
  });

  it("a bounded number of files per call, carried on by the next call; the asset plays from the primary meanwhile", async () => {
    const asset = await syntheticAsset("repl-steps", { heights: [240], segments: 4 });
    await upload(asset);
    // The publish step makes the asset playable, then the copy goes 4 files at a time.
    expect((await api(`/v1/admin/assets/repl-steps/publish`, { method: "POST" })).status).toBe(200);
    await env.DB.prepare("DELETE FROM asset_replicas WHERE asset_id = 'repl-steps'").run();
    await Promise.all([env.MEDIA.delete(mediaKeys.replicas("repl-steps")), env.MEDIA_REPLICA.delete(mediaKeys.replicas("repl-steps")), env.MEDIA_REPLICA.delete(mediaKeys.index("repl-steps"))]);
    const index = asset.index;
    const total = index.files.length;
    const seen: number[] = [];
    for (let call = 0; call < 10; call++) {
      const [status] = await replicateAsset(env, index, new Date(), 4);
      seen.push(status!.filesDone);
      if (status!.complete) break;
      // Not complete: not offered, and the replica has no index yet.
      expect(await env.MEDIA_REPLICA.head(mediaKeys.index("repl-steps"))).toBeNull();
      expect(await env.MEDIA.head(mediaKeys.replicas("repl-steps"))).toBeNull();
    }
    expect(seen).toEqual([...Array.from({ length: Math.ceil(total / 4) - 1 }, (_, i) => (i + 1) * 4), total]);
    expect(await env.MEDIA_REPLICA.head(mediaKeys.index("repl-steps"))).not.toBeNull();
  });

  it("two publish calls at once: every file copied once or twice, the progress never goes back, one complete replica", async () => {
    const asset = await syntheticAsset("repl-race", { heights: [240, 480], segments: 4 });
    await upload(asset);
    const results = await Promise.all(Array.from({ length: 4 }, () => api(`/v1/admin/assets/repl-race/publish`, { method: "POST" })));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const row = await env.DB.prepare("SELECT files_done, completed_at FROM asset_replicas WHERE asset_id = 'repl-race'").first();
    expect(row!.files_done).toBe(asset.index.files.length);
    for (const [path, data] of asset.files) expect(await replicaBytes(mediaKeys.file("repl-race", path)), path).toEqual(data);
  });

  it("the replica failing: published and playable, the replication reports where it stopped and the next call carries on", async () => {
    const asset = await syntheticAsset("repl-down", { heights: [240], segments: 3 });
    await upload(asset);
    await api(`/v1/admin/assets/repl-down/publish`, { method: "POST" });
    await env.DB.prepare("DELETE FROM asset_replicas WHERE asset_id = 'repl-down'").run();
    await env.MEDIA.delete(mediaKeys.replicas("repl-down"));
    const down = await replicateAsset({ ...env, MEDIA_REPLICA: failingBucket(env.MEDIA_REPLICA) } as typeof env, asset.index, new Date());
    expect(down).toEqual([expect.objectContaining({ pathway: "p2", complete: false, filesDone: 0, error: expect.stringMatching(/MEDIA_REPLICA|replica down/) })]);
    expect(await env.MEDIA.head(mediaKeys.replicas("repl-down"))).toBeNull();
    const back = await replicateAsset(env, asset.index, new Date());
    expect(back[0]!.complete).toBe(true);
    expect(await (await env.MEDIA.get(mediaKeys.replicas("repl-down")))!.json()).toEqual({ version: 1, complete: ["p2"] });
  });

  it("a file damaged on the primary is refused by the replica's checksum: never copied as it is", async () => {
    const asset = await syntheticAsset("repl-damaged", { heights: [240], segments: 2 });
    await upload(asset);
    await api(`/v1/admin/assets/repl-damaged/publish`, { method: "POST" });
    await env.DB.prepare("DELETE FROM asset_replicas WHERE asset_id = 'repl-damaged'").run();
    await Promise.all([env.MEDIA.delete(mediaKeys.replicas("repl-damaged")), env.MEDIA_REPLICA.delete(mediaKeys.replicas("repl-damaged"))]);
    const victim = asset.index.files.find((f) => f.path.endsWith("1.m4s"))!;
    await env.MEDIA_REPLICA.delete(mediaKeys.file("repl-damaged", victim.path));
    await env.MEDIA.put(mediaKeys.file("repl-damaged", victim.path), new Uint8Array(victim.bytes).fill(7));
    const [status] = await replicateAsset(env, asset.index, new Date());
    expect(status).toMatchObject({ pathway: "p2", complete: false, error: expect.stringMatching(/sha-?256|checksum|digest/i) });
    expect(await env.MEDIA_REPLICA.head(mediaKeys.file("repl-damaged", victim.path))).toBeNull();
    // Through the publish route the primary's own check finds it first: a 409 naming the
    // file, never a 500; the replica is not offered.
    const res = await api(`/v1/admin/assets/repl-damaged/publish`, { method: "POST" });
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ error: { code: "CONFLICT", details: { missing: [victim.path] } } });
    expect(await env.MEDIA.head(mediaKeys.replicas("repl-damaged"))).toBeNull();
  });
});

/** A bucket whose every call fails the way the guard reports a dependency down. */
function failingBucket(bucket: R2Bucket): R2Bucket {
  return new Proxy(bucket, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (typeof value !== "function") return value;
      return async () => {
        const { DependencyError } = await import("../../../lib/bindings/guard.ts");
        throw new DependencyError("r2:MEDIA_REPLICA", "fault", "replica down");
      };
    },
  });
}

describe("Play's inline start on an asset on two pathways", () => {
  it("indexes the starting pathway's variants alone, as hls.js's levels are", async () => {
    const asset = await syntheticAsset("repl-start", { heights: [240, 480, 720], segments: 2 });
    await upload(asset);
    await api(`/v1/admin/assets/repl-start/publish`, { method: "POST" });
    const master = await (await media(`/p/${await token("repl-start")}/repl-start/master.m3u8`)).text();
    expect(master).toContain('PATHWAY-ID="p2"');
    const start = startingPoint(master)!;
    const solo = startingPoint(master.split("\n").filter((l) => !l.includes('PATHWAY-ID="p2"') && !l.startsWith("#EXT-X-CONTENT-STEERING")).join("\n").replace(/,PATHWAY-ID="p"/g, ""))!;
    // The same start as the playlist without the replica: an index among the three of `p`.
    expect(start.variant).toBe(solo.variant);
    expect(start.variant).toBeLessThan(3);
    // The requested pathway's URIs are relative, as without steering; none is the replica's.
    expect(start.uris.every((u) => !u.startsWith("/"))).toBe(true);
  });
});

describe("start bundles kept in the api isolate, on a steered master (the token in its URIs)", () => {
  it("serve a second stream of the same title and height with its own token: what the media Worker writes for it", async () => {
    const asset = await syntheticAsset("repl-kept", { heights: [240, 480], segments: 2 });
    await upload(asset);
    await api(`/v1/admin/assets/repl-kept/publish`, { method: "POST" });
    let calls = 0;
    const counting = { fetch: (input: RequestInfo | URL, init?: RequestInit) => (calls++, env.MEDIA_WORKER.fetch(input, init)) } as unknown as Fetcher;
    const keys = await parsePlaybackKeys(env.PLAYBACK_TOKEN_KEYS);
    const grant = async (sessionId: string, maxHeight: number) => {
      const token = await signPlaybackToken({ assetId: "repl-kept", accountId: "a", sessionId, maxHeight, expiresAt: Math.floor(Date.now() / 1000) + 600 }, keys);
      return { token, hlsUrl: `https://marquee.test/p/${token}/repl-kept/master.m3u8` };
    };
    const first = await grant("s1", 2160);
    const second = await grant("s2", 2160);
    const a = await inlinePlaylists({ MEDIA_WORKER: counting }, first, { maxHeight: 2160, country: "FR" }, "r1");
    const b = await inlinePlaylists({ MEDIA_WORKER: counting }, second, { maxHeight: 2160, country: "FR" }, "r2");
    expect(calls).toBe(1);
    expect(a.master).toContain(`/p2/${first.token}/`);
    expect(b.master).not.toContain(first.token);
    expect(b.master).toBe(await (await media(new URL(second.hlsUrl).pathname)).text());
    expect(b.playlists.map((p) => p.url).every((u) => u.includes(`/${second.token}/`))).toBe(true);
    // The init segments and the steering manifest come with it, as the media Worker answers them for this stream.
    expect(b.inits.map((i) => i.url)).toEqual(b.playlists.map((p) => p.url.replace(/playlist\.m3u8$/, "init.m4s")));
    for (const i of b.inits) expect(i.data).toBe(base64UrlEncode(new Uint8Array(await (await media(new URL(i.url).pathname)).arrayBuffer())));
    expect(b.steering).toEqual(await (await media(new URL("steering.hls.json", second.hlsUrl).pathname)).json());
    // Another height is another bundle.
    const low = await inlinePlaylists({ MEDIA_WORKER: counting }, await grant("s3", 240), { maxHeight: 240, country: "FR" }, "r3");
    expect(calls).toBe(2);
    expect(low.master).not.toContain("480p");
  });
});

describe("the operator's steering policy", () => {
  it("PUT stores it in every origin; GET reads it back; the steering server follows it", { timeout: 30_000 }, async () => {
    const asset = await syntheticAsset("steer-admin", { heights: [240], segments: 2 });
    await upload(asset);
    await api(`/v1/admin/assets/steer-admin/publish`, { method: "POST" });
    const put = await putJson("/v1/admin/steering", { priority: ["p2", "p"], countries: { DE: ["p", "p2"] }, note: "drain the primary" });
    expect(put.status).toBe(200);
    const state = (await put.json()) as { pathways: string[]; policy: unknown; updatedAt: string; notWrittenTo: string[] };
    expect(state).toMatchObject({ pathways: ["p", "p2"], policy: { priority: ["p2", "p"] }, notWrittenTo: [] });
    for (const bucket of [env.MEDIA, env.MEDIA_REPLICA]) expect(await (await bucket.get(mediaKeys.steeringPolicy))!.json()).toMatchObject({ version: 1, updatedAt: state.updatedAt });
    expect(await (await api("/v1/admin/steering")).json()).toMatchObject({ pathways: ["p", "p2"], policy: { priority: ["p2", "p"] }, updatedAt: state.updatedAt });
    // The media Worker's isolate reads the policy again within its refresh (REFRESH_MS, 10 s).
    const started = Date.now();
    let priority: unknown;
    const steering = `/p/${await token("steer-admin")}/steer-admin/steering.hls.json`;
    while (Date.now() - started < REFRESH_MS + 3_000) {
      priority = ((await (await media(steering)).json()) as Record<string, unknown>)["PATHWAY-PRIORITY"];
      if (JSON.stringify(priority) === '["p2","p"]') break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(priority).toEqual(["p2", "p"]);
    // Play's inline master starts each viewer where the policy for their country says.
    const initial = async (country: string) => {
      const t = await token("steer-admin");
      const fresh = { fetch: (input: RequestInfo | URL, init?: RequestInit) => env.MEDIA_WORKER.fetch(input, init) } as unknown as Fetcher;
      const inline = await inlinePlaylists({ MEDIA_WORKER: fresh }, { token: t, hlsUrl: `https://marquee.test/p/${t}/steer-admin/master.m3u8` }, { maxHeight: 2160, country }, "r");
      return /#EXT-X-CONTENT-STEERING:[^\n]*PATHWAY-ID="([^"]+)"/.exec(inline.master ?? "")?.[1];
    };
    expect(await initial("FR")).toBe("p2");
    expect(await initial("DE")).toBe("p");
    // An empty policy is the configured order again.
    expect((await putJson("/v1/admin/steering", {})).status).toBe(200);
    expect(await (await api("/v1/admin/steering")).json()).toMatchObject({ policy: {} });
  });

  it("refuses what it cannot apply, with the standard error body, and changes nothing", async () => {
    await putJson("/v1/admin/steering", { priority: ["p"] });
    const before = await (await env.MEDIA.get(mediaKeys.steeringPolicy))!.text();
    const bad: unknown[] = [
      { priority: ["p3"] },
      { priority: ["p", "p"] },
      { priority: [] },
      { countries: { de: ["p"] } },
      { countries: { DE: ["x"] } },
      { priority: ["p"], extra: 1 },
      { note: "x".repeat(201) },
      "not an object",
    ];
    for (const body of bad) {
      const res = await putJson("/v1/admin/steering", body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("VALIDATION_FAILED");
    }
    const huge = await api("/v1/admin/steering", { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ note: "x".repeat(20_000) }) });
    expect(huge.status).toBe(413);
    expect(await (await env.MEDIA.get(mediaKeys.steeringPolicy))!.text()).toBe(before);
  });
});
