// GET /v1/search: full-text catalog search, limited to what the caller may see (available
// now, and within the entered profile's maturity level when signed in).
import { createRoute, z } from "@hono/zod-openapi";
import { createRouter, errorDocs, json } from "../router.ts";
import { searchTitles } from "./search.ts";
import { cachedCatalogRead } from "./cached-read.ts";
import { catalogViewer } from "./viewer.ts";

const querySchema = z.object({
  // Length is checked before trimming: 100 characters is what a client may send.
  q: z.string().max(100).trim().min(1).openapi({ description: "The search text; the last word matches as a prefix", example: "keyfr" }),
  limit: z.coerce.number().int().min(1).max(50).default(20).openapi({ description: "At most this many results (1–50)", example: 20 }),
});

const resultSchema = z
  .object({
    id: z.string(),
    kind: z.enum(["movie", "series"]),
    name: z.string(),
    releaseYear: z.number().int(),
    maturityRating: z.string(),
    posterPath: z.string().nullable(),
    synopsis: z.string().openapi({ description: "Cut to about 200 characters" }),
    match: z.enum(["fulltext", "fuzzy"]).openapi({ description: "fuzzy: found by name similarity (typo tolerance), ranked after full-text matches" }),
  })
  .openapi("SearchResult");

const searchResponseSchema = z.object({ query: z.string(), results: z.array(resultSchema) }).openapi("SearchResponse");

export const searchRoutes = createRouter();

searchRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/search",
    tags: ["catalog"],
    summary: "Search titles by name, synopsis and cast/crew, with typo tolerance",
    description:
      "Case- and accent-insensitive; the last word is a prefix. Only titles available now; with a session whose entered profile has a maturity level, only titles within it. When full-text search finds fewer than 3 titles, names sharing at least half of the query's trigrams follow (match: fuzzy).",
    request: { query: querySchema },
    responses: { 200: json(searchResponseSchema, "Results, best first"), 304: { description: "Not modified (If-None-Match)" }, ...errorDocs({ 400: "q empty or longer than 100 characters, or limit outside 1–50" }) },
  }),
  async (c) => {
    const { q, limit } = c.req.valid("query");
    // Optional auth, shared with browsing: a session's entered profile caps the level; no
    // session (or a stale one) sees every level, as anonymous callers do.
    const viewer = await catalogViewer(c);
    // Cached like every public catalog read: per catalog version and maturity level (the
    // only thing about the caller that changes results), with ETag/304.
    const res = await cachedCatalogRead(c, viewer, { q, limit }, async (db, now) => ({
      query: q,
      results: await searchTitles(db as unknown as D1Database, q, { limit, now, maxLevel: viewer.maturityLevel }),
    }));
    return res!;
  },
);
