// /v1/admin/live: starting, watching over and ending live events (admin token), and
// /v1/live/{liveId}/ingest/…: the broadcaster's uploads (the event's ingest token).
import { createRoute, z } from "@hono/zod-openapi";
import { ApiError } from "../../../lib/errors.ts";
import { ladderSchema, LIVE_LIMITS, rungNameSchema, rungSchema } from "../../../lib/live/ladder.ts";
import { requireAdmin } from "../admin/require-admin.ts";
import { chunkedBody, jsonBody, KB } from "../body-limits.ts";
import { catalogIdSchema } from "../catalog/admin-titles.ts";
import { createRouter, errorDocs, json } from "../router.ts";
import { acceptMasterPlaylist, ingestFile, ingestFileOf } from "./ingest.ts";
import { LIVE_ID } from "../../../lib/live/live-state.ts";
import { createLiveEvent, endLiveEvent, liveEventStatus } from "./live-events.ts";

const tags = ["live"];
const adminSecurity = [{ adminToken: [] }];
const ingestSecurity = [{ ingestToken: [] }];

const liveIdParam = z.string().regex(LIVE_ID, "a live event id as POST /v1/admin/live gives them out");

const newLiveSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    /** A movie title without video to broadcast as; without it, a title is made from the name. */
    titleId: catalogIdSchema.optional(),
    ladder: ladderSchema.optional(),
    dvrWindowSec: z.number().int().min(60).max(LIVE_LIMITS.maxDvrWindowSec).optional(),
    idleTimeoutSec: z.number().int().min(10).max(3600).optional(),
  })
  .strict();

const statusSchema = z
  .object({
    liveId: z.string(),
    titleId: z.string(),
    assetId: z.string(),
    name: z.string(),
    state: z.enum(["waiting", "live", "ended"]),
    createdAt: z.string(),
    startedAt: z.string().nullable(),
    endedAt: z.string().nullable(),
    endReason: z.enum(["operator", "idle"]).nullable(),
    lastSegmentAt: z.string().nullable(),
    segments: z.number(),
    reconnects: z.number(),
    ingestBitrateKbps: z.number(),
    ladder: z.array(rungSchema),
    renditions: z.array(
      z.object({ name: z.string(), kind: z.enum(["video", "audio"]).nullable(), codecs: z.string().nullable(), width: z.number().nullable(), height: z.number().nullable() }),
    ),
    dvrWindowSec: z.number(),
    idleTimeoutSec: z.number(),
    recording: z.enum(["pending", "ready", "none"]).nullable(),
    errors: z.array(z.object({ at: z.string(), message: z.string() })),
  })
  .openapi("LiveEventStatus");

const createdSchema = statusSchema
  .extend({
    ingest: z.object({
      /** ffmpeg's HLS muxer PUTs `{rendition}/index.m3u8`, `{rendition}/init_N.mp4` and `{rendition}/{n}.m4s` under it. */
      baseUrl: z.string(),
      /** Send as `Authorization: Bearer {token}`; shown once, stored only as its hash. */
      token: z.string(),
    }),
  })
  .openapi("LiveEventCreated");

const binary = { "application/octet-stream": { schema: z.string().openapi({ format: "binary" }) } };

export const liveRoutes = createRouter();
liveRoutes.use("/v1/admin/live", requireAdmin);
liveRoutes.use("/v1/admin/live/*", requireAdmin);

liveRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/admin/live",
    tags,
    security: adminSecurity,
    summary: "Create a live event: its title, asset, and the ingest URL and token for ffmpeg",
    request: { body: jsonBody(newLiveSchema, 8 * KB) },
    responses: { 201: json(createdSchema, "Created, waiting for the broadcaster"), ...errorDocs({ 400: "Invalid request", 401: "No or wrong admin token", 404: "No such title", 409: "The title is a series or already has a video" }) },
  }),
  async (c) => {
    const input = c.req.valid("json");
    const created = await createLiveEvent(c.env, input, new URL(c.req.url).origin, c.get("requestId"), new Date());
    return c.json(created, 201);
  },
);

liveRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/admin/live/{liveId}",
    tags,
    security: adminSecurity,
    summary: "A live event's state, last segment, ingest bitrate and errors",
    request: { params: z.object({ liveId: liveIdParam }) },
    responses: { 200: json(statusSchema, "The event"), ...errorDocs({ 400: "Invalid request", 401: "No or wrong admin token", 404: "No such live event" }) },
  }),
  async (c) => c.json(await liveEventStatus(c.env, c.req.valid("param").liveId, c.get("requestId")), 200),
);

liveRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/v1/admin/live/{liveId}",
    tags,
    security: adminSecurity,
    summary: "End a live event: no more ingest, and its recording becomes the title's on-demand video",
    request: { params: z.object({ liveId: liveIdParam }) },
    responses: { 200: json(statusSchema, "Ended (again, if it already was)"), ...errorDocs({ 400: "Invalid request", 401: "No or wrong admin token", 404: "No such live event" }) },
  }),
  async (c) => c.json(await endLiveEvent(c.env, c.req.valid("param").liveId, c.get("requestId")), 200),
);

const ingestErrors = errorDocs({
  400: "Not a file of this event's ladder, or not valid fMP4 / HLS",
  401: "No or wrong ingest token",
  404: "No such live event or file name",
  409: "Out of order (a segment before its init) or an init that changed after publishing",
  410: "The event has ended",
  413: "Over the file's limit",
});

liveRoutes.openapi(
  createRoute({
    method: "put",
    path: "/v1/live/{liveId}/ingest/{rendition}/{file}",
    tags,
    security: ingestSecurity,
    summary: "Broadcaster upload (ffmpeg -f hls -method PUT): a rendition's init segment, media segment or playlist",
    request: {
      params: z.object({
        liveId: liveIdParam,
        rendition: rungNameSchema,
        file: z.string().max(32).openapi({ description: "init_N.mp4, {n}.m4s or index.m3u8" }),
      }),
      body: chunkedBody(binary, LIVE_LIMITS.segmentBytes, "a media segment up to 16 MB; an init segment or playlist up to 64 KB"),
    },
    responses: { 201: { description: "Stored" }, 204: { description: "Playlist read" }, ...ingestErrors },
  }),
  async (c) => {
    const { liveId, rendition, file } = c.req.valid("param");
    const kind = ingestFileOf(file);
    if (!kind) throw new ApiError("NOT_FOUND", `${file} is not a file a live ingest takes (init_N.mp4, {n}.m4s, index.m3u8).`);
    return ingestFile(c, liveId, rendition, kind);
  },
);

liveRoutes.openapi(
  createRoute({
    method: "put",
    path: "/v1/live/{liveId}/ingest/{file}",
    tags,
    security: ingestSecurity,
    summary: "The broadcaster's multivariant playlist: accepted and ignored (viewers' manifests are made from the segments)",
    request: {
      params: z.object({ liveId: liveIdParam, file: z.literal("master.m3u8") }),
      body: chunkedBody(binary, LIVE_LIMITS.smallFileBytes, "ffmpeg's master playlist"),
    },
    responses: { 204: { description: "Accepted" }, ...ingestErrors },
  }),
  (c) => acceptMasterPlaylist(c, c.req.valid("param").liveId),
);
