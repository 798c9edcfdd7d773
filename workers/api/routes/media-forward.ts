// Forwards the media origin's paths (`/p/*`, and each replica pathway's `/p2/*`) to the media Worker over the MEDIA_WORKER
// service binding, so that one origin serves both Workers when the media Worker has no
// hostname of its own (always in `wrangler dev`). See docs/media-origin.md.
//
// It runs before the api's Hono app: a video segment needs none of the api's middleware,
// and an access-log line per segment was a large share of the forwarding cost (the media
// Worker logs the request itself).
import { dependencyErrorOf } from "../../../lib/bindings/guard.ts";
import type { ErrorBody } from "../../../lib/errors.ts";
import { log } from "../../../lib/log.ts";

/** `/p/` (or a replica's pathway, `/p2/` … `/p9/`) followed by anything: a playback path, or `/p/healthz`. */
export function isMediaPath(url: string): boolean {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0 || url.charCodeAt(start + 1) !== 0x70 /* p */) return false;
  const next = url.charCodeAt(start + 2);
  return next === 0x2f /* / */ || (next >= 0x32 && next <= 0x39 && url.charCodeAt(start + 3) === 0x2f);
}

/**
 * A failed forward (the binding's fault, timeout or open breaker) is a retryable 503 in
 * the standard error body, as anything the api answers: players retry segments.
 */
export async function forwardMedia(request: Request, env: { MEDIA_WORKER: Fetcher }): Promise<Response> {
  try {
    return await env.MEDIA_WORKER.fetch(request);
  } catch (err) {
    const failure = dependencyErrorOf(err);
    if (!failure) throw err;
    const requestId = request.headers.get("x-request-id") ?? crypto.randomUUID();
    log("warn", { event: "dependency_failed", requestId, dependency: failure.dependency, message: failure.message });
    const body: ErrorBody = { error: { code: "UNAVAILABLE", message: "The media service did not answer; try again.", requestId, details: { reason: failure.reason, retryable: true } } };
    return Response.json(body, { status: 503, headers: { "Retry-After": "1", "X-Request-Id": requestId, "Cache-Control": "no-store" } });
  }
}
