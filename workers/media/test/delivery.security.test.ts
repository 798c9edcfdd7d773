// What the media Worker refuses, always with the standard error body and never a 500.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { errorBodySchema } from "../../../lib/errors.ts";
import { base64UrlEncode } from "../../../lib/base64url.ts";
import { seedSyntheticAsset } from "../../../test-support/synthetic-asset.ts";
import { mediaClient, tokenFor } from "./helpers.ts";

async function expectError(result: { res: Response; text: () => string }, status: number, code: string, reason?: string) {
  expect(result.res.status).toBe(status);
  const body = errorBodySchema.parse(JSON.parse(result.text()));
  expect(body.error.code).toBe(code);
  if (reason) expect((body.error.details as { reason: string }).reason).toBe(reason);
}

await seedSyntheticAsset(env.MEDIA, "sec-asset", { heights: [240, 480, 720] });
await seedSyntheticAsset(env.MEDIA, "sec-other");

describe("tokens", () => {
  it("refuse a malformed, tampered, expired, foreign-key or other-asset token with 403", async () => {
    const get = mediaClient();
    const valid = await tokenFor({ assetId: "sec-asset" });
    const [payload, sig] = valid.split(".");
    const otherKey = `k9:${base64UrlEncode(new Uint8Array(32).fill(7))}`;
    const cases: [string, string][] = [
      ["not-a-token", "malformed"],
      [`${payload}.${sig!.slice(0, -2)}AA`, "bad_signature"],
      [await tokenFor({ assetId: "sec-asset", expiresAt: Math.floor(Date.now() / 1000) - 1 }), "expired"],
      [await tokenFor({ assetId: "sec-asset" }, otherKey), "unknown_key"],
      [await tokenFor({ assetId: "sec-other" }), "other_asset"],
    ];
    for (const [token, reason] of cases) {
      await expectError(await get(`/p/${token}/sec-asset/master.m3u8`), 403, "FORBIDDEN", reason);
      await expectError(await get(`/p/${token}/sec-asset/240p/1.m4s`), 403, "FORBIDDEN", reason);
    }
  });
});

describe("renditions above the token's height", () => {
  it("are refused with 403 even when asked for directly", async () => {
    const get = mediaClient();
    const token = await tokenFor({ assetId: "sec-asset", maxHeight: 480 });
    for (const path of ["720p/playlist.m3u8", "720p/init.m4s", "720p/1.m4s"]) {
      await expectError(await get(`/p/${token}/sec-asset/${path}`), 403, "FORBIDDEN", "rendition_not_allowed");
    }
    expect((await get(`/p/${token}/sec-asset/480p/1.m4s`)).res.status).toBe(200);
    expect((await get(`/p/${token}/sec-asset/audio-en/1.m4s`)).res.status).toBe(200);
  });

  it("are judged by the short side, so a portrait 720x1280 rendition is 720p", async () => {
    await seedSyntheticAsset(env.MEDIA, "sec-portrait", { heights: [240, 720], portrait: true });
    const get = mediaClient();
    const token = await tokenFor({ assetId: "sec-portrait", maxHeight: 720 });
    const master = await get(`/p/${token}/sec-portrait/master.m3u8`);
    expect(master.text()).toContain("RESOLUTION=720x1280");
    const lower = await tokenFor({ assetId: "sec-portrait", maxHeight: 480 });
    expect((await get(`/p/${lower}/sec-portrait/master.m3u8`)).text()).not.toContain("720p/");
    await expectError(await get(`/p/${lower}/sec-portrait/720p/1.m4s`), 403, "FORBIDDEN", "rendition_not_allowed");
  });

  it("leave no manifest when not even the lowest fits", async () => {
    const token = await tokenFor({ assetId: "sec-asset", maxHeight: 144 });
    await expectError(await mediaClient()(`/p/${token}/sec-asset/master.m3u8`), 403, "FORBIDDEN", "rendition_not_allowed");
    await expectError(await mediaClient()(`/p/${token}/sec-asset/manifest.mpd`), 403, "FORBIDDEN", "rendition_not_allowed");
  });
});

