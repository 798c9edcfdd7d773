// /v1/home (a profile's rows), My List and thumbs (/v1/profiles/:id/list|ratings/:titleId).
import { edgeCache } from "../../../lib/bindings/guard.ts";
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { ApiError } from "../../../lib/errors.ts";
import { requireAuth } from "../auth/require-auth.ts";
import type { AppEnv } from "../env.ts";
import { viewingProfile } from "../events/viewing.ts";
import { memberDb } from "../d1-sessions/member-db.ts";
import { createRouter, errorDocs, json } from "../router.ts";
import { viewerCountry } from "../../../lib/viewer-country.ts";
import { forgetHome, homePage, type HomeDeps } from "./home-page.ts";
import { addToList, inList, rate, ratingOf, removeFromList } from "./list-and-ratings.ts";
import { jsonBody, KB } from "../body-limits.ts";

const security = [{ session: [] }];
const errors = errorDocs({ 400: "Invalid request", 401: "Not signed in", 403: "A kids profile's device asking for another profile", 404: "No such profile or title" });

const countryOf = (c: Context<AppEnv>) => viewerCountry(c.req.raw);

const homeDeps = (c: Context<AppEnv>): HomeDeps => ({
  db: memberDb(c),
  env: c.env,
  accountId: c.get("auth").accountId,
  cache: edgeCache(c.env),
  origin: new URL(c.req.url).origin,
  waitUntil: (p) => c.executionCtx.waitUntil(p),
  requestId: c.get("requestId"),
});

const itemSchema = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(["movie", "series"]),
  posterPath: z.string().nullable(),
  maturityRating: z.string(),
  releaseYear: z.number(),
  rank: z.number().optional(),
  progress: z
    .object({
      positionSec: z.number(),
      durationSec: z.number(),
      fraction: z.number(),
      episode: z.object({ id: z.string(), name: z.string(), seasonNumber: z.number(), number: z.number() }).nullable(),
    })
    .optional(),
});

const homeSchema = z
  .object({
    profileId: z.string(),
    generatedAt: z.string(),
    /** Rows (or "stale", "popular", "unavailable" for the whole page) that fell back. */
    degraded: z.array(z.string()),
    rows: z.array(z.object({ id: z.string(), heading: z.string(), reason: z.object({ type: z.string() }).passthrough(), items: z.array(itemSchema) })),
  })
  .openapi("Home");

export const homeRoutes = createRouter();

homeRoutes.use("/v1/home", requireAuth);
homeRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/home",
    tags: ["home"],
    security,
    summary: "The rows of a profile's home page",
    request: { query: z.object({ profile: z.string().min(1).max(40) }) },
    responses: { 200: json(homeSchema, "The rows (X-Cache: HIT, MISS, STALE, POPULAR or EMPTY)"), ...errors },
  }),
  async (c) => {
    const profileId = viewingProfile(c.get("auth"), c.req.valid("query").profile);
    const { page, source } = await homePage(homeDeps(c), profileId, countryOf(c), Date.now());
    return c.json(page, 200, { "X-Cache": source, "Cache-Control": "private, no-store" });
  },
);

const titleParams = z.object({ id: z.string().min(1).max(40), titleId: z.string().min(1).max(64) });

homeRoutes.use("/v1/profiles/:id/list/:titleId", requireAuth);
homeRoutes.use("/v1/profiles/:id/ratings/:titleId", requireAuth);

homeRoutes.openapi(
  createRoute({ method: "get", path: "/v1/profiles/{id}/list/{titleId}", tags: ["my-list"], security, summary: "Is the title in My List", request: { params: titleParams }, responses: { 200: json(z.object({ inList: z.boolean(), addedAt: z.string().nullable() }), "Answer"), ...errors } }),
  async (c) => {
    const { id, titleId } = c.req.valid("param");
    const found = await inList(memberDb(c), viewingProfile(c.get("auth"), id), titleId);
    return c.json({ inList: found !== null, addedAt: found?.addedAt ?? null }, 200);
  },
);

homeRoutes.openapi(
  createRoute({ method: "put", path: "/v1/profiles/{id}/list/{titleId}", tags: ["my-list"], security, summary: "Add a title to My List (idempotent)", request: { params: titleParams }, responses: { 201: { description: "Added" }, 204: { description: "Already there" }, ...errors } }),
  async (c) => {
    const { id, titleId } = c.req.valid("param");
    const profileId = viewingProfile(c.get("auth"), id);
    const added = await addToList(memberDb(c), profileId, titleId, Date.now());
    await forgetHome(homeDeps(c), profileId, countryOf(c));
    return c.body(null, added ? 201 : 204);
  },
);

homeRoutes.openapi(
  createRoute({ method: "delete", path: "/v1/profiles/{id}/list/{titleId}", tags: ["my-list"], security, summary: "Remove a title from My List", request: { params: titleParams }, responses: { 204: { description: "Removed" }, ...errors } }),
  async (c) => {
    const { id, titleId } = c.req.valid("param");
    const profileId = viewingProfile(c.get("auth"), id);
    if (!(await removeFromList(memberDb(c), profileId, titleId))) throw new ApiError("NOT_FOUND", "That title is not in My List.");
    await forgetHome(homeDeps(c), profileId, countryOf(c));
    return c.body(null, 204);
  },
);

const ratingSchema = z.object({ rating: z.enum(["up", "down", "none"]) }).strict();

homeRoutes.openapi(
  createRoute({ method: "get", path: "/v1/profiles/{id}/ratings/{titleId}", tags: ["ratings"], security, summary: "The profile's thumbs for a title", request: { params: titleParams }, responses: { 200: json(ratingSchema, "Rating"), ...errors } }),
  async (c) => {
    const { id, titleId } = c.req.valid("param");
    return c.json({ rating: await ratingOf(memberDb(c), viewingProfile(c.get("auth"), id), titleId) }, 200);
  },
);

homeRoutes.openapi(
  createRoute({
    method: "put",
    path: "/v1/profiles/{id}/ratings/{titleId}",
    tags: ["ratings"],
    security,
    summary: "Thumbs up, down, or none",
    request: { params: titleParams, body: jsonBody(ratingSchema, 1 * KB) },
    responses: { 200: json(ratingSchema, "Rated"), ...errors },
  }),
  async (c) => {
    const { id, titleId } = c.req.valid("param");
    const profileId = viewingProfile(c.get("auth"), id);
    const { rating } = c.req.valid("json");
    await rate(memberDb(c), profileId, titleId, rating, Date.now());
    await forgetHome(homeDeps(c), profileId, countryOf(c));
    return c.json({ rating }, 200);
  },
);
