// The home page: which rows each kind of profile gets and why, what personal rows leave
// out, maturity, My List and thumbs, two D1 round trips, and the fallbacks when D1, the
// recommendation step or the cache fails. Viewing comes through the real consumer.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { drizzle } from "drizzle-orm/d1";
import { beforeAll, describe, expect, it } from "vitest";
import { genres, titleGenres, titles } from "../../../d1/schema.ts";
import { errorBodySchema } from "../../../lib/errors.ts";
import { ratingLevel } from "../../../lib/maturity.ts";
import { createApp } from "../app.ts";
import { homePage, type HomeDeps, type HomePage } from "../home/home-page.ts";
import { call } from "./auth-client.ts";
import { countingD1 } from "./counting-d1.ts";
import { deliver, eventually, fromStreams, message, watchEvent } from "./events-client.ts";
import { anotherDevice, memberOn } from "./playback-client.ts";
import { shardOf } from "../../../lib/watch-shard-of.ts";
import { shardsOf } from "../../../lib/watch-shards/shards.ts";

const DRAMAS = Array.from({ length: 8 }, (_, i) => `drama-${i}`);
const COMEDIES = Array.from({ length: 8 }, (_, i) => `comedy-${i}`);
const THRILLERS = Array.from({ length: 6 }, (_, i) => `thriller-${i}`);

/** 22 titles in three genres; comedies most popular (the popularity baseline), two thrillers adult-only. */
async function seedCatalog() {
  const orm = drizzle(env.DB);
  const now = new Date();
  await orm.insert(genres).values([{ id: "drama", name: "Drama" }, { id: "comedy", name: "Comedy" }, { id: "thriller", name: "Thriller" }]);
  const title = (id: string, popularity: number, rating = "PG", releaseYear = 2010) => ({
    id, kind: "movie" as const, name: id.replace("-", " "), synopsis: id, releaseYear, maturityRating: rating, maturityLevel: ratingLevel(rating), popularity, posterPath: `/artwork/${id}.svg`, createdAt: now, updatedAt: now,
  });
  // One statement per genre: D1 binds at most 100 parameters a statement.
  await orm.insert(titles).values(DRAMAS.map((id, i) => title(id, 10 - i)));
  await orm.insert(titles).values(COMEDIES.map((id, i) => title(id, 100 - i, "PG", 2020 + i)));
  await orm.insert(titles).values(THRILLERS.map((id, i) => title(id, 50 - i, i < 2 ? "R" : "PG-13")));
  await orm.insert(titleGenres).values([
    ...DRAMAS.map((titleId) => ({ titleId, genreId: "drama" })),
    ...COMEDIES.map((titleId) => ({ titleId, genreId: "comedy" })),
    ...THRILLERS.map((titleId) => ({ titleId, genreId: "thriller" })),
  ]);
}

/** A viewer who starts `ids` in order, each in its own delivered batch (as a day of viewing would arrive). */
async function watches(accountId: string, profileId: string, ids: string[], country = "FR") {
  let at = Date.now() - 3_600_000;
  for (const titleId of ids) {
    await deliver([message(accountId, watchEvent(profileId, { type: "start", titleId, positionSec: 0, clientTime: (at += 1000) }), { country })]);
  }
}

async function home(headers: Record<string, string>, profileId: string, o: { country?: string; env?: Partial<typeof env> } = {}) {
  const ctx = createExecutionContext();
  const req = new Request(`https://marquee.test/v1/home?profile=${profileId}`, { headers, cf: { country: o.country ?? "FR" } } as RequestInit);
  const res = await createApp().request(req, undefined, { ...env, ...o.env }, ctx);
  await waitOnExecutionContext(ctx);
  return { res, page: (res.status === 200 ? await res.json() : null) as HomePage };
}

