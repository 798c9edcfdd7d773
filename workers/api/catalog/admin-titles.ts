// Catalog writes the ingest needs: creating a title, and linking a published asset to a
// movie or to a series' episode (creating the season and episode rows as needed).
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { z } from "zod";
import { episodes, seasons, titles } from "../../../d1/schema.ts";
import { ApiError } from "../../../lib/errors.ts";

export const newTitleSchema = z.object({
  name: z.string().trim().min(1).max(200),
  kind: z.enum(["movie", "series"]).default("movie"),
  synopsis: z.string().max(4000).default(""),
  releaseYear: z.number().int().min(1870).max(2100).optional(),
  /** A rating board's label; "NR" (not rated) until someone rates it. */
  maturityRating: z.string().trim().min(1).max(16).default("NR"),
});

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

function slug(name: string): string {
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

export async function createTitle(db: D1Database, input: NewTitle, now: Date): Promise<{ id: string }> {
  const id = `${slug(input.name)}-${randomSuffix()}`;
  await drizzle(db)
    .insert(titles)
    .values({
      id,
      kind: input.kind,
      name: input.name,
      synopsis: input.synopsis,
      releaseYear: input.releaseYear ?? now.getUTCFullYear(),
      maturityRating: input.maturityRating,
      createdAt: now,
      updatedAt: now,
    });
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
    await orm.update(titles).set({ assetId, runtimeSec, updatedAt: now }).where(eq(titles.id, target.titleId));
    return {};
  }
  const { season, number, name } = target.episode;
  const seasonId = `${target.titleId}-s${season}`;
  const episodeId = `${seasonId}e${number}`;
  await orm.batch([
    orm.insert(seasons).values({ id: seasonId, titleId: target.titleId, number: season, name: `Season ${season}` }).onConflictDoNothing(),
    orm
      .insert(episodes)
      .values({ id: episodeId, seasonId, number, name: name ?? `Episode ${number}`, synopsis: "", runtimeSec, assetId, createdAt: now, updatedAt: now })
      .onConflictDoUpdate({
        target: episodes.id,
        set: { assetId, runtimeSec, updatedAt: now, ...(name ? { name } : {}) },
      }),
    orm.update(titles).set({ updatedAt: now }).where(eq(titles.id, target.titleId)),
  ]);
  return { episodeId };
}
