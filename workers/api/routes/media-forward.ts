// Forwards the media origin's paths (`/p/*`) to the media Worker over the MEDIA_WORKER
// service binding, so that one origin serves both Workers when the media Worker has no
// hostname of its own (always in `wrangler dev`). See docs/media-origin.md.
//
// It runs before the api's Hono app: a video segment needs none of the api's middleware,
// and an access-log line per segment was a large share of the forwarding cost (the media
// Worker logs the request itself).

/** `/p/` followed by anything: a playback path, or `/p/healthz`. */
export function isMediaPath(url: string): boolean {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  return start >= 0 && url.startsWith("/p/", start);
}

export function forwardMedia(request: Request, env: { MEDIA_WORKER: Fetcher }): Promise<Response> {
  return env.MEDIA_WORKER.fetch(request);
}
