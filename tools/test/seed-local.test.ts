// `npm run seed` (and so `npm run dev`) against real local D1 and R2 state: every
// migration (DB's and each watch shard's) and everything the first time, nothing the
// second; the demo media in the primary bucket and the replica's, with the record that the
// replica is complete in both; and the demo catalog is what its generator writes.
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { generateCatalog } from "../demo-catalog/generate.ts";
import { posterSvg } from "../demo-catalog/poster.ts";
import { projectRoot } from "../project.ts";
import { renditionIndexSchema } from "../../lib/media-index.ts";
import { demoCatalogSchema } from "../seed/demo-catalog.ts";
import { localReplicas, seedReplicated, type AssetFiles } from "../seed/demo-media.ts";
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
    // A media file too, byte for byte what was packaged (a text one: --pipe goes through a string here).
    const subs = await wrangler(["r2", "object", "get", "marquee-media-replica/assets/demo-aurora/subs/en.vtt", "--local", "--persist-to", state, "--pipe"], { capture: true });
    expect(subs.code, outputOf(subs)).toBe(0);
    expect(subs.stdout).toBe(await readFile(path.join(projectRoot, "demo/media/assets/demo-aurora/subs/en.vtt"), "utf8"));

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

/** An in-memory bucket with what seeding uses (head, put), logging each put. */
function memoryBucket(name: string, log: string[]) {
  const objects = new Map<string, { bytes: Uint8Array; sha256: string | undefined }>();
  const bucket = {
    async head(key: string) {
      const o = objects.get(key);
      return o ? { size: o.bytes.byteLength, customMetadata: { sha256: o.sha256 } } : null;
    },
    async put(key: string, bytes: Uint8Array, options: { customMetadata?: Record<string, string> }) {
      log.push(`${name} ${key}`);
      objects.set(key, { bytes, sha256: options.customMetadata?.sha256 });
      return {};
    },
  };
  return { objects, bucket: bucket as unknown as R2Bucket };
}

async function demoAsset(): Promise<AssetFiles> {
  const folder = path.join(projectRoot, "demo/media/assets/demo-aurora");
  const indexBytes = new Uint8Array(await readFile(path.join(folder, "index.json")));
  const index = renditionIndexSchema.parse(JSON.parse(new TextDecoder().decode(indexBytes)));
  return { index, indexBytes, read: async (file) => new Uint8Array(await readFile(path.join(folder, file))) };
}

describe("seedReplicated", () => {
  it("copies the asset to each replica, index last in each, then the record to every bucket; again, only what is missing or damaged", async () => {
    const log: string[] = [];
    const primary = memoryBucket("p", log);
    const p2 = memoryBucket("p2", log);
    const p3 = memoryBucket("p3", log);
    const asset = await demoAsset();
    const files = asset.index.files.length + 1;
    const replicas = [
      { pathway: "p3", bucket: p3.bucket },
      { pathway: "p2", bucket: p2.bucket },
    ];

    expect(await seedReplicated(primary.bucket, replicas, asset)).toEqual({ uploaded: files * 3 + 3, unchanged: 0 });
    const index = "assets/demo-aurora/index.json";
    const record = "assets/demo-aurora/replicas.json";
    // Bucket by bucket, each one's index after its files; the record last, after every replica is whole.
    for (const [i, name] of ["p", "p3", "p2"].entries()) {
      const puts = log.slice(i * files, (i + 1) * files);
      expect(puts.every((l) => l.startsWith(`${name} `))).toBe(true);
      expect(puts.at(-1)).toBe(`${name} ${index}`);
    }
    expect(log.slice(files * 3)).toEqual([`p ${record}`, `p3 ${record}`, `p2 ${record}`]);
    for (const replica of [p2, p3]) {
      expect([...replica.objects.keys()].sort()).toEqual([...primary.objects.keys()].sort());
      for (const [key, o] of primary.objects) expect(replica.objects.get(key)!.bytes, key).toEqual(o.bytes);
    }
    expect(JSON.parse(new TextDecoder().decode(p2.objects.get(record)!.bytes))).toEqual({ version: 1, complete: ["p2", "p3"] });

    // A replica file damaged and another replica's index lost: just those two are written again.
    const segment = "assets/demo-aurora/480p/3.m4s";
    p2.objects.set(segment, { bytes: new Uint8Array([1, 2, 3]), sha256: "0".repeat(64) });
    p3.objects.delete(index);
    log.length = 0;
    expect(await seedReplicated(primary.bucket, replicas, asset)).toEqual({ uploaded: 2, unchanged: files * 3 + 3 - 2 });
    expect(log).toEqual([`p3 ${index}`, `p2 ${segment}`]);
    expect(p2.objects.get(segment)!.bytes).toEqual(primary.objects.get(segment)!.bytes);
  });

  it("without replicas writes no record", async () => {
    const log: string[] = [];
    const primary = memoryBucket("p", log);
    await seedReplicated(primary.bucket, [], await demoAsset());
    expect(primary.objects.has("assets/demo-aurora/replicas.json")).toBe(false);
  });
});

describe("localReplicas", () => {
  it("is each R2 replica MEDIA_REPLICAS names, with its local bucket; S3 ones are not local; an unbound one is an error", () => {
    const bucket = {} as R2Bucket;
    expect(localReplicas(undefined, { MEDIA: bucket })).toEqual([]);
    expect(localReplicas("p2=r2:MEDIA_REPLICA,p3=s3:https://s3.eu-central-1.amazonaws.com/marquee@eu-central-1", { MEDIA: {}, MEDIA_REPLICA: bucket })).toEqual([
      { pathway: "p2", bucket },
    ]);
    expect(() => localReplicas("p2=r2:MEDIA_REPLICA", { MEDIA: {} })).toThrow(/no R2 bucket is bound as MEDIA_REPLICA/);
  });
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
