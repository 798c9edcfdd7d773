// Forwards the media origin's paths (`/p/*`) to the media Worker over the MEDIA_WORKER
// service binding, so that one origin serves both Workers when the media Worker has no
// hostname of its own (always in `wrangler dev`). See docs/media-origin.md.
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";

export const mediaForwardRoutes = new Hono<AppEnv>().all("/p/*", (c) => c.env.MEDIA_WORKER.fetch(c.req.raw));
