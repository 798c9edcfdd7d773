// Seeding the demo platform: D1 and R2 written once, and left alone when run again.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { mediaKeys } from "../../../lib/media-layout.ts";
import { seedCatalog } from "../../../tools/seed/demo-catalog.ts";
import { seedAsset } from "../../../tools/seed/demo-media.ts";
import { listTitles } from "../catalog/list-titles.ts";
import { smallCatalog, tinyAsset } from "./fixtures.ts";

describe("seedAsset", () => {
  it("uploads every file, then skips every file already there intact", async () => {
    const asset = await tinyAsset("asset-seed-twice");
    expect(await seedAsset(env.MEDIA, asset)).toEqual({ uploaded: 4, unchanged: 0 });
    expect(await seedAsset(env.MEDIA, asset)).toEqual({ uploaded: 0, unchanged: 4 });
    const segment = await env.MEDIA.get(mediaKeys.segment("asset-seed-twice", "240p", 1));
    expect(new Uint8Array(await segment!.arrayBuffer())).toEqual(asset.files.get("240p/1.m4s"));
    expect(segment!.httpMetadata?.contentType).toBe("video/iso.segment");
    const init = await env.MEDIA.head(mediaKeys.init("asset-seed-twice", "240p"));
    expect(init!.httpMetadata?.contentType).toBe("video/mp4");
  });

  it("replaces a file whose stored bytes differ", async () => {
    const asset = await tinyAsset("asset-repair");
    await seedAsset(env.MEDIA, asset);
    await env.MEDIA.put(mediaKeys.segment("asset-repair", "240p", 2), new Uint8Array([0, 0]));
    expect(await seedAsset(env.MEDIA, asset)).toEqual({ uploaded: 1, unchanged: 3 });
  });

  it("refuses a file that does not match index.json, before the asset becomes visible", async () => {
    const asset = await tinyAsset("asset-corrupt");
    const corrupt = { ...asset, read: async (path: string) => (path === "240p/2.m4s" ? new Uint8Array([9, 9]) : asset.read(path)) };
    await expect(seedAsset(env.MEDIA, corrupt)).rejects.toThrow(/does not match its sha256/);
    expect(await env.MEDIA.head(mediaKeys.index("asset-corrupt"))).toBeNull();
  });
});

describe("seedCatalog", () => {
  it("inserts the catalog once, and nothing on a second run", async () => {
    const asset = await tinyAsset("asset-one");
    const first = await seedCatalog(env.DB, smallCatalog, [asset.index], new Date("2026-01-01T00:00:00Z"));
    // 1 asset + 2 genres + 2 titles + 3 title-genre links
    expect(first).toBe(8);
    expect(await seedCatalog(env.DB, smallCatalog, [asset.index], new Date())).toBe(0);

    const titles = await listTitles(env.DB);
    expect(titles.map((t) => [t.id, t.genres, t.runtimeSec])).toEqual([
      ["second-wind", ["Comedy"], null],
      ["first-light", ["Comedy", "Drama"], 4],
    ]);
  });

  it("refuses a title whose asset has no rendition index", async () => {
    await expect(seedCatalog(env.DB, smallCatalog, [], new Date())).rejects.toThrow(/asset-one has no rendition index/);
  });
});
