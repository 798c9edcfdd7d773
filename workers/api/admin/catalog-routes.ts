// /v1/admin catalog editing: titles, seasons, episodes, genres and the NDJSON bulk import.
// Thin: zod validates, services in catalog/admin-*.ts and catalog/bulk-import.ts write.
import { createRoute, z } from "@hono/zod-openapi";
import { ApiError } from "../../../lib/errors.ts";
import {
  adminTitleSchema,
  catalogIdSchema,
  createEpisode,
  createSeason,
  deleteEpisode,
  deleteGenre,
  deleteSeason,
  deleteTitle,
  episodeNumberSchema,
  episodePatchSchema,
  genreBodySchema,
  newEpisodeSchema,
  newSeasonSchema,
  patchEpisode,
  patchSeason,
  patchTitle,
  putGenre,
  readTitle,
  seasonNumberSchema,
  seasonPatchSchema,
  titlePatchSchema,
} from "../catalog/admin-catalog.ts";
import { importCatalog, MAX_LINE_CHARS, MAX_REPORTED_FAILURES } from "../catalog/bulk-import.ts";
import { createRouter, errorDocs, json } from "../router.ts";
import { requireAdmin } from "./require-admin.ts";
import { jsonBody, KB, MB, streamedBody } from "../body-limits.ts";

const security = [{ adminToken: [] }];
const tags = ["admin"];
const errors = errorDocs({ 400: "Invalid request", 401: "No or wrong admin token", 404: "No such title, season, episode or genre", 409: "Conflicts with what is stored" });
/** A title with its credits, seasons and episodes is the largest admin catalog body: 256 KB is ample. */
const body = <T extends z.ZodType>(schema: T) => jsonBody(schema, 256 * KB);
const noContent = { 204: { description: "Done" } };

const titleParams = z.object({ id: catalogIdSchema });
const seasonParams = titleParams.extend({ number: seasonNumberSchema });
const episodeParams = z.object({ id: catalogIdSchema, season: seasonNumberSchema, number: episodeNumberSchema });
const created = json(z.object({ id: z.string() }), "Created");

export const adminCatalogRoutes = createRouter();
// Guarded here as well as by the ingest routes' identical middleware, so this router is safe whatever the mount order.
adminCatalogRoutes.use("/v1/admin/*", requireAdmin);

adminCatalogRoutes.openapi(
  createRoute({ method: "get", path: "/v1/admin/titles/{id}", tags, security, summary: "A title as stored, with genres, credits, seasons and episodes", request: { params: titleParams }, responses: { 200: json(adminTitleSchema, "The title"), ...errors } }),
  async (c) => c.json(await readTitle(c.env.DB, c.req.valid("param").id), 200),
);

adminCatalogRoutes.openapi(
  createRoute({ method: "patch", path: "/v1/admin/titles/{id}", tags, security, summary: "Change some of a title's fields (genres and credits are replaced when given)", request: { params: titleParams, body: body(titlePatchSchema) }, responses: { 200: json(adminTitleSchema, "The title after the change"), ...errors } }),
  async (c) => {
    const { id } = c.req.valid("param");
    await patchTitle(c.env.DB, id, c.req.valid("json"), new Date());
    return c.json(await readTitle(c.env.DB, id), 200);
  },
);

adminCatalogRoutes.openapi(
  createRoute({ method: "delete", path: "/v1/admin/titles/{id}", tags, security, summary: "Delete a title with its seasons, episodes, genre links and credits", request: { params: titleParams }, responses: { ...noContent, ...errors } }),
  async (c) => {
    await deleteTitle(c.env.DB, c.req.valid("param").id);
    return c.body(null, 204);
  },
);

adminCatalogRoutes.openapi(
  createRoute({ method: "post", path: "/v1/admin/titles/{id}/seasons", tags, security, summary: "Add a season to a series", request: { params: titleParams, body: body(newSeasonSchema) }, responses: { 201: created, ...errors } }),
  async (c) => c.json(await createSeason(c.env.DB, c.req.valid("param").id, c.req.valid("json"), new Date()), 201),
);

adminCatalogRoutes.openapi(
  createRoute({ method: "patch", path: "/v1/admin/titles/{id}/seasons/{number}", tags, security, summary: "Rename a season", request: { params: seasonParams, body: body(seasonPatchSchema) }, responses: { ...noContent, ...errors } }),
  async (c) => {
    const { id, number } = c.req.valid("param");
    await patchSeason(c.env.DB, id, number, c.req.valid("json"), new Date());
    return c.body(null, 204);
  },
);

