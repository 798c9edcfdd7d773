// Seeding the demo platform: D1 and R2 written once, and left alone when run again.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { mediaKeys } from "../../../lib/media-layout.ts";
import { asc, eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { credits, episodes, people, titles as titlesTable } from "../../../d1/schema.ts";
import { seedCatalog, type DemoCatalog } from "../../../tools/seed/demo-catalog.ts";
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
    // 1 asset + 2 genres + 2 people + 2 titles + 3 title-genre links + 2 seasons + 3 episodes + 5 credits
    expect(first).toBe(20);
    expect(await seedCatalog(env.DB, smallCatalog, [asset.index], new Date())).toBe(0);

    const titles = await listTitles(env.DB);
    expect(titles.map((t) => [t.id, t.genres, t.runtimeSec])).toEqual([
      ["second-wind", ["Comedy"], null],
      ["first-light", ["Comedy", "Drama"], 4],
    ]);
  });

  it("writes the maturity level, popularity, poster, availability, episodes and credits", async () => {
    const asset = await tinyAsset("asset-one");
    await seedCatalog(env.DB, smallCatalog, [asset.index], new Date("2026-01-01T00:00:00Z"));
    const orm = drizzle(env.DB);
    const rows = await orm.select().from(titlesTable).orderBy(asc(titlesTable.id));
    expect(rows.map((t) => [t.id, t.maturityLevel, t.popularity, t.posterPath, t.availableFrom, t.availableUntil])).toEqual([
      ["first-light", 1, 12.5, "/artwork/first-light.svg", null, null],
      ["second-wind", 2, 40, "/artwork/second-wind.svg", null, new Date("2030-01-01T00:00:00Z")],
    ]);
    const eps = await orm.select().from(episodes).orderBy(asc(episodes.id));
    expect(eps.map((e) => [e.id, e.seasonId, e.number, e.name, e.assetId, e.runtimeSec])).toEqual([
      ["second-wind-s1e1", "second-wind-s1", 1, "Pilot", "asset-one", 4],
      ["second-wind-s1e2", "second-wind-s1", 2, "Relapse", "asset-one", 4],
      ["second-wind-s2e1", "second-wind-s2", 1, "Return", "asset-one", 4],
    ]);
    const crew = await orm.select().from(credits).where(eq(credits.titleId, "second-wind")).orderBy(asc(credits.position));
    expect(crew.map((c) => [c.personId, c.role, c.character, c.position])).toEqual([
      ["ines-marchetti", "creator", null, 0],
      ["ines-marchetti", "cast", "Herself", 1],
      ["kofi-brennan", "cast", "Bram Pike", 2],
    ]);
    expect((await orm.select().from(people)).map((p) => p.name).sort()).toEqual(["Inès Marchetti", "Kofi Brennan"]);
  });

  it("seeds a catalog far bigger than one statement's 100 bound parameters", async () => {
    const asset = await tinyAsset("asset-big");
    const many = 250;
    const catalog: DemoCatalog = {
      genres: [
        { id: "big-1", name: "Big One" },
        { id: "big-2", name: "Big Two" },
      ],
      people: Array.from({ length: many }, (_, i) => ({ id: `p${i}`, name: `Person ${i}` })),
      titles: Array.from({ length: many }, (_, i) => ({
        id: `t${i}`,
        kind: "series" as const,
        name: `Title ${i}`,
        synopsis: "…",
        releaseYear: 1960 + (i % 67),
        maturityRating: "TV-PG",
        popularity: i,
        assetId: null,
        genres: ["big-1", "big-2"],
        credits: [{ personId: `p${i}`, role: "cast" as const, character: "Someone" }],
        seasons: [{ number: 1, name: "Season 1", episodes: [1, 2, 3].map((n) => ({ number: n, name: `E${n}`, synopsis: "", assetId: "asset-big" })) }],
      })),
    };
    // 1 asset + 2 genres + 250 × (person + title + 2 links + season + 3 episodes + credit)
    expect(await seedCatalog(env.DB, catalog, [asset.index], new Date())).toBe(3 + many * 9);
    expect(await seedCatalog(env.DB, catalog, [asset.index], new Date())).toBe(0);
  });

  it("refuses a title whose asset has no rendition index", async () => {
    await expect(seedCatalog(env.DB, smallCatalog, [], new Date())).rejects.toThrow(/asset-one has no rendition index/);
  });

  it("refuses an episode whose asset has no rendition index, and a credit for an unknown person", async () => {
    const asset = await tinyAsset("asset-one");
    const [movie, series] = smallCatalog.titles;
    const episodeOnOther: DemoCatalog = {
      ...smallCatalog,
      titles: [movie!, { ...series!, seasons: [{ number: 1, name: "S1", episodes: [{ number: 1, name: "E", synopsis: "", assetId: "asset-two" }] }] }],
    };
    await expect(seedCatalog(env.DB, episodeOnOther, [asset.index], new Date())).rejects.toThrow(/episode second-wind-s1e1: asset asset-two/);
    await expect(seedCatalog(env.DB, { ...smallCatalog, people: [] }, [asset.index], new Date())).rejects.toThrow(/unknown person/);
  });
});
