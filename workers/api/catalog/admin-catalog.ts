// Admin edits of the catalog beyond creation: reading a title back whole, patching and
// deleting titles, seasons, episodes and genres — each write one batch with the version bump.
import { and, asc, eq, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { z } from "zod";
import { credits, episodes, genres, seasons, titleGenres, titles } from "../../../d1/schema.ts";
import { ApiError } from "../../../lib/errors.ts";
import { ratingLevel } from "../../../lib/maturity.ts";
import { catalogBatch, catalogIdSchema, checkGenres, dateOrNull, linkStatements, prepare, titleFieldsSchema } from "./admin-titles.ts";
import { titleCreditsQuery, titleEpisodesQuery, titleSeasonsQuery } from "./title-parts.ts";

export const titlePatchSchema = titleFieldsSchema
  .partial()
  .refine((t) => Object.keys(t).length > 0, "Give at least one field to change.")
  .refine((t) => !t.availableFrom || !t.availableUntil || Date.parse(t.availableFrom) < Date.parse(t.availableUntil), {
    message: "availableFrom must be before availableUntil",
    path: ["availableUntil"],
  });

export const seasonNumberSchema = z.coerce.number().int().min(1).max(999);
export const episodeNumberSchema = z.coerce.number().int().min(1).max(9999);

export const newSeasonSchema = z.object({ number: z.number().int().min(1).max(999), name: z.string().trim().min(1).max(200).optional() });
export const seasonPatchSchema = z.object({ name: z.string().trim().min(1).max(200) });

const episodeFields = z.object({
  name: z.string().trim().min(1).max(200),
  synopsis: z.string().max(4000),
  runtimeSec: z.number().int().min(1).max(86_400).nullable(),
});
export const newEpisodeSchema = episodeFields.partial().extend({ number: z.number().int().min(1).max(9999) });
export const episodePatchSchema = episodeFields.partial().refine((e) => Object.keys(e).length > 0, "Give at least one field to change.");
export const genreBodySchema = z.object({ name: z.string().trim().min(1).max(100) });

export const adminEpisodeSchema = z.object({ id: z.string(), number: z.number(), name: z.string(), synopsis: z.string(), runtimeSec: z.number().nullable(), assetId: z.string().nullable() });
export const adminSeasonSchema = z.object({ id: z.string(), number: z.number(), name: z.string(), episodes: z.array(adminEpisodeSchema) });
export const adminTitleSchema = z
  .object({
    id: z.string(),
    kind: z.enum(["movie", "series"]),
    name: z.string(),
    synopsis: z.string(),
    releaseYear: z.number(),
    maturityRating: z.string(),
    maturityLevel: z.number(),
    runtimeSec: z.number().nullable(),
    assetId: z.string().nullable(),
    posterPath: z.string().nullable(),
    availableFrom: z.string().nullable(),
    availableUntil: z.string().nullable(),
    popularity: z.number(),
    genres: z.array(z.string()),
    credits: z.array(z.object({ name: z.string(), role: z.string(), character: z.string().nullable() })),
    seasons: z.array(adminSeasonSchema),
    updatedAt: z.string(),
  });

export type TitlePatch = z.infer<typeof titlePatchSchema>;
export type AdminTitle = z.infer<typeof adminTitleSchema>;

export const seasonId = (titleId: string, number: number) => `${titleId}-s${number}`;
export const episodeId = (titleId: string, season: number, number: number) => `${seasonId(titleId, season)}e${number}`;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export async function readTitle(db: D1Database, id: string): Promise<AdminTitle> {
  const orm = drizzle(db);
  const [[title], genreRows, creditRows, seasonRows, episodeRows] = await orm.batch([
    orm.select().from(titles).where(eq(titles.id, id)),
    orm.select({ id: titleGenres.genreId }).from(titleGenres).where(eq(titleGenres.titleId, id)).orderBy(asc(titleGenres.genreId)),
    titleCreditsQuery(orm, id),
    titleSeasonsQuery(orm, id),
    titleEpisodesQuery(orm, id),
  ]);
  if (!title) throw new ApiError("NOT_FOUND", `No title ${id}.`);
  return {
    id: title.id,
    kind: title.kind,
    name: title.name,
    synopsis: title.synopsis,
    releaseYear: title.releaseYear,
    maturityRating: title.maturityRating,
    maturityLevel: title.maturityLevel,
    runtimeSec: title.runtimeSec,
    assetId: title.assetId,
    posterPath: title.posterPath,
    availableFrom: iso(title.availableFrom),
    availableUntil: iso(title.availableUntil),
    popularity: title.popularity,
    genres: genreRows.map((g) => g.id),
    credits: creditRows,
    seasons: seasonRows.map((s) => ({
      id: s.id,
      number: s.number,
      name: s.name,
      episodes: episodeRows.filter((e) => e.seasonId === s.id).map(({ seasonId: _, ...e }) => e),
    })),
    updatedAt: title.updatedAt.toISOString(),
  };
}

async function titleKind(db: D1Database, id: string): Promise<{ kind: "movie" | "series"; availableFrom: Date | null; availableUntil: Date | null }> {
  const [row] = await drizzle(db).select({ kind: titles.kind, availableFrom: titles.availableFrom, availableUntil: titles.availableUntil }).from(titles).where(eq(titles.id, id));
  if (!row) throw new ApiError("NOT_FOUND", `No title ${id}.`);
  return row;
}

async function requireSeries(db: D1Database, id: string): Promise<void> {
  if ((await titleKind(db, id)).kind !== "series") throw new ApiError("CONFLICT", `${id} is a movie; seasons and episodes belong to series.`);
}

export async function patchTitle(db: D1Database, id: string, patch: TitlePatch, now: Date): Promise<void> {
  const orm = drizzle(db);
  const current = await titleKind(db, id);
  if (patch.kind === "movie" && current.kind === "series") {
    const [one] = await orm.select({ id: seasons.id }).from(seasons).where(eq(seasons.titleId, id)).limit(1);
    if (one) throw new ApiError("CONFLICT", `${id} has seasons; delete them before making it a movie.`);
  }
  // The window is checked against what is stored when only one end changes.
  const from = patch.availableFrom !== undefined ? dateOrNull(patch.availableFrom) : current.availableFrom;
  const until = patch.availableUntil !== undefined ? dateOrNull(patch.availableUntil) : current.availableUntil;
  if (from && until && from >= until) {
    throw new ApiError("VALIDATION_FAILED", "The request json is not valid.", { details: [{ path: "availableUntil", message: "availableFrom must be before availableUntil" }] });
  }
  if (patch.genres) await checkGenres(db, patch.genres);
  const { genres: genreIds, credits: creditList, availableFrom, availableUntil, ...plain } = patch;
  const set = {
    ...plain,
    ...(availableFrom !== undefined ? { availableFrom: dateOrNull(availableFrom) } : {}),
    ...(availableUntil !== undefined ? { availableUntil: dateOrNull(availableUntil) } : {}),
    ...(plain.maturityRating !== undefined ? { maturityLevel: ratingLevel(plain.maturityRating) } : {}),
    updatedAt: now,
  };
  await catalogBatch(db, [prepare(db, orm.update(titles).set(set).where(eq(titles.id, id))), ...linkStatements(db, orm, id, genreIds, creditList)], [id]);
}

export async function deleteTitle(db: D1Database, id: string): Promise<void> {
  await titleKind(db, id);
  // Genres links, credits, seasons and their episodes go with it (ON DELETE CASCADE).
  await catalogBatch(db, [prepare(db, drizzle(db).delete(titles).where(eq(titles.id, id)))], [id]);
}

const touchTitle = (db: D1Database, id: string, now: Date) => prepare(db, drizzle(db).update(titles).set({ updatedAt: now }).where(eq(titles.id, id)));

async function requireSeason(db: D1Database, titleId: string, number: number): Promise<string> {
  await requireSeries(db, titleId);
  const id = seasonId(titleId, number);
  const [row] = await drizzle(db).select({ id: seasons.id }).from(seasons).where(and(eq(seasons.titleId, titleId), eq(seasons.number, number)));
  if (!row) throw new ApiError("NOT_FOUND", `${titleId} has no season ${number}.`);
  return row.id ?? id;
}

export async function createSeason(db: D1Database, titleId: string, input: z.infer<typeof newSeasonSchema>, now: Date): Promise<{ id: string }> {
  await requireSeries(db, titleId);
  const orm = drizzle(db);
  const id = seasonId(titleId, input.number);
  const [existing] = await orm.select({ id: seasons.id }).from(seasons).where(and(eq(seasons.titleId, titleId), eq(seasons.number, input.number)));
  if (existing) throw new ApiError("CONFLICT", `${titleId} already has season ${input.number}.`);
  await catalogBatch(db, [prepare(db, orm.insert(seasons).values({ id, titleId, number: input.number, name: input.name ?? `Season ${input.number}` })), touchTitle(db, titleId, now)], [titleId]);
  return { id };
}

export async function patchSeason(db: D1Database, titleId: string, number: number, input: z.infer<typeof seasonPatchSchema>, now: Date): Promise<void> {
  const id = await requireSeason(db, titleId, number);
  await catalogBatch(db, [prepare(db, drizzle(db).update(seasons).set({ name: input.name }).where(eq(seasons.id, id))), touchTitle(db, titleId, now)], [titleId]);
}

export async function deleteSeason(db: D1Database, titleId: string, number: number, now: Date): Promise<void> {
  const id = await requireSeason(db, titleId, number);
  await catalogBatch(db, [prepare(db, drizzle(db).delete(seasons).where(eq(seasons.id, id))), touchTitle(db, titleId, now)], [titleId]);
}

async function findEpisode(db: D1Database, season: string, number: number) {
  const [row] = await drizzle(db).select({ id: episodes.id }).from(episodes).where(and(eq(episodes.seasonId, season), eq(episodes.number, number)));
  return row?.id ?? null;
}

export async function createEpisode(db: D1Database, titleId: string, season: number, input: z.infer<typeof newEpisodeSchema>, now: Date): Promise<{ id: string }> {
  const sid = await requireSeason(db, titleId, season);
  if (await findEpisode(db, sid, input.number)) throw new ApiError("CONFLICT", `Season ${season} of ${titleId} already has episode ${input.number}.`);
  const id = `${sid}e${input.number}`;
  await catalogBatch(
    db,
    [
      prepare(
        db,
        drizzle(db)
          .insert(episodes)
          .values({ id, seasonId: sid, number: input.number, name: input.name ?? `Episode ${input.number}`, synopsis: input.synopsis ?? "", runtimeSec: input.runtimeSec ?? null, createdAt: now, updatedAt: now }),
      ),
      touchTitle(db, titleId, now),
    ],
    [titleId],
  );
  return { id };
}

async function requireEpisode(db: D1Database, titleId: string, season: number, number: number): Promise<string> {
  const sid = await requireSeason(db, titleId, season);
  const id = await findEpisode(db, sid, number);
  if (!id) throw new ApiError("NOT_FOUND", `Season ${season} of ${titleId} has no episode ${number}.`);
  return id;
}

export async function patchEpisode(db: D1Database, titleId: string, season: number, number: number, input: z.infer<typeof episodePatchSchema>, now: Date): Promise<void> {
  const id = await requireEpisode(db, titleId, season, number);
  await catalogBatch(db, [prepare(db, drizzle(db).update(episodes).set({ ...input, updatedAt: now }).where(eq(episodes.id, id))), touchTitle(db, titleId, now)], [titleId]);
}

export async function deleteEpisode(db: D1Database, titleId: string, season: number, number: number, now: Date): Promise<void> {
  const id = await requireEpisode(db, titleId, season, number);
  await catalogBatch(db, [prepare(db, drizzle(db).delete(episodes).where(eq(episodes.id, id))), touchTitle(db, titleId, now)], [titleId]);
}

/** Creates or renames a genre; 409 when another genre already has the name. */
export async function putGenre(db: D1Database, id: string, name: string): Promise<{ created: boolean }> {
  const orm = drizzle(db);
  const [[existing], [clash]] = await orm.batch([
    orm.select({ id: genres.id }).from(genres).where(eq(genres.id, id)),
    orm.select({ id: genres.id }).from(genres).where(and(sql`lower(${genres.name}) = lower(${name})`, sql`${genres.id} <> ${id}`)),
  ]);
  if (clash) throw new ApiError("CONFLICT", `Genre ${clash.id} is already called ${name}.`);
  const titleIds = existing ? (await orm.select({ id: titleGenres.titleId }).from(titleGenres).where(eq(titleGenres.genreId, id))).map((r) => r.id) : [];
  await catalogBatch(db, [prepare(db, orm.insert(genres).values({ id, name }).onConflictDoUpdate({ target: genres.id, set: { name } }))], titleIds);
  return { created: !existing };
}

export async function deleteGenre(db: D1Database, id: string): Promise<void> {
  const orm = drizzle(db);
  const [[existing], links] = await orm.batch([
    orm.select({ id: genres.id }).from(genres).where(eq(genres.id, id)),
    orm.select({ id: titleGenres.titleId }).from(titleGenres).where(eq(titleGenres.genreId, id)),
  ]);
  if (!existing) throw new ApiError("NOT_FOUND", `No genre ${id}.`);
  await catalogBatch(db, [prepare(db, orm.delete(genres).where(eq(genres.id, id)))], links.map((l) => l.id));
}

export { catalogIdSchema };
