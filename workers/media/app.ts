// The media Worker's HTTP application: health, and (from the "Media delivery" issue) the
// playback paths under `/p/{token}/{assetId}/…`.
import { Hono } from "hono";
import { health, installBase } from "../../lib/http.ts";

export type MediaAppEnv = { Bindings: MediaEnv };

export function createMediaApp() {
  const app = installBase(new Hono<MediaAppEnv>());
  // `/p/healthz` is reachable where only `/p/*` is routed to this Worker (dev forwarding,
  // path routes); no playback token is ever the word "healthz".
  app.on("GET", ["/healthz", "/p/healthz"], (c) => c.json(health("marquee-media", c.env)));
  return app;
}
