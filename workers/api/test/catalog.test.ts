// Browsing the catalog: filters, stable pages, who sees what, and the versioned cache.
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { describe, expect, it } from "vitest";
import { episodes, genres, seasons, titleGenres, titles } from "../../../d1/schema.ts";
import { errorBodySchema } from "../../../lib/errors.ts";
import { ratingLevel } from "../../../lib/maturity.ts";
import { bumpCatalogVersion } from "../../../d1/catalog-version.ts";
import { call, signUp } from "./auth-client.ts";

const orm = drizzle(env.DB);
const now = Date.now();
type Card = { id: string; name: string; popularity: number; releaseYear: number; kind: string };

async function addTitle(id: string, o: Partial<typeof titles.$inferInsert> = {}) {
  const rating = o.maturityRating ?? "PG";
  await orm.batch([
    orm.insert(titles).values({
      id,
      kind: "movie",
      name: id,
      synopsis: `About ${id}`,
      releaseYear: 2000,
      maturityRating: rating,
      maturityLevel: ratingLevel(rating),
      createdAt: new Date(now),
      updatedAt: new Date(now),
      ...o,
    }),
    bumpCatalogVersion(orm),
  ]);
}

// 30 titles with ties in popularity and year, so ordering must fall back to the id.
await orm.insert(genres).values([{ id: "drama", name: "Drama" }, { id: "comedy", name: "Comedy" }]);
for (let i = 0; i < 30; i++) {
  await addTitle(`t${String(i).padStart(2, "0")}`, { popularity: i % 5, releaseYear: 1990 + (i % 7), kind: i % 4 === 0 ? "series" : "movie" });
  await orm.insert(titleGenres).values({ titleId: `t${String(i).padStart(2, "0")}`, genreId: i % 2 ? "drama" : "comedy" });
}
await addTitle("adult-only", { maturityRating: "TV-MA", popularity: 99 });
await addTitle("not-yet", { availableFrom: new Date(now + 86_400_000), popularity: 98 });
await addTitle("gone", { availableUntil: new Date(now - 1000), popularity: 97 });

async function allPages(query: string, headers: Record<string, string> = {}) {
  const seen: Card[] = [];
  let cursor: string | null = null;
  do {
    const res = await call(`/v1/titles?${query}${cursor ? `&cursor=${cursor}` : ""}`, { headers });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { titles: Card[]; nextCursor: string | null };
    seen.push(...body.titles);
    cursor = body.nextCursor;
  } while (cursor);
  return seen;
}

describe("GET /v1/titles", () => {
  it("pages through every visible title exactly once, in a stable order, for both sorts", async () => {
    for (const sort of ["popularity", "newest"]) {
      const paged = await allPages(`sort=${sort}&limit=7`);
      const whole = (await (await call(`/v1/titles?sort=${sort}&limit=100`)).json()) as { titles: Card[] };
      expect(paged.map((t) => t.id)).toEqual(whole.titles.map((t) => t.id));
      expect(new Set(paged.map((t) => t.id)).size).toBe(31); // 30 + adult-only; not-yet and gone are hidden
    }
    const byPopularity = await allPages("sort=popularity&limit=5");
    for (let i = 1; i < byPopularity.length; i++) expect(byPopularity[i - 1]!.popularity).toBeGreaterThanOrEqual(byPopularity[i]!.popularity);
    const newest = await allPages("sort=newest&limit=5");
    for (let i = 1; i < newest.length; i++) expect(newest[i - 1]!.releaseYear).toBeGreaterThanOrEqual(newest[i]!.releaseYear);
  });

  it("filters by genre and type", async () => {
    const drama = await allPages("genre=drama&limit=50");
    expect(drama).toHaveLength(15);
    const series = await allPages("type=series&limit=50");
    expect(series.every((t) => t.kind === "series")).toBe(true);
    expect(series).toHaveLength(8);
    // Drama is the odd indexes, series every fourth: none is both.
    expect(await allPages("genre=drama&type=series")).toHaveLength(0);
  });

  it("refuses a cursor it did not give out, or one from the other sort", async () => {
    for (const cursor of ["nonsense", "eyJzIjoiaGFja2VkIn0"]) {
      const res = await call(`/v1/titles?cursor=${cursor}`);
      expect(res.status).toBe(400);
      expect(errorBodySchema.parse(await res.json()).error.code).toBe("VALIDATION_FAILED");
    }
    const first = (await (await call("/v1/titles?sort=newest&limit=2")).json()) as { nextCursor: string };
    expect((await call(`/v1/titles?sort=popularity&cursor=${first.nextCursor}`)).status).toBe(400);
    expect((await call("/v1/titles?limit=1000")).status).toBe(400);
  });
});

describe("who sees what", () => {
  it("a kids profile never sees a title above its level, in lists or by id", async () => {
    const m = await signUp();
    const kid = (await (await call("/v1/profiles", { json: { name: "Kid", isKids: true }, headers: m.headers })).json()) as { id: string };
    await call(`/v1/profiles/${kid.id}/enter`, { json: {}, headers: m.headers });
    const seen = await allPages("limit=50", m.headers);
    expect(seen.map((t) => t.id)).not.toContain("adult-only");
    expect((await call("/v1/titles/adult-only", { headers: m.headers })).status).toBe(404);
    // Signed out, everything available is listed.
    expect((await allPages("limit=50")).map((t) => t.id)).toContain("adult-only");
    expect((await call("/v1/titles/adult-only")).status).toBe(200);
  });

  it("titles outside their availability window are invisible", async () => {
    expect((await call("/v1/titles/not-yet")).status).toBe(404);
    expect((await call("/v1/titles/gone")).status).toBe(404);
    const ids = (await allPages("limit=50")).map((t) => t.id);
    expect(ids).not.toContain("not-yet");
    expect(ids).not.toContain("gone");
  });
});

