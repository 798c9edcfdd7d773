// Serves one media file through the Cache API: conditional requests, HEAD and ranges are
// answered from what the rendition index already says (size, hash) with no I/O; a cache
// miss streams R2's body to the viewer while a copy fills the cache, and concurrent misses
// for one file in this isolate share that single R2 read.
import type { Context } from "hono";
import { errorResponse } from "../../../lib/errors.ts";
import { log } from "../../../lib/log.ts";
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
  bucket: R2Bucket;
  /** This location's Cache API behind the guard: a failure there is a miss, never an error. */
  cache: Cache;
  cacheOrigin: string;
  fills: SingleFlight<boolean>;
  /** How long an R2 read may take to start before the viewer gets a retryable 503. */
  r2TimeoutMs?: number | undefined;
};

class MediaUnavailable extends Error {}

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
    return new Response(body.stream, { status, headers });
  } catch (err) {
    if (!(err instanceof MediaUnavailable)) throw err;
    log("warn", { event: "dependency_failed", requestId: c.get("requestId"), dependency: "r2", message: err.message });
    return unavailable(c);
  }
}

type Body = { stream: ReadableStream | null; cache: "HIT" | "MISS" | "BYPASS" };

async function readBody(c: Context, o: ServeObject, range: ByteRange | null): Promise<Body> {
  const cacheKey = `${o.cacheOrigin}/__media-cache/${o.key}`;
  const length = range ? range.end - range.start + 1 : o.info.bytes;
  if (o.info.bytes > CACHE_MAX_BYTES) return { stream: sized(await readR2(o, range), length), cache: "BYPASS" };

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
    return { stream: sized(await readR2(o, range), length), cache: "MISS" };
  }

  if (range || o.info.bytes > TEE_MAX_BYTES) {
    // Answer at once from R2 and fill the cache with the whole file beside it.
    c.executionCtx.waitUntil(fill(o, cacheKey).catch(() => false));
    return { stream: sized(await readR2(o, range), length), cache: "MISS" };
  }

  const forViewer = Promise.withResolvers<ReadableStream>();
  const filling = fill(o, cacheKey, forViewer);
  c.executionCtx.waitUntil(filling.catch(() => false));
  return { stream: sized(await forViewer.promise, length), cache: "MISS" };
}

/**
 * Reads the whole file from R2 into the cache, once per isolate at a time. With
 * `forViewer`, hands one branch of the R2 body to the caller as soon as it starts.
 */
function fill(o: ServeObject, cacheKey: string, forViewer?: PromiseWithResolvers<ReadableStream>): Promise<boolean> {
  return o.fills.run(cacheKey, async () => {
    try {
      const body = await readR2(o, null);
      const [viewer, cache] = forViewer ? body.tee() : [null, body];
      if (viewer) forViewer!.resolve(viewer);
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

/** A failed R2 read is tried once more after a short jittered pause, then the viewer gets a retryable 503. */
async function readR2(o: ServeObject, range: ByteRange | null): Promise<ReadableStream> {
  try {
    return await readR2Once(o, range);
  } catch (err) {
    if (!(err instanceof MediaUnavailable)) throw err;
    log("warn", { event: "dependency_failed", requestId: "", dependency: "r2", message: `${err.message}; retrying once` });
    await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 40));
    return readR2Once(o, range);
  }
}

async function readR2Once(o: ServeObject, range: ByteRange | null): Promise<ReadableStream> {
  // At debug level, every R2 read is visible from outside (the benchmark counts them).
  log("debug", { event: "r2_read", key: o.key, range: range !== null });
  let object: R2ObjectBody | null;
  try {
    object = await withTimeout(
      o.bucket.get(o.key, range ? { range: { offset: range.start, length: range.end - range.start + 1 } } : {}),
      o.r2TimeoutMs ?? DEFAULT_R2_TIMEOUT_MS,
    );
  } catch (err) {
    throw err instanceof MediaUnavailable ? err : new MediaUnavailable(String(err));
  }
  // The index lists this file, so R2 not having it is a fault of the store, not of the request.
  if (!object) throw new MediaUnavailable(`${o.key} is listed in its index but missing from R2`);
  return object.body;
}
