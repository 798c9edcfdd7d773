// /v1/titles: browsing the catalog (public; a signed-in profile sees only its level).
import { createRoute, z } from "@hono/zod-openapi";
import { ApiError } from "../../../lib/errors.ts";
import { createRouter, errorDocs, json } from "../router.ts";
import { BadCursor, getTitle, listQuerySchema, listTitles } from "./browse.ts";
import { cachedCatalogRead } from "./cached-read.ts";
import { catalogViewer } from "./viewer.ts";

const tags = ["catalog"];
const errors = errorDocs({ 400: "Invalid query (e.g. a cursor from another sort)", 404: "No such title for this viewer" });

const cardSchema = z
  .object({
    id: z.string(),
    kind: z.enum(["movie", "series"]),
    name: z.string(),
    synopsis: z.string(),
    releaseYear: z.number(),
    maturityRating: z.string(),
    runtimeSec: z.number().nullable(),
    posterPath: z.string().nullable(),
    popularity: z.number(),
  })
  .openapi("TitleCard");

export const catalogRoutes = createRouter();

catalogRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/titles",
    tags,
    summary: "Titles, filtered by genre and type, by popularity or newest, a page at a time",
    request: { query: listQuerySchema },
    responses: {
      200: json(z.object({ titles: z.array(cardSchema), nextCursor: z.string().nullable() }), "A page; pass nextCursor for the next"),
      304: { description: "Not modified (If-None-Match)" },
      ...errors,
    },
  }),
  async (c) => {
    const query = c.req.valid("query");
    const viewer = await catalogViewer(c);
    try {
      return (await cachedCatalogRead(c, viewer, query, (db, now) => listTitles(db, viewer, query, now)))!;
    } catch (err) {
      if (err instanceof BadCursor) throw new ApiError("VALIDATION_FAILED", `Invalid cursor: ${err.message}.`, { details: [{ path: "cursor", message: err.message }] });
      throw err;
    }
  },
);

catalogRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/titles/{id}",
    tags,
    summary: "One title with its genres, cast and crew, seasons and episodes",
    request: { params: z.object({ id: z.string().min(1).max(80) }) },
    responses: { 200: json(z.record(z.string(), z.unknown()), "The title"), 304: { description: "Not modified" }, ...errors },
  }),
  async (c) => {
    const viewer = await catalogViewer(c);
    const res = await cachedCatalogRead(c, viewer, c.req.valid("param"), (db, now) => getTitle(db, viewer, c.req.valid("param").id, now));
    if (!res) throw new ApiError("NOT_FOUND", "No such title.");
    return res;
  },
);
