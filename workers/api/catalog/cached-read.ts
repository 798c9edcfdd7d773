// Public catalog responses through caches.default: keyed by the catalog's version (every
// write bumps it, so an edit shows on the next request with no purge), the viewer's
// maturity level (what they may see) and the minute (availability windows open and
// close on time); ETag/304 for clients. Reads go through the request's D1 session
// (memberDb, d1-sessions/), so a client that sends back its bookmark reads at least what
// it wrote once read replicas are on; the session's bookmark goes back on the answer.
// Every answer computed is also kept a day under a key without version or minute: when
// D1 fails (or its breaker is open), that last answer is served, marked `X-Cache: STALE`.
import type { Context } from "hono";
import { routePath } from "hono/route";
import { dependencyErrorOf, edgeCache } from "../../../lib/bindings/guard.ts";
import { log } from "../../../lib/log.ts";
import { memberDb } from "../d1-sessions/member-db.ts";
import type { AppEnv } from "../env.ts";
import { catalogVersion } from "../../../d1/catalog-version.ts";
import type { Viewer } from "./viewer.ts";

const EDGE_TTL_SEC = 300;
/** How long the last good answer stays available for a D1 outage. */
const STALE_TTL_SEC = 86_400;

async function etagOf(body: string, version: number): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(body));
  const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `"c${version}-${hex.slice(0, 20)}"`;
}

function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  return ifNoneMatch?.split(",").some((t) => t.trim().replace(/^W\//, "") === etag) ?? false;
}

/** The validated query a read depends on, as the route's schema parsed it (defaults applied). */
export type CacheKeyParams = Record<string, string | number | boolean | undefined>;

/**
 * The query part of a cache key: the validated parameters only, in one order, each in one
 * spelling. Never the raw URL's: anything else a client adds (`?r=<random>`, a repeated
 * parameter, `limit=024`) would make a fresh key, miss the cache and reach D1 every time.
 */
export function canonicalQuery(params: CacheKeyParams): string {
  const entries = Object.entries(params)
    .filter((e): e is [string, string | number | boolean] => e[1] !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => [k, String(v)]);
  return new URLSearchParams(entries).toString();
}

/**
 * Answers from the cache or from `compute` (which gets the D1 session); `compute`
 * returning null is a 404 the caller renders, not cached. `params` is everything of the
 * request the answer depends on, as the route validated it (path parameters and query).
 */
export async function cachedCatalogRead(
  c: Context<AppEnv>,
  viewer: Viewer,
  params: CacheKeyParams,
  compute: (db: D1DatabaseSession, now: Date) => Promise<unknown | null>,
): Promise<Response | null> {
  const cache = edgeCache(c.env);
  const url = new URL(c.req.url);
  // The route's pattern, not the URL's path: `/v1/titles/first%2Dlight` is the same read as
  // `/v1/titles/first-light`, and the id is in `params` as the route decoded it.
  const keyPath = `${routePath(c)}?${canonicalQuery(params)}`;
  const staleKey = `${url.origin}/__catalog-cache/stale/l${viewer.maturityLevel}${keyPath}`;
  const session = memberDb(c);

  let body: string;
  let etag: string;
  let cacheState: "HIT" | "MISS" | "STALE";
  try {
    const version = await catalogVersion(session);
    const now = new Date();
    const minute = Math.floor(now.getTime() / 60_000);
    const key = `${url.origin}/__catalog-cache/v${version}/l${viewer.maturityLevel}/m${minute}${keyPath}`;
    const hit = await cache.match(key);
    if (hit) {
      body = await hit.text();
      etag = hit.headers.get("etag") ?? (await etagOf(body, version));
      cacheState = "HIT";
    } else {
      const value = await compute(session, now);
      if (value === null) return null;
      body = JSON.stringify(value);
      etag = await etagOf(body, version);
      cacheState = "MISS";
      const stored = (ttl: number) => new Response(body, { headers: { "Content-Type": "application/json", ETag: etag, "Cache-Control": `max-age=${ttl}` } });
      c.executionCtx.waitUntil(Promise.all([cache.put(key, stored(EDGE_TTL_SEC)), cache.put(staleKey, stored(STALE_TTL_SEC))]));
    }
  } catch (err) {
    const failure = dependencyErrorOf(err);
    if (!failure) throw err;
    const stale = await cache.match(staleKey);
    if (!stale) throw err;
    log("warn", { event: "dependency_failed", requestId: c.get("requestId") ?? "", dependency: failure.dependency, message: `serving the last catalog answer for ${routePath(c)}: ${failure.message}` });
    body = await stale.text();
    etag = stale.headers.get("etag") ?? "";
    cacheState = "STALE";
  }
  const headers: Record<string, string> = {
    ...(etag ? { ETag: etag } : {}),
    // The edge cache is ours (above); clients keep a copy but ask again each time.
    "Cache-Control": "private, no-cache",
    "X-Cache": cacheState,
  };
  if (etag && matches(c.req.header("if-none-match"), etag)) return new Response(null, { status: 304, headers });
  return new Response(body, { status: 200, headers: { ...headers, "Content-Type": "application/json" } });
}