/** A call from the same place as `home()` (France): the cached page it invalidates is that location's and country's. */
function callHere(path: string, init: { method?: string; headers?: Record<string, string>; json?: unknown } = {}) {
  return exports.default.fetch(
    new Request(`https://marquee.test${path}`, {
      method: init.method ?? (init.json === undefined ? "GET" : "POST"),
      headers: { ...(init.json === undefined ? {} : { "content-type": "application/json" }), ...init.headers },
      body: init.json === undefined ? undefined : JSON.stringify(init.json),
      cf: { country: "FR" },
    } as RequestInit),
  );
}

const row = (page: HomePage, id: string) => page.rows.find((r) => r.id === id);
const ids = (page: HomePage, id: string) => row(page, id)?.items.map((i) => i.id) ?? [];

beforeAll(async () => {
  await seedCatalog();
  // The crowd: 12 drama fans and 6 comedy fans, each starting four titles of their genre.
  for (let i = 0; i < 12; i++) {
    const m = await memberOn(null);
    await watches(m.accountId, m.profileId, [0, 1, 2, 3].map((k) => DRAMAS[(i + k) % 8]!));
  }
  for (let i = 0; i < 6; i++) {
    const m = await memberOn(null);
    await watches(m.accountId, m.profileId, [0, 1, 2].map((k) => COMEDIES[(i + k) % 8]!), "US");
  }
}, 60_000);

describe("a profile with a viewing history", () => {
  it("gets its rows: Continue Watching, Top 10 here, Trending, Because you watched, Top picks, New releases, genres by taste", async () => {
    const m = await memberOn("standard");
    await watches(m.accountId, m.profileId, [DRAMAS[0]!, DRAMAS[1]!]);
    // Half-way through drama-1; drama-0 finished.
    await deliver([message(m.accountId, watchEvent(m.profileId, { titleId: DRAMAS[1]!, positionSec: 600, durationSec: 6000 }))]);
    await deliver([message(m.accountId, watchEvent(m.profileId, { titleId: DRAMAS[0]!, type: "complete", positionSec: 5990, durationSec: 6000 }))]);
    const { res, page } = await home(m.headers, m.profileId);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-cache")).toBe("MISS");
    const order = page.rows.map((r) => r.id);
    expect(order.slice(0, 4)).toEqual(["continue-watching", "top-10", "trending", "top-picks"]);
    expect(row(page, "continue-watching")!.items).toEqual([expect.objectContaining({ id: DRAMAS[1], progress: expect.objectContaining({ positionSec: 600, fraction: 0.1 }) })]);

    const top10 = row(page, "top-10")!;
    expect(top10).toMatchObject({ heading: "Top 10 in France today", reason: { type: "top_10", country: "FR" } });
    expect(top10.items.every((i) => i.id.startsWith("drama-"))).toBe(true);
    expect(top10.items.map((i) => i.rank)).toEqual(top10.items.map((_, i) => i + 1));
    expect(row(page, "trending")!.reason.type).toBe("trending");

    // Personal rows: dramas, never what it finished (drama-0) or is watching (drama-1).
    const picks = row(page, "top-picks")!;
    expect(picks.reason.type).toBe("top_picks");
    expect(picks.heading).toMatch(/^Top picks for /);
    expect(picks.items.length).toBeGreaterThanOrEqual(4);
    expect(picks.items.every((i) => i.id.startsWith("drama-"))).toBe(true);
    expect(ids(page, "top-picks")).not.toContain(DRAMAS[0]);
    expect(ids(page, "top-picks")).not.toContain(DRAMAS[1]);
    const because = page.rows.find((r) => r.reason.type === "because_you_watched")!;
    expect(because.heading).toMatch(/^Because you watched drama [01]$/);
    expect(because.items.every((i) => i.id.startsWith("drama-") && i.id !== DRAMAS[0] && i.id !== DRAMAS[1])).toBe(true);

    expect(row(page, "new-releases")!.items[0]!.id).toBe("comedy-7");
    // Genre rows in the order of its taste: drama first.
    const genreRows = page.rows.filter((r) => r.reason.type === "genre").map((r) => r.id);
    expect(genreRows[0]).toBe("genre-drama");
    expect(genreRows).toContain("genre-comedy");
    expect(page.degraded).toEqual([]);
  });

  it("is cached for a short time: the next request is a hit with the same rows", async () => {
    const m = await memberOn("standard");
    await watches(m.accountId, m.profileId, [COMEDIES[0]!]);
    const first = await home(m.headers, m.profileId);
    const second = await home(m.headers, m.profileId);
    expect(second.res.headers.get("x-cache")).toBe("HIT");
    expect(second.page.rows).toEqual(first.page.rows);
  });
});

