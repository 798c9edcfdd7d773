// `npm run seed` (and so `npm run dev`) against real local D1 and R2 state: every
// migration (DB's and each watch shard's) and everything the first time, nothing the
// second; and the demo catalog is what its generator writes.
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { generateCatalog } from "../demo-catalog/generate.ts";
import { posterSvg } from "../demo-catalog/poster.ts";
import { projectRoot } from "../project.ts";
import { demoCatalogSchema } from "../seed/demo-catalog.ts";
import { seedLocal } from "../seed.ts";
import { outputOf, wrangler } from "../wrangler.ts";

const state = await mkdtemp(path.join(tmpdir(), "marquee-seed-"));
afterAll(() => rm(state, { recursive: true, force: true }));

const catalog = demoCatalogSchema.parse(JSON.parse(await readFile(path.join(projectRoot, "demo/catalog.json"), "utf8")));

describe("seedLocal", () => {
  it("seeds the demo media and catalog once; a second run changes nothing", async () => {
    const seasons = catalog.titles.flatMap((t) => t.seasons ?? []);
    const expectedRows =
      1 + // the demo asset
      catalog.genres.length +
      (catalog.people ?? []).length +
      catalog.titles.length +
      catalog.titles.reduce((n, t) => n + t.genres.length, 0) +
      seasons.length +
      seasons.reduce((n, s) => n + s.episodes.length, 0) +
      catalog.titles.reduce((n, t) => n + (t.credits ?? []).length, 0);

    const sql = async (folder: string) => (await readdir(path.join(projectRoot, folder))).filter((f) => f.endsWith(".sql")).sort();
    const [main, watch] = [await sql("d1/migrations"), await sql("d1/watch-migrations")];

    const first = await seedLocal(state, { quiet: true });
    // EVENT_SHARDS = "2" at the top level of wrangler.toml: two local watch shards.
    expect(first.migrated).toEqual([
      { binding: "DB", applied: main },
      { binding: "WATCH_0", applied: watch },
      { binding: "WATCH_1", applied: watch },
    ]);
    // 32 listed files + index.json, in the primary bucket and the replica's (MEDIA_REPLICAS
    // = "p2=r2:MEDIA_REPLICA"), then the record that the replica is complete in each.
    expect(first.filesUploaded).toBe(33 * 2 + 2);
    expect(first.filesUnchanged).toBe(0);
    expect(first.rowsInserted).toBe(expectedRows);

    // A shard has the watch schema, in its own database (not DB's tables).
    const query = ["d1", "execute", "WATCH_1", "--local", "--persist-to", state, "--json", "--command", "SELECT name FROM sqlite_master WHERE type = 'table'"];
    const out = await wrangler(query, { capture: true });
    expect(out.code, outputOf(out)).toBe(0);
    const shardTables = (JSON.parse(out.stdout) as { results: { name: string }[] }[])[0]!.results.map((r) => r.name);
    expect(shardTables).toContain("watch_events");
    expect(shardTables).not.toContain("titles");

    // The replica holds the asset, and both buckets say so.
    for (const bucket of ["marquee-media", "marquee-media-replica"]) {
      const record = await wrangler(["r2", "object", "get", `${bucket}/assets/demo-aurora/replicas.json`, "--local", "--persist-to", state, "--pipe"], { capture: true });
      expect(record.code, outputOf(record)).toBe(0);
      expect(JSON.parse(record.stdout)).toEqual({ version: 1, complete: ["p2"] });
    }
    const replicaIndex = await wrangler(["r2", "object", "get", "marquee-media-replica/assets/demo-aurora/index.json", "--local", "--persist-to", state, "--pipe"], { capture: true });
    expect(JSON.parse(replicaIndex.stdout)).toMatchObject({ assetId: "demo-aurora" });

    const second = await seedLocal(state, { quiet: true });
    expect(second).toEqual({
      migrated: [
        { binding: "DB", applied: [] },
        { binding: "WATCH_0", applied: [] },
        { binding: "WATCH_1", applied: [] },
      ],
      filesUploaded: 0,
      filesUnchanged: 33 * 2 + 2,
      rowsInserted: 0,
    });
  }, 240_000); // seven wrangler runs (three databases migrated twice, a query) of seconds each, two platform proxies
});

describe("the demo catalog", () => {
  it("is exactly what tools/demo-catalog/generate.ts writes, posters included", async () => {
    expect(catalog).toEqual(generateCatalog());
    for (const t of catalog.titles) {
      expect(t.posterPath).toBe(`/artwork/${t.id}.svg`);
      expect(await readFile(path.join(projectRoot, "web/public", t.posterPath!), "utf8")).toBe(posterSvg(t.id, t.name, t.releaseYear));
    }
  });

  it("is believable: 100+ titles, every rating, movies and episodes that play the demo asset", () => {
    expect(catalog.titles.length).toBeGreaterThanOrEqual(100);
    const ratings = new Set(catalog.titles.map((t) => t.maturityRating));
    for (const r of ["G", "PG", "PG-13", "R", "TV-Y", "TV-Y7", "TV-PG", "TV-14", "TV-MA"]) expect(ratings).toContain(r);
    for (const t of catalog.titles) {
      if (t.kind === "movie") expect(t.assetId).toBe("demo-aurora");
      else {
        expect(t.assetId).toBeNull();
        expect(t.seasons?.length).toBeGreaterThanOrEqual(1);
        expect(t.seasons?.length).toBeLessThanOrEqual(3);
        for (const s of t.seasons ?? []) {
          expect(s.episodes.length).toBeGreaterThanOrEqual(2);
          expect(s.episodes.length).toBeLessThanOrEqual(6);
          for (const e of s.episodes) expect(e.assetId).toBe("demo-aurora");
        }
      }
    }
    const now = new Date("2026-11-26T00:00:00Z").toISOString();
    expect(catalog.titles.filter((t) => t.availableFrom && t.availableFrom > now)).toHaveLength(1);
    expect(catalog.titles.filter((t) => t.availableUntil && t.availableUntil <= now)).toHaveLength(1);
  });
});
