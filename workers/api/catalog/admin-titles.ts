// Catalog writes on titles: the shared title-field schemas, creating a title (with its
// genres and credits), and linking a published asset to a movie or to a series' episode.
import { eq, inArray } from "drizzle-orm";
import { drizzle, type DrizzleD1Database } from "drizzle-orm/d1";
import { z } from "zod";
import { credits, episodes, genres, people, seasons, titleGenres, titles } from "../../../d1/schema.ts";
import { ApiError } from "../../../lib/errors.ts";
import { ratingLevel } from "../../../lib/maturity.ts";
import { bumpCatalogVersion } from "../../../d1/catalog-version.ts";
import { reindexTitleStatements } from "./search-index.ts";

/** Lowercase slugs: they end up in URLs, and the ingest's generated ids already look like this. */
export const catalogIdSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,79}$/, "lowercase letters, digits and dashes, at most 80");

export const creditSchema = z.object({
  name: z.string().trim().min(1).max(200),
  role: z.enum(["cast", "director", "writer", "creator"]),
  character: z.string().trim().min(1).max(200).optional(),
});

const isoInstant = z.iso.datetime({ offset: true });

/** Every editable title field, without defaults (PATCH takes any subset of these). */
export const titleFieldsSchema = z.object({
  kind: z.enum(["movie", "series"]),
  name: z.string().trim().min(1).max(200),
  synopsis: z.string().max(4000),
  releaseYear: z.number().int().min(1870).max(2100),
  /** A rating board's label; the title's maturity level is derived from it. */
  maturityRating: z.string().trim().min(1).max(16),
  runtimeSec: z.number().int().min(1).max(86_400).nullable(),
  posterPath: z.string().max(512).regex(/^\/[^\s]*$/, "a path under the site's origin, starting with /").nullable(),
  availableFrom: isoInstant.nullable(),
  availableUntil: isoInstant.nullable(),
  popularity: z.number().min(0).max(1e9),
  genres: z.array(catalogIdSchema).max(20),
  credits: z.array(creditSchema).max(200),
});

type Window = { availableFrom?: string | null; availableUntil?: string | null };
const windowIsOrdered = (t: Window) => !t.availableFrom || !t.availableUntil || Date.parse(t.availableFrom) < Date.parse(t.availableUntil);
const windowError = { message: "availableFrom must be before availableUntil", path: ["availableUntil"] };

export const newTitleSchema = titleFieldsSchema
  .extend({
    /** Optional: generated from the name when absent. */
    id: catalogIdSchema.optional(),
    kind: titleFieldsSchema.shape.kind.default("movie"),
    synopsis: titleFieldsSchema.shape.synopsis.default(""),
    releaseYear: titleFieldsSchema.shape.releaseYear.optional(),
    /** "NR" (not rated) until someone rates it. */
    maturityRating: titleFieldsSchema.shape.maturityRating.default("NR"),
    runtimeSec: titleFieldsSchema.shape.runtimeSec.optional(),
    posterPath: titleFieldsSchema.shape.posterPath.optional(),
    availableFrom: titleFieldsSchema.shape.availableFrom.optional(),
    availableUntil: titleFieldsSchema.shape.availableUntil.optional(),
    popularity: titleFieldsSchema.shape.popularity.default(0),
    genres: titleFieldsSchema.shape.genres.default([]),
    credits: titleFieldsSchema.shape.credits.default([]),
  })
  .refine(windowIsOrdered, windowError);

export const publishTargetSchema = z.object({
  titleId: z.string().min(1).max(80),
  episode: z
    .object({
      season: z.number().int().min(1).max(999),
      number: z.number().int().min(1).max(9999),
      name: z.string().trim().min(1).max(200).optional(),
    })
    .optional(),
});

export type NewTitle = z.infer<typeof newTitleSchema>;
export type PublishTarget = z.infer<typeof publishTargetSchema>;
export type Credit = z.infer<typeof creditSchema>;

export function slug(name: string): string {
  const base = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 48);
  return base || "title";
}

function randomSuffix(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(4));
  return [...bytes].map((b) => b.toString(36).padStart(2, "0")).join("").slice(0, 6);
}

/**
 * People are keyed by name (slug plus a hash of the exact name, so "José" and "Jose" stay
 * apart): the same name in two titles or two imports is the same person, which is what
 * makes re-imports idempotent. Namesakes share a row until someone edits people directly.
 */
