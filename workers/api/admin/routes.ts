// /v1/admin/*: the ingest's upload protocol (rendition index → files → publish) and the
// catalog writes it needs. Every route needs the admin token.
import { createRoute, z } from "@hono/zod-openapi";
import { ApiError, errorBodySchema } from "../../../lib/errors.ts";
import { assetIdSchema, renditionIndexSchema } from "../../../lib/media-index.ts";
import { checkPublishTarget, createTitle, linkAsset, newTitleSchema, publishTargetSchema } from "../catalog/admin-titles.ts";
import {
  abortMultipartUpload,
  completeMultipartUpload,
  createMultipartUpload,
  getAssetStatus,
  MULTIPART_PART_BYTES,
  publishAsset,
  putDraftIndex,
  putFile,
  uploadPart,
} from "../ingest/asset-uploads.ts";
import { FILES_PER_CALL, replicateAsset } from "../ingest/replicate.ts";
import { createRouter, errorDocs, json } from "../router.ts";
import { requireAdmin } from "./require-admin.ts";
import { jsonBody, KB, MB, streamedBody } from "../body-limits.ts";

const security = [{ adminToken: [] }];
const tags = ["admin"];
const errors = errorDocs({ 400: "Invalid request", 401: "No or wrong admin token", 404: "No such asset, file or title", 409: "The asset's state does not allow this" });

const assetParams = z.object({ assetId: assetIdSchema });
const fileParams = assetParams.extend({ path: z.string().min(1).max(256).openapi({ description: "File path within the asset, URL-encoded (240p%2F1.m4s)" }) });

const assetStatusSchema = z
  .object({
    assetId: z.string(),
    status: z.enum(["pending", "published"]),
    files: z.array(z.object({ path: z.string(), bytes: z.number(), sha256: z.string(), uploaded: z.boolean() })),
    linkedTo: z.array(z.object({ titleId: z.string(), episodeId: z.string().optional() })),
  })
  .openapi("AssetStatus");

const replicaStatusSchema = z
  .object({
    pathway: z.string().openapi({ example: "p2" }),
    filesDone: z.number().int(),
    filesTotal: z.number().int(),
    bytesDone: z.number().int(),
    complete: z.boolean(),
    error: z.string().optional().openapi({ description: "Why this call stopped short (a failing origin); the next call carries on" }),
  })
  .openapi("ReplicaStatus");

const multipartTarget = z.object({ path: z.string().min(1).max(256), uploadId: z.string().min(1).max(1024) });
const binary = { "application/octet-stream": { schema: z.string().openapi({ format: "binary" }) } };
/** One file in one request: the Workers platform's own request limit on Free and Pro plans (larger files go multipart). */
const fileBody = streamedBody(binary, 100 * MB, "exactly the file's bytes as the index lists them");
const partBody = streamedBody(binary, MULTIPART_PART_BYTES, "one part: partBytes from the upload's start, the last part shorter");

function contentLength(header: string | undefined): number | null {
  return header !== undefined && /^\d+$/.test(header) ? Number(header) : null;
}

export const adminRoutes = createRouter();
adminRoutes.use("/v1/admin/*", requireAdmin);

adminRoutes.openapi(
  createRoute({
    method: "put",
    path: "/v1/admin/assets/{assetId}",
    tags,
    security,
    summary: "Start or resume an asset upload with its rendition index",
    // Every file of the asset is listed (path, bytes, SHA-256): about 2.6 MB for two hours of 2 s segments in six renditions.
    request: { params: assetParams, body: jsonBody(renditionIndexSchema, 8 * MB) },
    responses: { 200: json(assetStatusSchema, "The asset and which of its files are already uploaded intact"), ...errors },
  }),
  async (c) => {
    const index = c.req.valid("json");
    if (index.assetId !== c.req.valid("param").assetId) throw new ApiError("BAD_REQUEST", "The index's assetId differs from the URL's.");
    return c.json(await putDraftIndex(c.env, index, new Date()), 200);
  },
);

adminRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/admin/assets/{assetId}",
    tags,
    security,
    summary: "An asset's upload status",
    request: { params: assetParams },
    responses: { 200: json(assetStatusSchema, "The asset and which of its files are uploaded intact"), ...errors },
  }),
  async (c) => c.json(await getAssetStatus(c.env, c.req.valid("param").assetId), 200),
);

adminRoutes.openapi(
  createRoute({
    method: "put",
    path: "/v1/admin/assets/{assetId}/files/{path}",
    tags,
    security,
    summary: "Upload one file (streamed into R2, verified against the index's SHA-256)",
    request: { params: fileParams, body: fileBody },
    responses: { 204: { description: "Stored intact" }, 422: json(errorBodySchema, "The bytes do not match the index"), ...errors },
  }),
  async (c) => {
    const { assetId, path } = c.req.valid("param");
    await putFile(c.env, assetId, path, c.req.raw.body, contentLength(c.req.header("content-length")));
    return c.body(null, 204);
  },
);

adminRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/admin/assets/{assetId}/multipart",
    tags,
    security,
    summary: "Start a multipart upload of one large file",
    request: { params: assetParams, body: jsonBody(z.object({ path: z.string().min(1).max(256) }), 4 * KB) },
    responses: { 200: json(z.object({ uploadId: z.string(), partBytes: z.number() }), "Upload parts of partBytes (the last may be shorter)"), ...errors },
  }),
  async (c) => c.json(await createMultipartUpload(c.env, c.req.valid("param").assetId, c.req.valid("json").path), 200),
);

adminRoutes.openapi(
  createRoute({
    method: "put",
    path: "/v1/admin/assets/{assetId}/multipart/part",
    tags,
    security,
    summary: "Upload one part of a multipart upload",
    request: {
      params: assetParams,
      query: multipartTarget.extend({ partNumber: z.coerce.number().int().min(1).max(10000) }),
      body: partBody,
    },
    responses: { 200: json(z.object({ partNumber: z.number(), etag: z.string() }), "The part's etag, for completing"), ...errors },
  }),
  async (c) => {
    const { path, uploadId, partNumber } = c.req.valid("query");
    return c.json(await uploadPart(c.env, { assetId: c.req.valid("param").assetId, path, uploadId, partNumber }, c.req.raw.body), 200);
  },
);

adminRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/admin/assets/{assetId}/multipart/complete",
    tags,
    security,
    summary: "Complete a multipart upload; the file is read back and checked against the index",
    request: {
      params: assetParams,
      // At most 10,000 parts (R2's own limit), each an etag of at most 1 KB (local R2's run to hundreds of characters).
      body: jsonBody(
        multipartTarget.extend({
          parts: z
            .array(z.object({ partNumber: z.number().int().min(1).max(10_000), etag: z.string().min(1).max(1024) }))
            .min(1)
            .max(10_000)
            .refine((parts) => new Set(parts.map((p) => p.partNumber)).size === parts.length, "part numbers repeat"),
        }),
        12 * MB,
      ),
    },
    responses: { 204: { description: "Stored intact" }, 422: json(errorBodySchema, "The file does not match the index"), ...errors },
  }),
  async (c) => {
    const { path, uploadId, parts } = c.req.valid("json");
    await completeMultipartUpload(c.env, { assetId: c.req.valid("param").assetId, path, uploadId }, parts);
    return c.body(null, 204);
  },
);

adminRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/admin/assets/{assetId}/multipart/abort",
    tags,
    security,
    summary: "Abandon a multipart upload",
    request: { params: assetParams, body: jsonBody(multipartTarget, 4 * KB) },
    responses: { 204: { description: "Abandoned" }, ...errors },
  }),
  async (c) => {
    await abortMultipartUpload(c.env, { assetId: c.req.valid("param").assetId, ...c.req.valid("json") });
    return c.body(null, 204);
  },
);

adminRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/admin/assets/{assetId}/publish",
    tags,
    security,
    summary: "Verify every file, make the asset playable, link it to a movie or an episode, and copy it to the replicas",
    request: { params: assetParams, body: jsonBody(publishTargetSchema.partial({ titleId: true }), 4 * KB, { required: false }) },
    responses: {
      200: json(
        z.object({
          assetId: z.string(),
          status: z.literal("published"),
          titleId: z.string().optional(),
          episodeId: z.string().optional(),
          replication: z.array(replicaStatusSchema).openapi({
            description: `Each replica's copy of the asset (docs/media-origin.md): up to ${FILES_PER_CALL} files per replica per call. Call again until every replica is complete; the asset plays from the primary meanwhile.`,
          }),
        }),
        "Published",
      ),
      ...errors,
    },
  }),
  async (c) => {
    const { assetId } = c.req.valid("param");
    const target = c.req.valid("json") ?? {};
    const now = new Date();
    // Where it will be linked is checked first: a bad title never leaves a playable orphan.
    if (target.titleId) await checkPublishTarget(c.env.DB, { titleId: target.titleId, episode: target.episode });
    const index = await publishAsset(c.env, assetId, now);
    const linked = target.titleId
      ? await linkAsset(c.env.DB, { titleId: target.titleId, episode: target.episode }, assetId, Math.round(index.durationSec), now)
      : {};
    const replication = await replicateAsset(c.env, index, now);
    return c.json({ assetId, status: "published" as const, titleId: target.titleId, ...linked, replication }, 200);
  },
);

adminRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/admin/titles",
    tags,
    security,
    summary: "Create a title",
    request: { body: jsonBody(newTitleSchema, 256 * KB) },
    responses: { 201: json(z.object({ id: z.string() }), "Created"), ...errors },
  }),
  async (c) => c.json(await createTitle(c.env.DB, c.req.valid("json"), new Date()), 201),
);