describe("right after watching", () => {
  it("the page is not served from the cache until the new viewing has landed: Continue Watching shows it", async () => {
    const m = await memberOn("standard");
    await home(m.headers, m.profileId);
    expect((await home(m.headers, m.profileId)).res.headers.get("x-cache")).toBe("HIT");
    const events = await fromStreams(m.accountId, [watchEvent(m.profileId, { type: "start", titleId: DRAMAS[7]!, positionSec: 0 }), watchEvent(m.profileId, { type: "stop", titleId: DRAMAS[7]!, positionSec: 300, durationSec: 6000 })]);
    expect((await callHere("/v1/events", { headers: m.headers, json: { events } })).status).toBe(202);
    const page = await eventually(async () => {
      const { res, page } = await home(m.headers, m.profileId);
      expect(res.headers.get("x-cache")).toBe("MISS");
      expect(ids(page, "continue-watching")).toEqual([DRAMAS[7]]);
      return page;
    });
    expect(row(page, "continue-watching")!.items[0]!.progress).toMatchObject({ positionSec: 300, fraction: 0.05 });
  }, 30_000);
});

describe("a new profile", () => {
  it("gets a cold start: popular picks, no personal rows, genre rows by popularity", async () => {
    const m = await memberOn("standard");
    const { page } = await home(m.headers, m.profileId, { country: "DE" });
    expect(row(page, "continue-watching")).toBeUndefined();
    expect(page.rows.some((r) => r.reason.type === "because_you_watched")).toBe(false);
    expect(row(page, "top-picks")!.reason).toEqual({ type: "popular", instead: "top_picks" });
    expect(ids(page, "top-picks").slice(0, 3)).toEqual(["comedy-0", "comedy-1", "comedy-2"]);
    // No plays in Germany today: Top 10 falls back to the popular titles.
    expect(row(page, "top-10")!.reason).toEqual({ type: "popular", instead: "top_10" });
    expect(page.degraded).toEqual(["top-10"]);
    expect(page.rows.filter((r) => r.reason.type === "genre").map((r) => r.id)[0]).toBe("genre-comedy");
  });
});

describe("a kids profile", () => {
  it("sees no title above its level in any row", async () => {
    const m = await memberOn("standard");
    const kid = ((await (await call("/v1/profiles", { headers: m.headers, json: { name: "Kid", isKids: true } })).json()) as { id: string }).id;
    await watches(m.accountId, kid, [DRAMAS[2]!]);
    const { page } = await home(m.headers, kid);
    const all = page.rows.flatMap((r) => r.items);
    expect(all.length).toBeGreaterThan(10);
    expect(all.every((i) => ratingLevel(i.maturityRating) <= 1)).toBe(true);
    expect(all.some((i) => i.id.startsWith("thriller-"))).toBe(false);
  });
});