describe("unknown things", () => {
  it("answer 404 for an unknown asset, rendition, segment number or file", async () => {
    const get = mediaClient();
    const unknownAsset = await tokenFor({ assetId: "no-such-asset" });
    await expectError(await get(`/p/${unknownAsset}/no-such-asset/master.m3u8`), 404, "NOT_FOUND");
    const token = await tokenFor({ assetId: "sec-asset" });
    for (const path of ["1080p/playlist.m3u8", "1080p/1.m4s", "240p/4.m4s", "240p/0.m4s", "subs/fr.vtt", "subs/fr.m3u8", "index.json", "nothing"]) {
      await expectError(await get(`/p/${token}/sec-asset/${path}`), 404, "NOT_FOUND");
    }
  });

  it("never let a path reach outside the asset's listed files", async () => {
    const get = mediaClient();
    const token = await tokenFor({ assetId: "sec-asset" });
    for (const path of [
      "%2e%2e/sec-other/240p/1.m4s",
      "..%2fsec-other%2f240p%2f1.m4s",
      "240p/..%2f..%2fsec-other%2findex.json",
      "240p%2f1.m4s",
      "240p/1.m4s%00",
      "thumbs/../index.json",
    ]) {
      const { res, text } = await get(`/p/${token}/sec-asset/${path}`);
      expect([403, 404], path).toContain(res.status);
      errorBodySchema.parse(JSON.parse(text()));
    }
  });

  it("answer 416 with the size for a range past the end", async () => {
    const token = await tokenFor({ assetId: "sec-asset" });
    const result = await mediaClient()(`/p/${token}/sec-asset/240p/1.m4s`, { headers: { Range: "bytes=999999-" } });
    await expectError(result, 416, "RANGE_NOT_SATISFIABLE");
    expect(result.res.headers.get("content-range")).toBe(`bytes */${2048 + 1}`);
  });
});

/** The reads that load an asset (its index and skip segments), which these faults spare. */
const loadsAsset = (key: string) => key.endsWith("/index.json") || key.endsWith("/skip-segments.json");

describe("a failing media store", () => {
  it("turns an R2 error on a miss into a retryable 503", async () => {
    const token = await tokenFor({ assetId: "sec-asset" });
    const broken = new Proxy(env.MEDIA, {
      get: (target, prop) =>
        prop === "get"
          ? (key: string) => (loadsAsset(key) ? target.get(key) : Promise.reject(new Error("R2 is down")))
          : Reflect.get(target, prop).bind(target),
    });
    const result = await mediaClient({ bucket: broken })(`/p/${token}/sec-asset/480p/2.m4s`);
    await expectError(result, 503, "UNAVAILABLE");
    expect(result.res.headers.get("retry-after")).toBe("2");
  });

  it("turns an R2 read that never answers into a 503, not a hang", async () => {
    const token = await tokenFor({ assetId: "sec-asset" });
    const hanging = new Proxy(env.MEDIA, {
      get: (target, prop) =>
        prop === "get"
          ? (key: string) => (loadsAsset(key) ? target.get(key) : new Promise(() => {}))
          : Reflect.get(target, prop).bind(target),
    });
    const result = await mediaClient({ bucket: hanging, r2TimeoutMs: 50 })(`/p/${token}/sec-asset/480p/3.m4s`);
    await expectError(result, 503, "UNAVAILABLE");
  });

  it("turns a file listed in the index but missing from R2 into a 503", async () => {
    await seedSyntheticAsset(env.MEDIA, "sec-missing-file");
    await env.MEDIA.delete("assets/sec-missing-file/240p/2.m4s");
    const token = await tokenFor({ assetId: "sec-missing-file" });
    await expectError(await mediaClient()(`/p/${token}/sec-missing-file/240p/2.m4s`), 503, "UNAVAILABLE");
  });

  it("turns a corrupt index into a 503", async () => {
    await env.MEDIA.put("assets/sec-corrupt/index.json", "{ not json");
    const token = await tokenFor({ assetId: "sec-corrupt" });
    await expectError(await mediaClient()(`/p/${token}/sec-corrupt/master.m3u8`), 503, "UNAVAILABLE");
  });
});
