// Serves one media file through the Cache API: conditional requests, HEAD and ranges are
// answered from what the rendition index already says (size, hash) with no I/O; a cache
// miss streams R2's body to the viewer while a copy fills the cache, and concurrent misses
// for one file in this isolate share that single R2 read. The cache is keyed by the file
// alone, so every pathway shares it; a miss reads the requested pathway's origin and, if
// that fails, each other origin the asset is complete on (docs/media-origin.md).
import type { Context } from "hono";
import { DependencyError } from "../../../lib/bindings/guard.ts";
import { errorResponse } from "../../../lib/errors.ts";
import { log } from "../../../lib/log.ts";
import type { MediaOrigin } from "../../../lib/media-origins/origins.ts";
import type { FileInfo } from "./index-store.ts";
import { parseRange, type ByteRange } from "./range.ts";
import type { SingleFlight } from "./single-flight.ts";

/** Larger objects stream straight from R2, uncached. */
export const CACHE_MAX_BYTES = 64 * 1024 * 1024;
/**
 * Up to this size a miss tees R2's body to the viewer and the cache. A tee holds what the
 * slower branch has not read — for a slow viewer, nearly the whole file (measured by
 * `npm run bench:media`) — so larger misses read R2 twice instead: once for the viewer,
 * once for the cache.
 */
export const TEE_MAX_BYTES = 8 * 1024 * 1024;
const DEFAULT_R2_TIMEOUT_MS = 10_000;

export type ServeObject = {
  /** The R2 key, which is also the canonical cache key's path: no token in it. */
  key: string;
  info: FileInfo;
  contentType: string;
  cacheControl: string;
  /** The requested pathway's origin, then the fallbacks: each origin the asset is complete on. */
  origins: readonly MediaOrigin[];
  /** This location's Cache API behind the guard: a failure there is a miss, never an error. */
  cache: Cache;
  cacheOrigin: string;
  fills: SingleFlight<boolean>;
  /** How long an R2 read may take to start before the viewer gets a retryable 503. */
  r2TimeoutMs?: number | undefined;
};

class MediaUnavailable extends Error {
  /** The origin's breaker is open: trying it again now would fail the same way. */
  readonly open: boolean;
  constructor(message: string, open = false) {
    super(message);
    this.open = open;
  }
}

export function etagFor(info: FileInfo): string {
  return info.etag ?? `"${info.sha256.slice(0, 32)}"`;
}