describe("My List and thumbs", () => {
  it("My List is a row, at once; thumbs down leaves personal rows; thumbs up seeds them", async () => {
    const m = await memberOn("standard");
    const p = m.profileId;
    await home(m.headers, p); // cached now
    expect((await callHere(`/v1/profiles/${p}/list/${THRILLERS[3]}`, { method: "PUT", headers: m.headers })).status).toBe(201);
    expect((await callHere(`/v1/profiles/${p}/list/${THRILLERS[3]}`, { method: "PUT", headers: m.headers })).status).toBe(204);
    expect(await (await callHere(`/v1/profiles/${p}/list/${THRILLERS[3]}`, { headers: m.headers })).json()).toMatchObject({ inList: true });
    const withList = await home(m.headers, p);
    expect(withList.res.headers.get("x-cache")).toBe("MISS");
    expect(ids(withList.page, "my-list")).toEqual([THRILLERS[3]]);

    // A thumbs up on a drama: its co-watched dramas become Top picks.
    const up = await callHere(`/v1/profiles/${p}/ratings/${DRAMAS[4]}`, { method: "PUT", headers: m.headers, json: { rating: "up" } });
    expect(up.status).toBe(200);
    const seeded = await home(m.headers, p);
    expect(row(seeded.page, "top-picks")!.reason.type).toBe("top_picks");
    expect(ids(seeded.page, "top-picks").every((id) => id.startsWith("drama-"))).toBe(true);
    const firstPick = ids(seeded.page, "top-picks")[0]!;
    // Thumbs down on the first pick: gone from the personal rows.
    await callHere(`/v1/profiles/${p}/ratings/${firstPick}`, { method: "PUT", headers: m.headers, json: { rating: "down" } });
    expect(await (await callHere(`/v1/profiles/${p}/ratings/${firstPick}`, { headers: m.headers })).json()).toEqual({ rating: "down" });
    const after = await home(m.headers, p);
    expect(ids(after.page, "top-picks")).not.toContain(firstPick);
    expect((await callHere(`/v1/profiles/${p}/list/${THRILLERS[3]}`, { method: "DELETE", headers: m.headers })).status).toBe(204);
    expect(row((await home(m.headers, p)).page, "my-list")).toBeUndefined();
  });

  it("refuse bad input and titles the profile may not see", async () => {
    const m = await memberOn("standard");
    const kid = ((await (await call("/v1/profiles", { headers: m.headers, json: { name: "Kid", isKids: true } })).json()) as { id: string }).id;
    const expectError = async (res: Response, status: number) => {
      expect(res.status).toBe(status);
      errorBodySchema.parse(await res.json());
    };
    await expectError(await call(`/v1/profiles/${kid}/list/${THRILLERS[0]}`, { method: "PUT", headers: m.headers }), 404);
    await expectError(await call(`/v1/profiles/${m.profileId}/list/no-such-title`, { method: "PUT", headers: m.headers }), 404);
    await expectError(await call(`/v1/profiles/${m.profileId}/ratings/${DRAMAS[0]}`, { method: "PUT", headers: m.headers, json: { rating: "meh" } }), 400);
    await expectError(await call(`/v1/profiles/${m.profileId}/list/${DRAMAS[0]}`, { method: "DELETE", headers: m.headers }), 404);
    const other = await memberOn("standard");
    await expectError(await call(`/v1/home?profile=${m.profileId}`, { headers: other.headers }), 404);
    await expectError(await call(`/v1/profiles/${m.profileId}/list/${DRAMAS[0]}`, { method: "PUT", headers: other.headers }), 404);
    await expectError(await call(`/v1/home`, { headers: m.headers }), 400);
    await expectError(await call(`/v1/home?profile=${m.profileId}`), 401);
    const tablet = await anotherDevice(m.accountId, "Tablet");
    expect((await call(`/v1/profiles/${kid}/enter`, { headers: tablet, json: {} })).status).toBe(200);
    await expectError(await call(`/v1/home?profile=${m.profileId}`, { headers: tablet }), 403);
    expect((await call(`/v1/home?profile=${kid}`, { headers: tablet })).status).toBe(200);
  });
});

describe("cost", () => {
  it("is three D1 round trips: the session check, one batch in the profile's watch shard, one batch in DB", async () => {
    const m = await memberOn("standard");
    await watches(m.accountId, m.profileId, [DRAMAS[5]!]);
    const { db, calls } = countingD1(env.DB);
    const shardBinding = `WATCH_${shardOf(m.profileId, shardsOf(env))}`;
    const shard = countingD1((env as unknown as Record<string, D1Database>)[shardBinding]!);
    const { res } = await home(m.headers, m.profileId, { env: { DB: db, [shardBinding]: shard.db } as Partial<typeof env> });
    expect(res.headers.get("x-cache")).toBe("MISS");
    expect(calls).toEqual(["raw", "batch"]);
    expect(shard.calls).toEqual(["batch"]);
  });
});

