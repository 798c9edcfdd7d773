// The NDJSON bulk import in workerd: good lines land, bad ones are reported by line number,
// a re-import changes nothing, and a 2,000-title request stays under D1's parameter limit.
import { env } from "cloudflare:workers";
import { drizzle } from "drizzle-orm/d1";
import { beforeAll, describe, expect, it } from "vitest";
import { people as peopleTable } from "../../../d1/schema.ts";
import { chunkedInserts, importStatements, MAX_PARAMS, readLines, type ImportLine, importLineSchema } from "../catalog/bulk-import.ts";
import { api, putJson } from "./admin-client.ts";

type Report = { imported: number; failed: { line: number; errors: { path: string; message: string }[] }[]; failedCount: number };

const version = async () => ((await env.DB.prepare("SELECT version FROM versions WHERE name = 'catalog'").first<{ version: number }>())?.version ?? 0);

const importBody = (body: BodyInit, type = "application/x-ndjson") => api("/v1/admin/catalog/import", { method: "POST", headers: { "content-type": type }, body });

async function importLines(lines: string[]): Promise<Report> {
  const res = await importBody(lines.join("\n") + "\n");
  expect(res.status).toBe(200);
  return (await res.json()) as Report;
}

function series(id: string, extra: Record<string, unknown> = {}) {
  return {
    id,
    kind: "series",
    name: `Series ${id}`,
    synopsis: "Episodic.",
    releaseYear: 2021,
    maturityRating: "TV-14",
    genres: ["drama"],
    credits: [
      { name: "Fay Star", role: "cast", character: "Lead" },
      { name: "Gus Maker", role: "creator" },
    ],
    seasons: [
      { number: 1, episodes: [{ number: 1, name: "Pilot", runtimeSec: 1800 }, { number: 2, name: "Second" }] },
      { number: 2, name: "Later", episodes: [{ number: 1, name: "Return" }] },
    ],
    ...extra,
  };
}

const movie = (id: string, extra: Record<string, unknown> = {}) => ({ id, kind: "movie", name: `Movie ${id}`, releaseYear: 2020, maturityRating: "PG", genres: ["comedy"], ...extra });

async function snapshot(): Promise<unknown> {
  const out: Record<string, unknown> = {};
  for (const [table, order] of <[string, string][]>[
    ["titles", "id"],
    ["title_genres", "title_id, genre_id"],
    ["credits", "title_id, person_id, role"],
    ["people", "id"],
    ["seasons", "id"],
    ["episodes", "id"],
  ]) {
    out[table] = (await env.DB.prepare(`SELECT * FROM ${table} ORDER BY ${order}`).all()).results;
  }
  return out;
}

beforeAll(async () => {
  await putJson("/v1/admin/genres/drama", { name: "Drama" });
  await putJson("/v1/admin/genres/comedy", { name: "Comedy" });
});

