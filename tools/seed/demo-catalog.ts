// The shape of demo/catalog.json, and how to write it into D1: idempotently, in as few
// batches as D1 comfortably takes.
import { and, eq, getTableColumns, ne, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import { z } from "zod";
import { assets, credits, episodes, genres, people, seasons, titleGenres, titles } from "../../d1/schema.ts";
import { assetExtras, resolutionClass, type RenditionIndex } from "../../lib/media-index.ts";
import { ratingLevel } from "../../lib/maturity.ts";
import { bumpCatalogVersion } from "../../d1/catalog-version.ts";

const creditSchema = z.object({
  personId: z.string().min(1),
  role: z.enum(["cast", "director", "writer", "creator"]),
  character: z.string().min(1).optional(),
});

const episodeSchema = z.object({
  number: z.number().int().positive(),
  name: z.string().min(1),
  synopsis: z.string(),
  assetId: z.string().nullable(),
});

const seasonSchema = z.object({
  number: z.number().int().positive(),
  name: z.string().min(1),
  episodes: z.array(episodeSchema),
});

export const demoCatalogSchema = z.object({
  $comment: z.string().optional(),
  genres: z.array(z.object({ id: z.string().min(1), name: z.string().min(1) })).min(1),
  people: z.array(z.object({ id: z.string().min(1), name: z.string().min(1) })).optional(),
  titles: z
    .array(
      z.object({
        id: z.string().min(1),
        kind: z.enum(["movie", "series"]),
        name: z.string().min(1),
        synopsis: z.string(),
        releaseYear: z.number().int(),
        maturityRating: z.string().min(1),
        popularity: z.number().min(0).optional(),
        posterPath: z.string().startsWith("/").optional(),
        /** ISO 8601; the title is invisible before it. */
        availableFrom: z.iso.datetime().optional(),
        /** ISO 8601; the title is invisible from it on. */
        availableUntil: z.iso.datetime().optional(),
        assetId: z.string().nullable(),
        genres: z.array(z.string().min(1)),
        credits: z.array(creditSchema).optional(),
        /** Series only. Season ids are `{titleId}-s{n}`, episode ids `{titleId}-s{n}e{m}`. */
        seasons: z.array(seasonSchema).optional(),
      }),
    )
    .min(1),
});

export type DemoCatalog = z.infer<typeof demoCatalogSchema>;

export const seasonId = (titleId: string, season: number) => `${titleId}-s${season}`;
export const episodeId = (titleId: string, season: number, episode: number) => `${titleId}-s${season}e${episode}`;

/** Every asset a title or an episode of the catalog plays. */
export function catalogAssetIds(catalog: DemoCatalog): string[] {
  const ids = catalog.titles.flatMap((t) => [
    ...(t.assetId ? [t.assetId] : []),
    ...(t.seasons ?? []).flatMap((s) => s.episodes.flatMap((e) => (e.assetId ? [e.assetId] : []))),
  ]);
  return [...new Set(ids)];
}

/** D1 refuses a statement with more than 100 bound parameters. */
const MAX_PARAMS = 100;
/** Statements per batch() call: D1 takes more, but a seed has no need to push it. */
const MAX_BATCH = 500;

/**
 * Inserts what is missing and leaves existing rows alone (ON CONFLICT DO NOTHING), so
 * seeding twice changes nothing. Rows go in as multi-row inserts of as many rows as fit
 * under D1's parameter limit, in dependency order, in one batch() per MAX_BATCH statements.
 * Assets come from their rendition indexes (already uploaded to R2), so a title or an
 * episode never points at media that is not there. Returns the number of rows inserted.
 */
export async function seedCatalog(db: D1Database, catalog: DemoCatalog, indexes: RenditionIndex[], now: Date): Promise<number> {
  const orm = drizzle(db);
  const indexById = new Map(indexes.map((i) => [i.assetId, i]));
  const runtime = (assetId: string | null) => (assetId === null ? null : Math.round(indexById.get(assetId)!.durationSec));
  const personIds = new Set((catalog.people ?? []).map((p) => p.id));
  for (const t of catalog.titles) {
    if (t.assetId !== null && !indexById.has(t.assetId)) throw new Error(`title ${t.id}: asset ${t.assetId} has no rendition index`);
    for (const s of t.seasons ?? [])
      for (const e of s.episodes)
        if (e.assetId !== null && !indexById.has(e.assetId))
          throw new Error(`episode ${episodeId(t.id, s.number, e.number)}: asset ${e.assetId} has no rendition index`);
    for (const c of t.credits ?? []) if (!personIds.has(c.personId)) throw new Error(`title ${t.id}: credit for unknown person ${c.personId}`);
  }
  const date = (iso: string | undefined) => (iso === undefined ? null : new Date(iso));

  const assetRows = indexes.map((i) => ({
    id: i.assetId,
    status: "published" as const,
    durationSec: i.durationSec,
    maxHeight: Math.max(...i.video.map((v) => resolutionClass(v))),
    extras: assetExtras(i),
    createdAt: now,
    publishedAt: now,
  }));
  const titleRows = catalog.titles.map((t) => ({
    id: t.id,
    kind: t.kind,
    name: t.name,
    synopsis: t.synopsis,
    releaseYear: t.releaseYear,
    maturityRating: t.maturityRating,
    maturityLevel: ratingLevel(t.maturityRating),
    popularity: t.popularity ?? 0,
    posterPath: t.posterPath ?? null,
    availableFrom: date(t.availableFrom),
    availableUntil: date(t.availableUntil),
    runtimeSec: runtime(t.assetId),
    assetId: t.assetId,
    createdAt: now,
    updatedAt: now,
  }));
  const titleGenreRows = catalog.titles.flatMap((t) => t.genres.map((genreId) => ({ titleId: t.id, genreId })));
  const seasonRows = catalog.titles.flatMap((t) =>
    (t.seasons ?? []).map((s) => ({ id: seasonId(t.id, s.number), titleId: t.id, number: s.number, name: s.name })),
  );
  const episodeRows = catalog.titles.flatMap((t) =>
    (t.seasons ?? []).flatMap((s) =>
      s.episodes.map((e) => ({
        id: episodeId(t.id, s.number, e.number),
        seasonId: seasonId(t.id, s.number),
        number: e.number,
        name: e.name,
        synopsis: e.synopsis,
        runtimeSec: runtime(e.assetId),
        assetId: e.assetId,
        createdAt: now,
        updatedAt: now,
      })),
    ),
  );
  const creditRows = catalog.titles.flatMap((t) =>
    (t.credits ?? []).map((c, position) => ({
      titleId: t.id,
      personId: c.personId,
      role: c.role,
      character: c.character ?? null,
      position,
    })),
  );

  /** Multi-row inserts, each with at most MAX_PARAMS bound parameters (one per column per row at most). */
  const inserts = <T extends SQLiteTable>(table: T, rows: T["$inferInsert"][]) => {
    const perStatement = Math.max(1, Math.floor(MAX_PARAMS / Object.keys(getTableColumns(table)).length));
    const statements = [];
    for (let i = 0; i < rows.length; i += perStatement) {
      // RETURNING counts the rows this statement inserted; `meta.changes` would also count
      // what the search-index triggers write.
      statements.push(
        orm
          .insert(table)
          .values(rows.slice(i, i + perStatement))
          .onConflictDoNothing()
          .returning({ inserted: sql<number>`1` }),
      );
    }
    return statements;
  };
  // Parents before children: the foreign keys are checked row by row.
  const statements = [
    ...inserts(assets, assetRows),
    ...inserts(genres, catalog.genres),
    ...inserts(people, catalog.people ?? []),
    ...inserts(titles, titleRows),
    ...inserts(titleGenres, titleGenreRows),
    ...inserts(seasons, seasonRows),
    ...inserts(episodes, episodeRows),
    ...inserts(credits, creditRows),
  ];
  for (const s of statements) {
    const params = s.toSQL().params.length;
    if (params > MAX_PARAMS) throw new Error(`a seed statement has ${params} bound parameters, over D1's ${MAX_PARAMS}`);
  }
  let inserted = 0;
  for (let i = 0; i < statements.length; i += MAX_BATCH) {
    const [first, ...rest] = statements.slice(i, i + MAX_BATCH);
    if (!first) break;
    const results = await orm.batch([first, ...rest]);
    inserted += results.reduce((sum, rows) => sum + rows.length, 0);
  }
  // Asset rows seeded before their `extras` column existed got its empty default: fill it
  // in from the index (a no-op once it matches).
  for (const row of assetRows) {
    await orm
      .update(assets)
      .set({ extras: row.extras })
      .where(and(eq(assets.id, row.id), ne(assets.extras, row.extras)));
  }
  // Cached catalog responses are keyed by the catalog version: new rows must show.
  if (inserted > 0) await bumpCatalogVersion(orm);
  return inserted;
}
