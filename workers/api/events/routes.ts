// /v1/events (players report what is watched) and a profile's viewing: Continue Watching,
// history, and removing a title from them.
import { edgeCache } from "../../../lib/bindings/guard.ts";
import { createRoute, z } from "@hono/zod-openapi";
import { ApiError } from "../../../lib/errors.ts";
import { eventBatchSchema } from "../../../lib/watch-events.ts";
import { requireAuth } from "../auth/require-auth.ts";
import { jsonBody, KB } from "../body-limits.ts";
import { createRouter, errorDocs, json } from "../router.ts";
import { markWatching } from "../home/home-page.ts";
import { viewerCountry } from "../../../lib/viewer-country.ts";
import { acceptEvents } from "./intake.ts";
import { continueWatching, pageQuerySchema, removeFromHistory, viewingHistory, viewingProfile, type ViewingRead } from "./viewing.ts";
import type { Context } from "hono";
import type { AppEnv } from "../env.ts";
import { memberDb } from "../d1-sessions/member-db.ts";

/** The profile of the path, as the caller may read it, and where its viewing is read from. */
function viewingRead(c: Context<AppEnv>): ViewingRead {
  const auth = c.get("auth");
  return { env: c.env, db: memberDb(c), accountId: auth.accountId, profileId: viewingProfile(auth, c.req.param("id") ?? ""), nowMs: Date.now(), requestId: c.get("requestId") };
}

const security = [{ session: [] }];
const errors = errorDocs({ 400: "Invalid request", 401: "Not signed in", 403: "A profile that is not the caller's, or a stream the server did not start for it (details.reason)", 404: "No such profile" });

/** 100 events of the largest allowed size fit well within this; a Queue batch may not exceed 256 KB. */
const MAX_BODY_BYTES = 256 * KB;

export const eventRoutes = createRouter();

eventRoutes.use("/v1/events", requireAuth);
eventRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/events",
    tags: ["events"],
    security,
    summary: "Report up to 100 watch events; queued, not yet applied (202)",
    request: { body: jsonBody(eventBatchSchema, MAX_BODY_BYTES) },
    responses: {
      202: json(z.object({ accepted: z.number() }).openapi("EventsAccepted"), "Queued"),
      413: json(z.object({}).passthrough(), "Over 256 KB"),
      429: json(z.object({}).passthrough(), "More than 20 batches for a profile in 10 s: send it again after Retry-After"),
      503: json(z.object({}).passthrough(), "Not queued: send the same batch (same ids) again after Retry-After"),
      ...errors,
    },
  }),
  async (c) => {
    const events = c.req.valid("json").events;
    const country = viewerCountry(c.req.raw);
    const accepted = await acceptEvents(c.env, c.get("auth"), events, country, Date.now(), c.get("requestId"));
    // The home page must show this viewing as soon as it lands (Continue Watching).
    const deps = { cache: edgeCache(c.env), origin: new URL(c.req.url).origin, requestId: c.get("requestId") };
    for (const profileId of new Set(events.map((e) => e.profileId))) c.executionCtx.waitUntil(markWatching(deps, profileId, country));
    return c.json({ accepted }, 202);
  },
);

const profileParam = z.object({ id: z.string().min(1).max(40) });
const episodeRef = z.object({ id: z.string(), name: z.string(), seasonNumber: z.number(), number: z.number() }).nullable();
const card = { titleId: z.string(), name: z.string(), kind: z.enum(["movie", "series"]), posterPath: z.string().nullable(), episode: episodeRef };

eventRoutes.use("/v1/profiles/:id/continue-watching", requireAuth);
eventRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/profiles/{id}/continue-watching",
    tags: ["viewing"],
    security,
    summary: "Unfinished titles of a profile, most recently watched first",
    request: { params: profileParam, query: pageQuerySchema },
    responses: {
      200: json(
        z
          .object({
            items: z.array(z.object({ ...card, positionSec: z.number(), durationSec: z.number(), progress: z.number(), watchedAt: z.string() })),
            nextCursor: z.string().nullable(),
          })
          .openapi("ContinueWatching"),
        "A page",
      ),
      ...errors,
    },
  }),
  async (c) => {
    return c.json(await continueWatching(viewingRead(c), c.req.valid("query")), 200);
  },
);

eventRoutes.use("/v1/profiles/:id/history", requireAuth);
eventRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/profiles/{id}/history",
    tags: ["viewing"],
    security,
    summary: "What a profile finished, newest first",
    request: { params: profileParam, query: pageQuerySchema },
    responses: {
      200: json(z.object({ items: z.array(z.object({ ...card, finishedAt: z.string() })), nextCursor: z.string().nullable() }).openapi("ViewingHistory"), "A page"),
      ...errors,
    },
  }),
  async (c) => {
    return c.json(await viewingHistory(viewingRead(c), c.req.valid("query")), 200);
  },
);

eventRoutes.use("/v1/profiles/:id/history/:titleId", requireAuth);
eventRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/v1/profiles/{id}/history/{titleId}",
    tags: ["viewing"],
    security,
    summary: "Remove a title from a profile's history and Continue Watching",
    request: { params: profileParam.extend({ titleId: z.string().min(1).max(64) }) },
    responses: { 204: { description: "Removed" }, ...errors },
  }),
  async (c) => {
    const { id, titleId } = c.req.valid("param");
    const profileId = viewingProfile(c.get("auth"), id);
    if (!(await removeFromHistory(c.env, c.get("auth").accountId, profileId, titleId, c.get("requestId")))) throw new ApiError("NOT_FOUND", "That title is not in this profile's history.");
    return c.body(null, 204);
  },
);