export function personId(name: string): string {
  let h = 0x811c9dc5;
  for (const ch of name) {
    h ^= ch.codePointAt(0)!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return `${slug(name).slice(0, 40)}-${h.toString(36)}`;
}

export const dateOrNull = (iso: string | null | undefined) => (iso ? new Date(iso) : null);

/** Drizzle queries as D1 statements, so they share one `DB.batch` with raw statements (the search index's). */
export type Stmt = { toSQL(): { sql: string; params: unknown[] } };
export const prepare = (db: D1Database, q: Stmt) => {
  const { sql, params } = q.toSQL();
  return db.prepare(sql).bind(...params);
};

/**
 * The search index's statements for titles just written, in the write's own batch. The
 * index's triggers already follow most writes; these are idempotent and make sure of it.
 */
export function searchIndexStatements(db: D1Database, titleIds: string[]): D1PreparedStatement[] {
  return titleIds.length > 0 ? reindexTitleStatements(db, titleIds) : [];
}

/** Runs a catalog write as one batch that also bumps the catalog version. */
export async function catalogBatch(db: D1Database, statements: D1PreparedStatement[], reindex: string[] = []): Promise<D1Result[]> {
  const orm = drizzle(db);
  return db.batch([...statements, ...searchIndexStatements(db, reindex), prepare(db, bumpCatalogVersion(orm))]);
}

/** 400 with details, like any other validation failure, when a body names genres that do not exist. */
export async function checkGenres(db: D1Database, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  const found = new Set((await drizzle(db).select({ id: genres.id }).from(genres).where(inArray(genres.id, ids))).map((g) => g.id));
  const details = ids.flatMap((id, i) => (found.has(id) ? [] : [{ path: `genres.${i}`, message: `no genre ${id}` }]));
  if (details.length > 0) throw new ApiError("VALIDATION_FAILED", "The request json names unknown genres.", { details });
}

/** Duplicates (same person, same role) would break the credits key; the first mention wins. */
export function uniqueCredits(list: Credit[]): Credit[] {
  const seen = new Set<string>();
  return list.filter((c) => {
    const key = `${personId(c.name)}/${c.role}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Statements that replace a title's genres and credits (creating people as needed). */
export function linkStatements(db: D1Database, orm: DrizzleD1Database, titleId: string, genreIds: string[] | undefined, creditList: Credit[] | undefined): D1PreparedStatement[] {
  const out: D1PreparedStatement[] = [];
  if (genreIds) {
    out.push(prepare(db, orm.delete(titleGenres).where(eq(titleGenres.titleId, titleId))));
    for (const genreId of new Set(genreIds)) out.push(prepare(db, orm.insert(titleGenres).values({ titleId, genreId })));
  }
  if (creditList) {
    out.push(prepare(db, orm.delete(credits).where(eq(credits.titleId, titleId))));
    uniqueCredits(creditList).forEach((c, position) => {
      const pid = personId(c.name);
      out.push(prepare(db, orm.insert(people).values({ id: pid, name: c.name }).onConflictDoNothing()));
      out.push(prepare(db, orm.insert(credits).values({ titleId, personId: pid, role: c.role, character: c.character ?? null, position })));
    });
  }
  return out;
}

export async function createTitle(db: D1Database, input: NewTitle, now: Date): Promise<{ id: string }> {
  const orm = drizzle(db);
  const id = input.id ?? `${slug(input.name)}-${randomSuffix()}`;
  if (input.id) {
    const [existing] = await orm.select({ id: titles.id }).from(titles).where(eq(titles.id, input.id));
    if (existing) throw new ApiError("CONFLICT", `A title ${input.id} already exists.`);
  }
  await checkGenres(db, input.genres);
  await catalogBatch(
    db,
    [
      prepare(
        db,
        orm.insert(titles).values({
          id,
          kind: input.kind,
          name: input.name,
          synopsis: input.synopsis,
          releaseYear: input.releaseYear ?? now.getUTCFullYear(),
          maturityRating: input.maturityRating,
          maturityLevel: ratingLevel(input.maturityRating),
          runtimeSec: input.runtimeSec ?? null,
          posterPath: input.posterPath ?? null,
          availableFrom: dateOrNull(input.availableFrom),
          availableUntil: dateOrNull(input.availableUntil),
          popularity: input.popularity,
          createdAt: now,
          updatedAt: now,
        }),
      ),
      ...linkStatements(db, orm, id, input.genres, input.credits),
    ],
    [id],
  );
  return { id };
}

/** Fails (404/409) unless the asset can be linked there: run before the asset becomes visible. */
export async function checkPublishTarget(db: D1Database, target: PublishTarget): Promise<void> {
  const [title] = await drizzle(db).select({ kind: titles.kind }).from(titles).where(eq(titles.id, target.titleId));
  if (!title) throw new ApiError("NOT_FOUND", `No title ${target.titleId}.`);
  if (target.episode && title.kind !== "series") throw new ApiError("CONFLICT", `${target.titleId} is a movie; episodes belong to series.`);
  if (!target.episode && title.kind !== "movie") throw new ApiError("CONFLICT", `${target.titleId} is a series; say which episode this is.`);
}

export async function linkAsset(db: D1Database, target: PublishTarget, assetId: string, runtimeSec: number, now: Date): Promise<{ episodeId?: string }> {
  const orm = drizzle(db);
  if (!target.episode) {
    await catalogBatch(db, [prepare(db, orm.update(titles).set({ assetId, runtimeSec, updatedAt: now }).where(eq(titles.id, target.titleId)))], [target.titleId]);
    return {};
  }
  const { season, number, name } = target.episode;
  const seasonId = `${target.titleId}-s${season}`;
  const episodeId = `${seasonId}e${number}`;
  await catalogBatch(
    db,
    [
      prepare(db, orm.insert(seasons).values({ id: seasonId, titleId: target.titleId, number: season, name: `Season ${season}` }).onConflictDoNothing()),
      prepare(
        db,
        orm
          .insert(episodes)
          .values({ id: episodeId, seasonId, number, name: name ?? `Episode ${number}`, synopsis: "", runtimeSec, assetId, createdAt: now, updatedAt: now })
          .onConflictDoUpdate({
            target: episodes.id,
            set: { assetId, runtimeSec, updatedAt: now, ...(name ? { name } : {}) },
          }),
      ),
      prepare(db, orm.update(titles).set({ updatedAt: now }).where(eq(titles.id, target.titleId))),
    ],
    [target.titleId],
  );
  return { episodeId };
}