function matchesEtag(ifNoneMatch: string | null, etag: string): boolean {
  if (ifNoneMatch === null) return false;
  return ifNoneMatch.split(",").some((tag) => {
    const t = tag.trim().replace(/^W\//, "");
    return t === "*" || t === etag;
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: number | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new MediaUnavailable(`R2 did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => timer !== undefined && clearTimeout(timer));
}

function unavailable(c: Context): Response {
  return errorResponse(c, "UNAVAILABLE", "The media store did not answer; try again.", { headers: { "Retry-After": "2" } });
}

function sized(body: ReadableStream, length: number): ReadableStream {
  // A FixedLengthStream sends (and caches) a Content-Length instead of a chunked body.
  return body.pipeThrough(new FixedLengthStream(length));
}

export async function serveObject(c: Context, o: ServeObject): Promise<Response> {
  const etag = etagFor(o.info);
  const size = o.info.bytes;
  const headers = new Headers({
    "Content-Type": o.contentType,
    "Cache-Control": o.cacheControl,
    ETag: etag,
    "Accept-Ranges": "bytes",
  });

  if (matchesEtag(c.req.header("if-none-match") ?? null, etag)) return new Response(null, { status: 304, headers });

  const range = parseRange(c.req.header("range") ?? null, size);
  if (range.kind === "unsatisfiable") {
    return errorResponse(c, "RANGE_NOT_SATISFIABLE", `The range is outside the ${size} bytes of this file.`, {
      headers: { "Content-Range": `bytes */${size}` },
    });
  }
  const byteRange = range.kind === "range" ? range.range : null;
  const status = byteRange ? 206 : 200;
  headers.set("Content-Length", String(byteRange ? byteRange.end - byteRange.start + 1 : size));
  if (byteRange) headers.set("Content-Range", `bytes ${byteRange.start}-${byteRange.end}/${size}`);

  if (c.req.method === "HEAD") return new Response(null, { status, headers });

  try {
    const body = await readBody(c, o, byteRange);
    headers.set("X-Cache", body.cache);
    // Which pathway's origin a miss was read from: a fallback shows here (bench and e2e count it).
    if (body.origin) headers.set("X-Origin", body.origin);
    return new Response(body.stream, { status, headers });
  } catch (err) {
    if (!(err instanceof MediaUnavailable)) throw err;
    log("warn", { event: "dependency_failed", requestId: c.get("requestId"), dependency: "r2", message: err.message });
    return unavailable(c);
  }
}

type Body = { stream: ReadableStream | null; cache: "HIT" | "MISS" | "BYPASS"; origin?: string };

async function readBody(c: Context, o: ServeObject, range: ByteRange | null): Promise<Body> {
  const cacheKey = `${o.cacheOrigin}/__media-cache/${o.key}`;
  const length = range ? range.end - range.start + 1 : o.info.bytes;
  if (o.info.bytes > CACHE_MAX_BYTES) {
    const read = await readR2(c, o, range);
    return { stream: sized(read.body, length), cache: "BYPASS", origin: read.origin };
  }

  const fromCache = async () => {
    const res = await o.cache.match(new Request(cacheKey, { headers: range ? { Range: `bytes=${range.start}-${range.end}` } : {} }));
    if (!res || !range || res.status === 206) return res;
    // A cache that ignored the Range (a whole 200) must not become this 206's body.
    await res.body?.cancel();
    return undefined;
  };

  const hit = await fromCache();
  if (hit) return { stream: hit.body, cache: "HIT" };

  const pending = o.fills.pending(cacheKey);
  if (pending) {
    // Another request of this isolate is reading this file from R2 into the cache.
    if (await pending.catch(() => false)) {
      const filled = await fromCache();
      if (filled) return { stream: filled.body, cache: "HIT" };
    }
    const read = await readR2(c, o, range);
    return { stream: sized(read.body, length), cache: "MISS", origin: read.origin };
  }

  if (range || o.info.bytes > TEE_MAX_BYTES) {
    // Answer at once from R2 and fill the cache with the whole file beside it.
    c.executionCtx.waitUntil(fill(c, o, cacheKey).catch(() => false));
    const read = await readR2(c, o, range);
    return { stream: sized(read.body, length), cache: "MISS", origin: read.origin };
  }

  const forViewer = Promise.withResolvers<Read>();
  const filling = fill(c, o, cacheKey, forViewer);
  c.executionCtx.waitUntil(filling.catch(() => false));
  const read = await forViewer.promise;
  return { stream: sized(read.body, length), cache: "MISS", origin: read.origin };
}

type Read = { body: ReadableStream; origin: string };

/**
 * Reads the whole file from R2 into the cache, once per isolate at a time. With
 * `forViewer`, hands one branch of the R2 body to the caller as soon as it starts.
 */
function fill(c: Context, o: ServeObject, cacheKey: string, forViewer?: PromiseWithResolvers<Read>): Promise<boolean> {
  return o.fills.run(cacheKey, async () => {
    try {
      const read = await readR2(c, o, null);
      const [viewer, cache] = forViewer ? read.body.tee() : [null, read.body];
      if (viewer) forViewer!.resolve({ body: viewer, origin: read.origin });
      await o.cache.put(
        cacheKey,
        new Response(sized(cache, o.info.bytes), {
          headers: {
            "Content-Type": o.contentType,
            "Content-Length": String(o.info.bytes),
            "Cache-Control": "public, max-age=31536000, immutable",
          },
        }),
      );
      return true;
    } catch (err) {
      forViewer?.reject(err);
      throw err;
    }
  });
}

/**
 * A failed read of the requested pathway's origin is tried once more after a short
 * jittered pause; then each fallback origin once (its breaker open, it fails at once);
 * then the viewer gets a retryable 503.
 */
async function readR2(c: Context, o: ServeObject, range: ByteRange | null): Promise<Read> {
  const [first, ...fallbacks] = o.origins;
  let failure: MediaUnavailable;
  try {
    return { body: await readR2Once(first!, o, range), origin: first!.pathway };
  } catch (err) {
    if (!(err instanceof MediaUnavailable)) throw err;
    failure = err;
  }
  // While its breaker is open the origin is not tried again: straight to the fallbacks.
  if (!failure.open || fallbacks.length === 0) {
    log("warn", { event: "dependency_failed", requestId: "", dependency: first!.dependency, message: `${failure.message}; retrying once` });
    await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 40));
    try {
      return { body: await readR2Once(first!, o, range), origin: first!.pathway };
    } catch (err) {
      if (!(err instanceof MediaUnavailable) || fallbacks.length === 0) throw err;
    }
  }
  for (const [i, origin] of fallbacks.entries()) {
    try {
      const body = await readR2Once(origin, o, range);
      log("warn", { event: "origin_fallback", requestId: c.get("requestId") ?? "", from: first!.pathway, to: origin.pathway, key: o.key });
      return { body, origin: origin.pathway };
    } catch (err) {
      if (!(err instanceof MediaUnavailable) || i === fallbacks.length - 1) throw err;
    }
  }
  throw failure;
}

async function readR2Once(origin: MediaOrigin, o: ServeObject, range: ByteRange | null): Promise<ReadableStream> {
  // At debug level, every R2 read is visible from outside (the benchmark counts them).
  log("debug", { event: "r2_read", key: o.key, range: range !== null });
  let body: ReadableStream | null;
  try {
    body = await withTimeout(origin.get(o.key, range ? { offset: range.start, length: range.end - range.start + 1 } : undefined), o.r2TimeoutMs ?? DEFAULT_R2_TIMEOUT_MS);
  } catch (err) {
    if (err instanceof MediaUnavailable) throw err;
    throw new MediaUnavailable(String(err), err instanceof DependencyError && err.reason === "circuit_open");
  }
  // The index lists this file, so the origin not having it is a fault of the store, not of the request.
  if (!body) throw new MediaUnavailable(`${o.key} is listed in its index but missing from ${origin.pathway}`);
  return body;
}
