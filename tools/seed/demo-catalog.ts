// The shape of demo/catalog.json, and how to write it into D1: idempotently, in one batch.
import { drizzle } from "drizzle-orm/d1";
import { z } from "zod";
import { assets, genres, titleGenres, titles } from "../../d1/schema.ts";
import { resolutionClass, type RenditionIndex } from "../../lib/media-index.ts";

export const demoCatalogSchema = z.object({
  genres: z.array(z.object({ id: z.string().min(1), name: z.string().min(1) })).min(1),
  titles: z
    .array(
      z.object({
        id: z.string().min(1),
        kind: z.enum(["movie", "series"]),
        name: z.string().min(1),
        synopsis: z.string(),
        releaseYear: z.number().int(),
        maturityRating: z.string().min(1),
        assetId: z.string().nullable(),
        genres: z.array(z.string().min(1)),
      }),
    )
    .min(1),
});

export type DemoCatalog = z.infer<typeof demoCatalogSchema>;

/**
 * Inserts what is missing and leaves existing rows alone, so seeding twice changes
 * nothing. Assets come from their rendition indexes (already uploaded to R2), so a title
 * never points at media that is not there. Returns the number of rows inserted.
 */
export async function seedCatalog(db: D1Database, catalog: DemoCatalog, indexes: RenditionIndex[], now: Date): Promise<number> {
  const orm = drizzle(db);
  const indexById = new Map(indexes.map((i) => [i.assetId, i]));
  for (const t of catalog.titles) {
    if (t.assetId !== null && !indexById.has(t.assetId)) throw new Error(`title ${t.id}: asset ${t.assetId} has no rendition index`);
  }
  // One statement per row keeps each far under D1's 100 bound parameters per statement.
  const statements = [
    ...indexes.map((i) =>
      orm
        .insert(assets)
        .values({
          id: i.assetId,
          status: "published",
          durationSec: i.durationSec,
          maxHeight: Math.max(...i.video.map((v) => resolutionClass(v))),
          createdAt: now,
          publishedAt: now,
        })
        .onConflictDoNothing(),
    ),
    ...catalog.genres.map((g) => orm.insert(genres).values(g).onConflictDoNothing()),
    ...catalog.titles.map((t) =>
      orm
        .insert(titles)
        .values({
          id: t.id,
          kind: t.kind,
          name: t.name,
          synopsis: t.synopsis,
          releaseYear: t.releaseYear,
          maturityRating: t.maturityRating,
          runtimeSec: t.assetId === null ? null : Math.round(indexById.get(t.assetId)!.durationSec),
          assetId: t.assetId,
          createdAt: now,
          updatedAt: now,
        })
        .onConflictDoNothing(),
    ),
    ...catalog.titles.flatMap((t) =>
      t.genres.map((genreId) => orm.insert(titleGenres).values({ titleId: t.id, genreId }).onConflictDoNothing()),
    ),
  ];
  const [first, ...rest] = statements;
  if (!first) return 0;
  const results = await orm.batch([first, ...rest]);
  return results.reduce((sum, r) => sum + r.meta.changes, 0);
}
