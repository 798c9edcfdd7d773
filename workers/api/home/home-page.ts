// One profile's home page: from the edge cache if it is fresh (a minute), else built from
// its watch shard and one DB batch (home-queries.ts) and cached; when D1 fails, the last page built for the profile (a day) or
// a popular page for the lowest maturity level seen — still a 200, marked degraded.
import { log } from "../../../lib/log.ts";
import type { CatalogDb, ViewingEnv } from "../events/viewing.ts";
import { runHomeQueries } from "./home-queries.ts";
import { composeHome, defaultRecommender, type HomeRow, type Recommender } from "./home-rows.ts";

const FRESH_SEC = 60;
const STALE_SEC = 86_400;

export type HomePage = { profileId: string; generatedAt: string; degraded: string[]; rows: HomeRow[] };

export type HomeDeps = {
  /** DB (or the member's session of it), for everything but the profile's watch data. */
  db: CatalogDb;
  /** The watch shards and the account's Durable Object, for the profile's watch data. */
  env: ViewingEnv;
  accountId: string;
  /** Cloudflare's cache for this location (caches.default). */
  cache: Cache;
  /** Where the cache keys live: an origin this Worker serves. */
  origin: string;
  recommender?: Recommender;
  waitUntil: (p: Promise<unknown>) => void;
  requestId: string;
};

const keys = (origin: string, profileId: string, country: string) => ({
  fresh: `${origin}/__home-cache/fresh/${profileId}/${country}`,
  stale: `${origin}/__home-cache/stale/${profileId}/${country}`,
  /** Set while the profile's watch events are on their way to D1: its page must not be cached meanwhile. */
  watching: `${origin}/__home-cache/watching/${profileId}`,
  /** Not personal: Top 10, Trending, New releases and genres, for anyone at or above `level`. */
  popular: (level: number) => `${origin}/__home-cache/popular/l${level}/${country}`,
});

async function cacheGet(deps: HomeDeps, key: string): Promise<HomePage | null> {
  try {
    const hit = await deps.cache.match(key);
    return hit ? ((await hit.json()) as HomePage) : null;
  } catch (err) {
    log("warn", { event: "dependency_failed", requestId: deps.requestId, dependency: "cache", message: `home ${key}: ${(err as Error)?.message ?? err}` });
    return null;
  }
}

function cachePut(deps: HomeDeps, key: string, page: HomePage, ttlSec: number): void {
  const response = new Response(JSON.stringify(page), { headers: { "Content-Type": "application/json", "Cache-Control": `max-age=${ttlSec}` } });
  deps.waitUntil(
    deps.cache.put(key, response).catch((err: unknown) => {
      log("warn", { event: "dependency_failed", requestId: deps.requestId, dependency: "cache", message: `home put: ${(err as Error)?.message ?? err}` });
    }),
  );
}

export type HomeAnswer = { page: HomePage; source: "HIT" | "MISS" | "STALE" | "POPULAR" | "EMPTY" };

/**
 * How long after its last watch event a profile's page is built afresh every time: the
 * consumer lands events within seconds (a batch waits at most 1 s), and Continue Watching
 * must show what was just watched, not a page cached a moment before it landed.
 */
const WATCHING_SEC = 30;

async function isWatching(deps: HomeDeps, key: string): Promise<boolean> {
  try {
    return (await deps.cache.match(key)) !== undefined;
  } catch {
    return true; // unknown: build afresh rather than serve what may be out of date
  }
}

export async function homePage(deps: HomeDeps, profileId: string, country: string, nowMs: number): Promise<HomeAnswer> {
  const k = keys(deps.origin, profileId, country);
  const watching = await isWatching(deps, k.watching);
  const fresh = watching ? null : await cacheGet(deps, k.fresh);
  if (fresh) return { page: fresh, source: "HIT" };
  let built: HomePage;
  let level: number;
  try {
    const q = await runHomeQueries({ env: deps.env, db: deps.db, accountId: deps.accountId, profileId, nowMs, requestId: deps.requestId }, country);
    const composed = composeHome(q, country, deps.recommender ?? defaultRecommender);
    built = { profileId, generatedAt: new Date(nowMs).toISOString(), degraded: composed.degraded, rows: composed.rows };
    level = q.profile?.maturity_level ?? 0;
  } catch (err) {
    log("error", { event: "dependency_failed", requestId: deps.requestId, dependency: "d1", message: `home of ${profileId}: ${(err as Error)?.message ?? err}` });
    const stale = await cacheGet(deps, k.stale);
    if (stale) return { page: { ...stale, degraded: [...new Set([...stale.degraded, "stale"])] }, source: "STALE" };
    // Nothing of this profile's: a popular page, at the lowest maturity level there is one
    // for (this profile's level is in D1, which just failed).
    for (const l of [0, 1, 2, 3]) {
      const popular = await cacheGet(deps, k.popular(l));
      if (popular) return { page: { ...popular, profileId, degraded: ["popular"] }, source: "POPULAR" };
    }
    return { page: { profileId, generatedAt: new Date(nowMs).toISOString(), degraded: ["unavailable"], rows: [] }, source: "EMPTY" };
  }
  if (!watching) cachePut(deps, k.fresh, built, FRESH_SEC);
  cachePut(deps, k.stale, built, STALE_SEC);
  const shared = new Set(["top-10", "trending", "new-releases"]);
  cachePut(deps, k.popular(level), { ...built, rows: built.rows.filter((r) => shared.has(r.id) || r.id.startsWith("genre-")) }, STALE_SEC);
  return { page: built, source: "MISS" };
}

/**
 * Watch events for the profile were just accepted: until they have surely landed, its
 * home page is built from D1 on every request here (and the cached one is dropped).
 */
export async function markWatching(deps: Pick<HomeDeps, "cache" | "origin" | "requestId">, profileId: string, country: string): Promise<void> {
  const k = keys(deps.origin, profileId, country);
  try {
    await Promise.all([
      deps.cache.put(k.watching, new Response("1", { headers: { "Cache-Control": `max-age=${WATCHING_SEC}` } })),
      deps.cache.delete(k.fresh),
    ]);
  } catch (err) {
    log("warn", { event: "dependency_failed", requestId: deps.requestId, dependency: "cache", message: `home watching mark: ${(err as Error)?.message ?? err}` });
  }
}

/** After My List or a rating changes: the next home request builds afresh (in this location). */
export async function forgetHome(deps: Pick<HomeDeps, "cache" | "origin" | "requestId">, profileId: string, country: string): Promise<void> {
  try {
    await deps.cache.delete(keys(deps.origin, profileId, country).fresh);
  } catch (err) {
    log("warn", { event: "dependency_failed", requestId: deps.requestId, dependency: "cache", message: `home delete: ${(err as Error)?.message ?? err}` });
  }
}