adminCatalogRoutes.openapi(
  createRoute({ method: "delete", path: "/v1/admin/titles/{id}/seasons/{number}", tags, security, summary: "Delete a season and its episodes", request: { params: seasonParams }, responses: { ...noContent, ...errors } }),
  async (c) => {
    const { id, number } = c.req.valid("param");
    await deleteSeason(c.env.DB, id, number, new Date());
    return c.body(null, 204);
  },
);

adminCatalogRoutes.openapi(
  createRoute({ method: "post", path: "/v1/admin/titles/{id}/seasons/{season}/episodes", tags, security, summary: "Add an episode to a season", request: { params: episodeParams.omit({ number: true }), body: body(newEpisodeSchema) }, responses: { 201: created, ...errors } }),
  async (c) => {
    const { id, season } = c.req.valid("param");
    return c.json(await createEpisode(c.env.DB, id, season, c.req.valid("json"), new Date()), 201);
  },
);

adminCatalogRoutes.openapi(
  createRoute({ method: "patch", path: "/v1/admin/titles/{id}/seasons/{season}/episodes/{number}", tags, security, summary: "Change an episode's name, synopsis or runtime", request: { params: episodeParams, body: body(episodePatchSchema) }, responses: { ...noContent, ...errors } }),
  async (c) => {
    const { id, season, number } = c.req.valid("param");
    await patchEpisode(c.env.DB, id, season, number, c.req.valid("json"), new Date());
    return c.body(null, 204);
  },
);

adminCatalogRoutes.openapi(
  createRoute({ method: "delete", path: "/v1/admin/titles/{id}/seasons/{season}/episodes/{number}", tags, security, summary: "Delete an episode", request: { params: episodeParams }, responses: { ...noContent, ...errors } }),
  async (c) => {
    const { id, season, number } = c.req.valid("param");
    await deleteEpisode(c.env.DB, id, season, number, new Date());
    return c.body(null, 204);
  },
);

adminCatalogRoutes.openapi(
  createRoute({
    method: "put",
    path: "/v1/admin/genres/{id}",
    tags,
    security,
    summary: "Create or rename a genre",
    request: { params: titleParams, body: body(genreBodySchema) },
    responses: { 200: json(z.object({ id: z.string(), name: z.string(), created: z.boolean() }), "Stored"), ...errors },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const { name } = c.req.valid("json");
    return c.json({ id, name, ...(await putGenre(c.env.DB, id, name)) }, 200);
  },
);

adminCatalogRoutes.openapi(
  createRoute({ method: "delete", path: "/v1/admin/genres/{id}", tags, security, summary: "Delete a genre (titles lose it)", request: { params: titleParams }, responses: { ...noContent, ...errors } }),
  async (c) => {
    await deleteGenre(c.env.DB, c.req.valid("param").id);
    return c.body(null, 204);
  },
);

const importReportSchema = z.object({
  imported: z.number(),
  failed: z.array(z.object({ line: z.number(), errors: z.array(z.object({ path: z.string(), message: z.string() })) })).openapi({ description: `The first ${MAX_REPORTED_FAILURES} bad lines` }),
  failedCount: z.number(),
});

adminCatalogRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/admin/catalog/import",
    tags,
    security,
    summary: "Upsert titles from NDJSON, one title per line; bad lines are reported by number and skipped",
    request: { body: streamedBody({ "application/x-ndjson": { schema: z.string().openapi({ description: "One title (with genres, credits, seasons and episodes) per line" }) } }, 100 * MB, `read line by line, each at most ${MAX_LINE_CHARS / 1024} KB; send a large catalog in chunks (npm run catalog:import does)`) },
    responses: { 200: json(importReportSchema, "What was imported and which lines failed"), 415: json(z.unknown(), "Not NDJSON"), ...errors },
  }),
  async (c) => {
    const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
    if (type !== "application/x-ndjson" && type !== "application/jsonl") throw new ApiError("UNSUPPORTED_MEDIA_TYPE", "Send application/x-ndjson: one JSON title per line.");
    if (!c.req.raw.body) throw new ApiError("BAD_REQUEST", "The body is empty.");
    return c.json(await importCatalog(c.env.DB, c.req.raw.body, new Date()), 200);
  },
);