describe("the bulk import", () => {
  it("imports good lines and reports bad ones by their exact line number, bumping the version once", async () => {
    const before = await version();
    const report = await importLines([
      JSON.stringify(series("imp-series")), // 1
      "{not json", // 2
      "", // 3: blank lines are skipped but counted
      JSON.stringify({ id: "imp-missing", kind: "movie" }), // 4: no name, year or rating
      JSON.stringify(movie("imp-wrong-type", { releaseYear: "1999" })), // 5
      JSON.stringify(movie("imp-movie")), // 6
      JSON.stringify(movie("imp-bad-genre", { genres: ["comedy", "western"] })), // 7
      JSON.stringify(movie("imp-movie-seasons", { seasons: [{ number: 1 }] })), // 8
      JSON.stringify(movie("imp-movie-2", { popularity: 3, availableFrom: "2025-05-01T00:00:00Z" })), // 9
    ]);
    expect(report.imported).toBe(3);
    expect(report.failedCount).toBe(5);
    expect(report.failed.map((f) => f.line)).toEqual([2, 4, 5, 7, 8]);
    const byLine = new Map(report.failed.map((f) => [f.line, f.errors]));
    expect(byLine.get(2)![0]!.message).toMatch(/^not JSON/);
    expect(byLine.get(4)!.map((e) => e.path).sort()).toEqual(["maturityRating", "name", "releaseYear"]);
    expect(byLine.get(5)!.map((e) => e.path)).toEqual(["releaseYear"]);
    expect(byLine.get(7)).toEqual([{ path: "genres.1", message: "no genre western" }]);
    expect(byLine.get(8)!.map((e) => e.path)).toEqual(["seasons"]);
    expect(await version()).toBe(before + 1);

    const title = (await (await api("/v1/admin/titles/imp-series")).json()) as Record<string, unknown>;
    expect(title).toMatchObject({
      kind: "series",
      maturityLevel: 2,
      genres: ["drama"],
      credits: [
        { name: "Fay Star", role: "cast", character: "Lead" },
        { name: "Gus Maker", role: "creator", character: null },
      ],
      seasons: [
        { id: "imp-series-s1", name: "Season 1", episodes: [{ id: "imp-series-s1e1", name: "Pilot", runtimeSec: 1800 }, { id: "imp-series-s1e2", name: "Second" }] },
        { id: "imp-series-s2", name: "Later", episodes: [{ id: "imp-series-s2e1", name: "Return" }] },
      ],
    });
    expect(await (await api("/v1/admin/titles/imp-movie-2")).json()).toMatchObject({ popularity: 3, availableFrom: "2025-05-01T00:00:00.000Z" });
    await expect(api("/v1/admin/titles/imp-bad-genre").then((r) => r.status)).resolves.toBe(404);
  });

  it("is idempotent: re-importing the same file changes no row (not even updated_at)", async () => {
    const lines = [JSON.stringify(series("idem-series")), JSON.stringify(movie("idem-movie", { credits: [{ name: "Fay Star", role: "cast" }] }))];
    expect((await importLines(lines)).imported).toBe(2);
    const first = await snapshot();
    await new Promise((r) => setTimeout(r, 5)); // a later clock, so a rewritten timestamp would show
    expect((await importLines(lines)).imported).toBe(2);
    expect(await snapshot()).toEqual(first);
  });

  it("updates a title in place and replaces its genres and credits, keeping linked videos", async () => {
    await importLines([JSON.stringify(series("upd-series"))]);
    await env.DB.prepare("INSERT INTO assets (id, status, duration_sec, max_height, created_at) VALUES ('upd-asset', 'published', 10, 240, 0)").run();
    await env.DB.prepare("UPDATE episodes SET asset_id = 'upd-asset' WHERE id = 'upd-series-s1e1'").run();
    const report = await importLines([JSON.stringify(series("upd-series", { name: "Renamed", genres: ["comedy"], credits: [{ name: "New Face", role: "cast" }], maturityRating: "TV-Y" }))]);
    expect(report).toEqual({ imported: 1, failed: [], failedCount: 0 });
    const title = (await (await api("/v1/admin/titles/upd-series")).json()) as { name: string; genres: string[]; credits: unknown[]; maturityLevel: number; seasons: { episodes: { assetId: string | null }[] }[] };
    expect(title).toMatchObject({ name: "Renamed", genres: ["comedy"], credits: [{ name: "New Face", role: "cast", character: null }], maturityLevel: 0 });
    expect(title.seasons[0]!.episodes[0]!.assetId).toBe("upd-asset");
  });

  it("lets the later of two lines with the same id win", async () => {
    const report = await importLines([JSON.stringify(movie("twice", { name: "First" })), JSON.stringify(movie("twice", { name: "Second" }))]);
    expect(report.imported).toBe(2);
    expect(((await (await api("/v1/admin/titles/twice")).json()) as { name: string }).name).toBe("Second");
  });

  it("imports 2,000 titles in one request, no statement over D1's 100 parameters", async () => {
    const lines = Array.from({ length: 2000 }, (_, i) =>
      JSON.stringify(
        i % 10 === 0
          ? series(`bulk-${i}`)
          : movie(`bulk-${i}`, { synopsis: `Number ${i}.`, genres: ["comedy", "drama"], credits: [{ name: `Actor ${i % 97}`, role: "cast", character: `Role ${i}` }, { name: `Director ${i % 13}`, role: "director" }] }),
      ),
    );
    const before = await version();
    const report = await importLines(lines);
    expect(report).toEqual({ imported: 2000, failed: [], failedCount: 0 });
    expect(await version()).toBe(before + 1);
    const count = await env.DB.prepare("SELECT count(*) AS n FROM titles WHERE id LIKE 'bulk-%'").first<{ n: number }>();
    expect(count?.n).toBe(2000);
    const links = await env.DB.prepare("SELECT count(*) AS n FROM title_genres WHERE title_id LIKE 'bulk-%'").first<{ n: number }>();
    expect(links?.n).toBe(200 + 1800 * 2);
    // The same statements the import ran, checked directly.
    const parsed = lines.slice(0, 300).map((l) => importLineSchema.parse(JSON.parse(l)) as ImportLine);
    const statements = importStatements(drizzle(env.DB), parsed, new Date());
    expect(statements.length).toBeGreaterThan(20);
    for (const s of statements) expect(s.toSQL().params.length).toBeLessThanOrEqual(MAX_PARAMS);
  });

  it("caps the reported failures and counts them all", async () => {
    const lines = Array.from({ length: 1205 }, () => "nope");
    const report = await importLines(lines);
    expect(report.imported).toBe(0);
    expect(report.failedCount).toBe(1205);
    expect(report.failed).toHaveLength(1000);
    expect(report.failed.at(-1)!.line).toBe(1000);
  });

  it("refuses a body that is not NDJSON (415) and needs the admin token (401)", async () => {
    expect((await importBody(JSON.stringify(movie("x")), "application/json")).status).toBe(415);
    const res = await api("/v1/admin/catalog/import", { method: "POST", headers: { "content-type": "application/x-ndjson" }, body: JSON.stringify(movie("sneaky")) }, {});
    expect(res.status).toBe(401);
    expect(await env.DB.prepare("SELECT id FROM titles WHERE id = 'sneaky'").first()).toBeNull();
  });
});

