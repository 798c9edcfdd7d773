// /v1/admin: an episode's or film's intro, recap and credits (GET and PUT), and the
// ingest tool's stored analysis of an asset, from which detection can run again. Thin:
// zod validates, catalog/skip-segments.ts reads and writes.
import { createRoute, z } from "@hono/zod-openapi";
import { assetIdSchema } from "../../../lib/media-index.ts";
import { episodeAnalysisSchema, MIN_VISIBLE_CONFIDENCE, SKIP_ANALYSIS_LIMITS, skipSegmentKinds, skipSegmentSources } from "../../../lib/skip-segments.ts";
import { requireAdmin } from "../admin/require-admin.ts";
import { jsonBody, KB } from "../body-limits.ts";
import type { AppEnv } from "../env.ts";
import { createRouter, errorDocs, json } from "../router.ts";
import { catalogIdSchema, episodeNumberSchema, seasonNumberSchema } from "./admin-catalog.ts";
import { episodeTarget, movieTarget, putAnalysis, putSkipSegments, readAnalysis, readSkipSegments, type SegmentTarget, skipSegmentsPutSchema } from "./skip-segments.ts";
import type { Context } from "hono";

const security = [{ adminToken: [] }];
const tags = ["admin"];
const errors = errorDocs({
  400: "Invalid request: overlapping, repeated or out-of-video segments (details)",
  401: "No or wrong admin token",
  404: "No such title, season, episode or asset, or no published video (details.reason)",
  503: "Stored, but the manifests could not be updated; send the same request again",
});

const storedSegmentsSchema = z
  .object({
    assetId: z.string(),
    segments: z.array(
      z.object({
        kind: z.enum(skipSegmentKinds),
        startSec: z.number(),
        endSec: z.number(),
        source: z.enum(skipSegmentSources),
        confidence: z.number(),
        visible: z.boolean().openapi({ description: `Shown to viewers: manual, or detected with confidence ≥ ${MIN_VISIBLE_CONFIDENCE}` }),
      }),
    ),
  })
  .openapi("SkipSegments");

const episodeParams = z.object({ id: catalogIdSchema, season: seasonNumberSchema, episode: episodeNumberSchema });
const titleParams = z.object({ id: catalogIdSchema });
const putBody = jsonBody(skipSegmentsPutSchema.openapi("SkipSegmentsPut"), 4 * KB);
const description =
  "Kinds: recap, intro, credits, at most one each, not overlapping, within the video. A `manual` PUT (the default) replaces the set; a `detected` PUT (the ingest tool) replaces detected segments only and never a manual one. Viewers see manual segments and detected ones of confidence ≥ " +
  `${MIN_VISIBLE_CONFIDENCE}, in the play response and in the manifests (HLS EXT-X-DATERANGE, DASH EventStream; docs/skip-segments.md) within about two minutes.`;

export const skipSegmentRoutes = createRouter();
skipSegmentRoutes.use("/v1/admin/*", requireAdmin);

async function answer(c: Context<AppEnv>, target: SegmentTarget, write?: z.infer<typeof skipSegmentsPutSchema>) {
  const stored = write ? await putSkipSegments(c.env, target, write, new Date()) : await readSkipSegments(c.env.DB, target.assetId);
  return c.json(
    { assetId: target.assetId, segments: stored.map((s) => ({ ...s, visible: s.source === "manual" || s.confidence >= MIN_VISIBLE_CONFIDENCE })) },
    200,
  );
}

const episodePath = "/v1/admin/titles/{id}/seasons/{season}/episodes/{episode}/segments";
const moviePath = "/v1/admin/titles/{id}/segments";

skipSegmentRoutes.openapi(
  createRoute({ method: "get", path: episodePath, tags, security, summary: "An episode's intro, recap and credits", request: { params: episodeParams }, responses: { 200: json(storedSegmentsSchema, "Stored segments"), ...errors } }),
  async (c) => {
    const { id, season, episode } = c.req.valid("param");
    return answer(c, await episodeTarget(c.env.DB, id, season, episode));
  },
);

skipSegmentRoutes.openapi(
  createRoute({ method: "put", path: episodePath, tags, security, summary: "Replace an episode's intro, recap and credits", description, request: { params: episodeParams, body: putBody }, responses: { 200: json(storedSegmentsSchema, "Stored after the change"), ...errors } }),
  async (c) => {
    const { id, season, episode } = c.req.valid("param");
    return answer(c, await episodeTarget(c.env.DB, id, season, episode), c.req.valid("json"));
  },
);

skipSegmentRoutes.openapi(
  createRoute({ method: "get", path: moviePath, tags, security, summary: "A film's credits (and any intro)", request: { params: titleParams }, responses: { 200: json(storedSegmentsSchema, "Stored segments"), ...errors } }),
  async (c) => answer(c, await movieTarget(c.env.DB, c.req.valid("param").id)),
);

skipSegmentRoutes.openapi(
  createRoute({ method: "put", path: moviePath, tags, security, summary: "Replace a film's segments", description, request: { params: titleParams, body: putBody }, responses: { 200: json(storedSegmentsSchema, "Stored after the change"), ...errors } }),
  async (c) => answer(c, await movieTarget(c.env.DB, c.req.valid("param").id), c.req.valid("json")),
);

const analysisPath = "/v1/admin/assets/{assetId}/analysis";
const assetParams = z.object({ assetId: assetIdSchema });

skipSegmentRoutes.openapi(
  createRoute({
    method: "put",
    path: analysisPath,
    tags,
    security,
    summary: "Store the ingest tool's audio fingerprints and picture analysis of an asset (for re-running segment detection)",
    request: { params: assetParams, body: jsonBody(episodeAnalysisSchema.openapi("EpisodeAnalysis"), SKIP_ANALYSIS_LIMITS.bodyBytes) },
    responses: { 204: { description: "Stored" }, ...errors },
  }),
  async (c) => {
    await putAnalysis(c.env, c.req.valid("param").assetId, c.req.valid("json"));
    return c.body(null, 204);
  },
);

skipSegmentRoutes.openapi(
  createRoute({ method: "get", path: analysisPath, tags, security, summary: "An asset's stored analysis", request: { params: assetParams }, responses: { 200: json(episodeAnalysisSchema, "The analysis"), ...errors } }),
  async (c) => c.json(await readAnalysis(c.env.MEDIA, c.req.valid("param").assetId), 200),
);
