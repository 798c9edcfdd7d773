// My List and thumbs: per profile, on titles the profile may see. `db` is the binding or
// the request's D1 session (memberDb).
import { ApiError } from "../../../lib/errors.ts";
import type { D1Queryable } from "../d1-sessions/queryable.ts";
import { profileMayWatchSql } from "../catalog/visible-sql.ts";

/** The title, if it exists and this profile may see it now (maturity, availability). */
async function visibleTitle(db: D1Queryable, profileId: string, titleId: string, nowMs: number): Promise<boolean> {
  const row = await db
    .prepare(
      `SELECT 1 AS ok FROM titles t JOIN profiles p ON p.id = ?1
       WHERE t.id = ?2 AND ${profileMayWatchSql("?3")}`,
    )
    .bind(profileId, titleId, nowMs)
    .first();
  return row !== null;
}

async function requireTitle(db: D1Queryable, profileId: string, titleId: string, nowMs: number): Promise<void> {
  if (!(await visibleTitle(db, profileId, titleId, nowMs))) throw new ApiError("NOT_FOUND", "No such title.");
}

export async function addToList(db: D1Queryable, profileId: string, titleId: string, nowMs: number): Promise<boolean> {
  await requireTitle(db, profileId, titleId, nowMs);
  const result = await db.prepare("INSERT INTO profile_list (profile_id, title_id, added_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING").bind(profileId, titleId, nowMs).run();
  return result.meta.changes > 0;
}

export async function removeFromList(db: D1Queryable, profileId: string, titleId: string): Promise<boolean> {
  const result = await db.prepare("DELETE FROM profile_list WHERE profile_id = ? AND title_id = ?").bind(profileId, titleId).run();
  return result.meta.changes > 0;
}

export async function inList(db: D1Queryable, profileId: string, titleId: string): Promise<{ addedAt: string } | null> {
  const row = await db.prepare("SELECT added_at FROM profile_list WHERE profile_id = ? AND title_id = ?").bind(profileId, titleId).first<{ added_at: number }>();
  return row ? { addedAt: new Date(row.added_at).toISOString() } : null;
}

export type Rating = "up" | "down" | "none";

export async function rate(db: D1Queryable, profileId: string, titleId: string, rating: Rating, nowMs: number): Promise<void> {
  if (rating === "none") {
    await db.prepare("DELETE FROM profile_ratings WHERE profile_id = ? AND title_id = ?").bind(profileId, titleId).run();
    return;
  }
  await requireTitle(db, profileId, titleId, nowMs);
  await db
    .prepare("INSERT INTO profile_ratings (profile_id, title_id, rating, rated_at) VALUES (?, ?, ?, ?) ON CONFLICT (profile_id, title_id) DO UPDATE SET rating = excluded.rating, rated_at = excluded.rated_at")
    .bind(profileId, titleId, rating === "up" ? 1 : -1, nowMs)
    .run();
}

export async function ratingOf(db: D1Queryable, profileId: string, titleId: string): Promise<Rating> {
  const row = await db.prepare("SELECT rating FROM profile_ratings WHERE profile_id = ? AND title_id = ?").bind(profileId, titleId).first<{ rating: number }>();
  return row === null ? "none" : row.rating > 0 ? "up" : "down";
}