describe("when a piece behind the page fails", () => {
  const failingD1 = new Proxy(env.DB, {
    get(target, prop) {
      if (prop === "batch") return () => Promise.reject(new Error("D1_ERROR: storage is unavailable"));
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });

  const deps = (o: Partial<HomeDeps> = {}): HomeDeps => ({ db: env.DB, env, accountId: "acc_home_test", cache: caches.default, origin: "https://marquee.test", waitUntil: () => {}, requestId: "test", ...o });

  it("D1 down: the profile's last page, marked stale; a profile never seen here gets the popular page; with neither, an empty 200", async () => {
    const m = await memberOn("standard");
    await watches(m.accountId, m.profileId, [DRAMAS[6]!]);
    const built = await homePage(deps({ waitUntil: () => {} }), m.profileId, "IT", Date.now());
    // Wait for the cache writes the page made.
    await homePage(deps({ waitUntil: (p) => void p }), m.profileId, "IT", Date.now() + 1);
    await new Promise((r) => setTimeout(r, 50));
    await caches.default.delete(`https://marquee.test/__home-cache/fresh/${m.profileId}/IT`);
    const stale = await homePage(deps({ db: failingD1 }), m.profileId, "IT", Date.now());
    expect(stale.source).toBe("STALE");
    expect(stale.page.degraded).toContain("stale");
    expect(stale.page.rows.map((r) => r.id)).toEqual(built.page.rows.map((r) => r.id));

    const stranger = await memberOn("standard");
    const popular = await homePage(deps({ db: failingD1 }), stranger.profileId, "IT", Date.now());
    expect(popular.source).toBe("POPULAR");
    expect(popular.page.degraded).toEqual(["popular"]);
    expect(popular.page.rows.map((r) => r.id)).not.toContain("continue-watching");
    expect(popular.page.rows.some((r) => r.id === "trending")).toBe(true);

    const nowhere = await homePage(deps({ db: failingD1 }), stranger.profileId, "JP", Date.now());
    expect(nowhere).toMatchObject({ source: "EMPTY", page: { rows: [], degraded: ["unavailable"] } });
    // Over HTTP the page is still a 200.
    const { res } = await home(m.headers, m.profileId, { country: "IT", env: { DB: failingD1 } });
    // The session check itself needs D1 (a plain query, not a batch): it still works here.
    expect(res.status).toBe(200);
  });

  it("the recommendation step fails: its rows fall back to popular ones, the rest stand", async () => {
    const m = await memberOn("standard");
    await watches(m.accountId, m.profileId, [DRAMAS[3]!, DRAMAS[4]!]);
    const broken = { becauseYouWatched: () => { throw new Error("model unavailable"); }, topPicks: () => { throw new Error("model unavailable"); } };
    const { page } = await homePage(deps({ recommender: broken }), m.profileId, "FR", Date.now());
    expect(page.degraded).toContain("recommendations");
    expect(row(page, "top-picks")!.reason).toEqual({ type: "popular", instead: "top_picks" });
    expect(page.rows.some((r) => r.reason.type === "because_you_watched")).toBe(false);
    expect(row(page, "top-10")!.reason.type).toBe("top_10");
  });

  it("the cache fails: the page is built from D1 all the same", async () => {
    const m = await memberOn("standard");
    const brokenCache = { match: () => Promise.reject(new Error("cache down")), put: () => Promise.reject(new Error("cache down")), delete: () => Promise.reject(new Error("cache down")) } as unknown as Cache;
    const pending: Promise<unknown>[] = [];
    const answer = await homePage(deps({ cache: brokenCache, waitUntil: (p) => void pending.push(p) }), m.profileId, "FR", Date.now());
    await Promise.all(pending);
    expect(answer.source).toBe("MISS");
    expect(answer.page.rows.length).toBeGreaterThan(3);
  });
});
