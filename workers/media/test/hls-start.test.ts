// The start bundle (GET …/hls-start.json, lib/hls-start.ts): what the api inlines in the Play
// response, in one request instead of three. It must be exactly what the three requests
// would have answered, within the token's height, and nothing for a live event.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { errorBodySchema } from "../../../lib/errors.ts";
import { base64UrlDecode } from "../../../lib/base64url.ts";
import { hlsStartSchema, INIT_INLINE_MAX_BYTES, startingPoint } from "../../../lib/hls-start.ts";
import type { LiveState } from "../../../lib/live/live-state.ts";
import { mediaKeys } from "../../../lib/media-layout.ts";
import { seedSyntheticAsset, syntheticAsset } from "../../../test-support/synthetic-asset.ts";
import { mediaClient, tokenFor } from "./helpers.ts";

const get = mediaClient();

describe("the HLS start bundle", () => {
  it("is the master playlist, its starting point and the media playlists there, each as their own URLs answer them", async () => {
    await seedSyntheticAsset(env.MEDIA, "start-bundle", { heights: [240, 480, 720] });
    for (const maxHeight of [2160, 480]) {
      const base = `/p/${await tokenFor({ assetId: "start-bundle", maxHeight })}/start-bundle/`;
      const { res, text } = await get(`${base}hls-start.json`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      expect(res.headers.get("cache-control")).toBe("private, max-age=30");
      const bundle = hlsStartSchema.parse(JSON.parse(text()));
      expect(bundle.master).toBe((await get(`${base}master.m3u8`)).text());
      const start = startingPoint(bundle.master)!;
      expect(bundle.startVariant).toBe(start.variant);
      expect(bundle.playlists.map((p) => p.uri)).toEqual(start.uris);
      expect(start.uris).toHaveLength(2); // the variant's video and its default audio
      for (const p of bundle.playlists) expect(p.text, p.uri).toBe((await get(`${base}${p.uri}`)).text());
      if (maxHeight === 480) expect(text()).not.toContain("720p");
      // Each playlist's EXT-X-MAP, its URI against the master's, its bytes those the file's own URL answers.
      expect(bundle.inits.map((i) => i.uri)).toEqual(bundle.playlists.map((p) => p.uri.replace(/playlist\.m3u8$/, "init.m4s")));
      for (const i of bundle.inits) expect(base64UrlDecode(i.data), i.uri).toEqual((await get(`${base}${i.uri}`)).body);
      // One pathway: no steering.
      expect(bundle.steering).toBeNull();
    }
  });

  it("leaves out an init segment over its size bound: the player fetches it", async () => {
    await seedSyntheticAsset(env.MEDIA, "start-big-init", { heights: [240], initBytes: INIT_INLINE_MAX_BYTES + 1 });
    const { res, text } = await get(`/p/${await tokenFor({ assetId: "start-big-init" })}/start-big-init/hls-start.json`);
    expect(res.status).toBe(200);
    const bundle = hlsStartSchema.parse(JSON.parse(text()));
    expect(bundle.playlists).toHaveLength(2);
    expect(bundle.inits).toEqual([]);
  });

  it("is read strictly: init bytes only in canonical base64url and within their bound, the steering manifest only with its own keys; older bundles still parse", () => {
    const bundle = { master: "#EXTM3U\n", startVariant: 0, playlists: [] };
    const withInit = (data: string) => hlsStartSchema.safeParse({ ...bundle, inits: [{ uri: "240p/init.m4s", data }] }).success;
    expect(withInit("AAECAw")).toBe(true);
    expect(withInit("AAECAx")).toBe(false); // unused bits set: a sibling of AAECAw
    expect(withInit("AAECAw==")).toBe(false);
    expect(withInit("AAEC+w")).toBe(false);
    expect(withInit("A".repeat(Math.ceil((INIT_INLINE_MAX_BYTES * 4) / 3) + 4))).toBe(false);
    const steering = (s: unknown) => hlsStartSchema.safeParse({ ...bundle, steering: s }).success;
    expect(steering({ VERSION: 1, TTL: 10, "PATHWAY-PRIORITY": ["p", "p2"] })).toBe(true);
    expect(steering({ VERSION: 2, TTL: 10, "PATHWAY-PRIORITY": ["p"] })).toBe(false);
    expect(steering({ VERSION: 1, TTL: 10, "PATHWAY-PRIORITY": ["p"], "RELOAD-URI": "https://elsewhere.example/" })).toBe(false);
    expect(steering({ VERSION: 1, TTL: 10, "PATHWAY-PRIORITY": ['p",x'] })).toBe(false);
    expect(hlsStartSchema.parse(bundle)).toEqual({ ...bundle, inits: [], steering: null });
  });

  it("is refused as the master is: a token below every rendition, a bad token", async () => {
    await seedSyntheticAsset(env.MEDIA, "start-refused", { heights: [480] });
    const low = await get(`/p/${await tokenFor({ assetId: "start-refused", maxHeight: 240 })}/start-refused/hls-start.json`);
    expect(low.res.status).toBe(403);
    expect(errorBodySchema.parse(JSON.parse(low.text())).error.details).toMatchObject({ reason: "rendition_not_allowed" });
    const bad = await get(`/p/not-a-token/start-refused/hls-start.json`);
    expect(bad.res.status).toBe(403);
  });

  it("does not exist for a live event, whose playlists change every segment", async () => {
    const assetId = "live-0123456789abcdef0123abcd";
    const { index } = await syntheticAsset(assetId, { heights: [240], audio: false, extras: false });
    const now = Date.now();
    const state: LiveState = {
      version: 1,
      liveId: assetId,
      assetId,
      writtenAtMs: now,
      startedAtMs: now - 6000,
      targetDurationSec: 2,
      dvrWindowSec: 60,
      discontinuitySequence: 0,
      runStartsMs: [{ startNumber: 1, pdtMs: now - 6000 }],
      video: index.video.map((track) => ({ ...track, init: { bytes: 64, sha256: "0".repeat(64) } })),
      audio: [],
    };
    await env.MEDIA.put(mediaKeys.live(assetId), JSON.stringify(state));
    const base = `/p/${await tokenFor({ assetId })}/${assetId}/`;
    expect((await get(`${base}master.m3u8`)).res.status).toBe(200);
    const { res, text } = await get(`${base}hls-start.json`);
    expect(res.status).toBe(404);
    expect(errorBodySchema.parse(JSON.parse(text())).error).toMatchObject({ code: "NOT_FOUND", message: expect.stringContaining("live event") });
  });
});