describe("GET /v1/titles/:id", () => {
  it("gives a series with its genres, seasons and episodes", async () => {
    await addTitle("saga", { kind: "series", name: "The Saga" });
    await orm.batch([
      orm.insert(titleGenres).values({ titleId: "saga", genreId: "drama" }),
      orm.insert(seasons).values([{ id: "saga-s1", titleId: "saga", number: 1, name: "Season 1" }, { id: "saga-s2", titleId: "saga", number: 2, name: "Season 2" }]),
      orm.insert(episodes).values([
        { id: "saga-s2e1", seasonId: "saga-s2", number: 1, name: "Later", synopsis: "", createdAt: new Date(now), updatedAt: new Date(now) },
        { id: "saga-s1e2", seasonId: "saga-s1", number: 2, name: "Second", synopsis: "", createdAt: new Date(now), updatedAt: new Date(now) },
        { id: "saga-s1e1", seasonId: "saga-s1", number: 1, name: "First", synopsis: "", createdAt: new Date(now), updatedAt: new Date(now) },
      ]),
      bumpCatalogVersion(orm),
    ]);
    const body = (await (await call("/v1/titles/saga")).json()) as { name: string; genres: unknown[]; seasons: { number: number; episodes: { name: string; playable: boolean }[] }[] };
    expect(body.name).toBe("The Saga");
    expect(body.genres).toEqual([{ id: "drama", name: "Drama" }]);
    expect(body.seasons.map((s) => [s.number, s.episodes.map((e) => e.name)])).toEqual([
      [1, ["First", "Second"]],
      [2, ["Later"]],
    ]);
    expect(body.seasons[0]!.episodes[0]!.playable).toBe(false);
    expect((await call("/v1/titles/no-such-title")).status).toBe(404);
  });
});

/**
 * Runs `f` until one run starts and ends in the same clock minute: the edge cache's key
 * includes the minute, so a HIT expected across a minute boundary would be a MISS.
 */
async function inOneMinute(f: () => Promise<void>): Promise<void> {
  for (;;) {
    const minute = Math.floor(Date.now() / 60_000);
    await f();
    if (Math.floor(Date.now() / 60_000) === minute) return;
  }
}

describe("caching", () => {
  it("keys on the validated query only: junk parameters, repeats and other spellings hit the same entry", async () => {
    await bumpCatalogVersion(orm).run();
    await inOneMinute(async () => {
      expect((await call("/v1/titles?genre=drama&r=1")).headers.get("x-cache")).toBe("MISS");
      for (const variant of ["r=2", "r=3&utm_source=x", "limit=24", "limit=024", "sort=popularity", "genre=drama", "r=1&r=2"]) {
        const query = variant.includes("genre") ? variant : `genre=drama&${variant}`;
        expect((await call(`/v1/titles?${query}`)).headers.get("x-cache"), query).toBe("HIT");
      }
      // Parameters in another order are the same read.
      expect((await call("/v1/titles?limit=5&genre=drama")).headers.get("x-cache")).toBe("MISS");
      expect((await call("/v1/titles?genre=drama&limit=5&zzz=1")).headers.get("x-cache")).toBe("HIT");
      // A path parameter counts as the route decoded it.
      expect((await call("/v1/titles/t07?x=1")).headers.get("x-cache")).toBe("MISS");
      expect((await call("/v1/titles/t%307?x=2")).headers.get("x-cache")).toBe("HIT");
      // Search: the trimmed text and the limit, nothing else.
      expect((await call("/v1/search?q=t05&nonce=1")).headers.get("x-cache")).toBe("MISS");
      expect((await call("/v1/search?q=%20t05%20&nonce=2&limit=20")).headers.get("x-cache")).toBe("HIT");
    });
  });

  it("serves repeats from the edge cache, shows an edit on the next request, and answers 304", async () => {
    const first = await call("/v1/titles/t05");
    expect(first.headers.get("x-cache")).toBe("MISS");
    const etag = first.headers.get("etag")!;
    expect(first.headers.get("x-d1-bookmark")).not.toBeNull();
    const again = await call("/v1/titles/t05");
    expect(again.headers.get("x-cache")).toBe("HIT");
    expect(again.headers.get("etag")).toBe(etag);
    expect((await call("/v1/titles/t05", { headers: { "If-None-Match": etag } })).status).toBe(304);

    // An admin-style write bumps the version in its own batch: no purge, no stale read.
    await orm.batch([orm.update(titles).set({ name: "Renamed" }).where(eq(titles.id, "t05")), bumpCatalogVersion(orm)]);
    const after = await call("/v1/titles/t05", { headers: { "If-None-Match": etag } });
    expect(after.status).toBe(200);
    expect(after.headers.get("x-cache")).toBe("MISS");
    expect(((await after.json()) as { name: string }).name).toBe("Renamed");
  });
});