describe("reading lines", () => {
  const stream = (chunks: string[]) =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (const c of chunks) controller.enqueue(new TextEncoder().encode(c));
        controller.close();
      },
    });
  const all = async (s: ReadableStream<Uint8Array>, max?: number) => {
    const out: (string | null)[] = [];
    for await (const l of readLines(s, max)) out.push(l);
    return out;
  };

  it("joins lines split across chunks (including a split multi-byte character) and handles CRLF and no final newline", async () => {
    const bytes = new TextEncoder().encode("a😀b\r\nsecond\n\nlast");
    const cut = 3; // inside the emoji
    const s = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(bytes.slice(0, cut));
        c.enqueue(bytes.slice(cut));
        c.close();
      },
    });
    expect(await all(s)).toEqual(["a😀b", "second", "", "last"]);
  });

  it("gives null for an over-long line without losing the lines after it", async () => {
    expect(await all(stream(["short\n", "x".repeat(30), "y".repeat(30), "\nafter\n"]), 40)).toEqual(["short", null, "after"]);
  });

  it("chunks inserts by the statement's own parameter count", () => {
    const orm = drizzle(env.DB);
    const rows = Array.from({ length: 120 }, (_, i) => ({ id: `p${i}`, name: `P ${i}` }));
    const statements = chunkedInserts(rows, (r) => orm.insert(peopleTable).values(r));
    expect(statements.map((s) => s.toSQL().params.length)).toEqual([100, 100, 40]);
  });
});
