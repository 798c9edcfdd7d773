// What a profile has been watching, as the watch-events consumer left it: Continue
// Watching (unfinished, newest first), the viewing history (finished, newest first), both
// keyset-paginated; and removing a title from both.
import { z } from "zod";
import { ApiError } from "../../../lib/errors.ts";
import { base64UrlDecode, base64UrlEncode } from "../../../lib/base64url.ts";
import { refuseLockedProfile, type Auth } from "../auth/auth-context.ts";
import { profileMayWatchSql } from "../catalog/visible-sql.ts";

export const pageQuerySchema = z.object({
  cursor: z.string().max(300).optional(),
  limit: z.coerce.number().int().min(1).max(50).default(20),
});

const cursorSchema = z.object({ at: z.number().int(), k: z.string().max(200) });
type Cursor = z.infer<typeof cursorSchema>;

const encode = (c: Cursor) => base64UrlEncode(new TextEncoder().encode(JSON.stringify(c)));

function decode(text: string | undefined): Cursor | null {
  if (text === undefined) return null;
  const bytes = base64UrlDecode(text);
  try {
    return cursorSchema.parse(JSON.parse(new TextDecoder().decode(bytes ?? new Uint8Array())));
  } catch {
    throw new ApiError("VALIDATION_FAILED", "The cursor is not one this API gave out.", { details: [{ path: "cursor", message: "unknown cursor" }] });
  }
}

/**
 * A profile the caller may read or change the viewing of: one of the account's (404
 * otherwise, as for a profile that does not exist), a kids profile's device only its own,
 * and a profile with a PIN only from a device that entered it.
 */
export function viewingProfile(auth: Auth, profileId: string): string {
  if (!auth.accountProfileIds.includes(profileId)) throw new ApiError("NOT_FOUND", "No such profile.");
  if (auth.isKidsProfile && auth.profileId !== profileId) {
    throw new ApiError("FORBIDDEN", "A kids profile sees only its own viewing.", { details: { reason: "kids_profile" } });
  }
  refuseLockedProfile(auth, profileId);
  return profileId;
}

/** Titles the profile may still see: at or below its maturity level, inside their window. */
const visible = profileMayWatchSql("?2");

/** The title and (for a series) episode columns both reads select. */
type ViewedRow = {
  title_id: string;
  name: string;
  kind: "movie" | "series";
  poster_path: string | null;
  episode_id: string | null;
  episode_name: string | null;
  season_number: number | null;
  episode_number: number | null;
};

function viewedCard(r: ViewedRow) {
  return {
    titleId: r.title_id,
    name: r.name,
    kind: r.kind,
    posterPath: r.poster_path,
    episode: r.episode_id ? { id: r.episode_id, name: r.episode_name ?? "", seasonNumber: r.season_number ?? 0, number: r.episode_number ?? 0 } : null,
  };
}

export type ContinueRow = ViewedRow & {
  /** The title's card columns too, for the home page's row (home/home-queries.ts). */
  id: string;
  maturity_rating: string;
  release_year: number;
  position_sec: number;
  duration_sec: number;
  event_at: number;
};

/**
 * The profile's unfinished titles, most recently watched first, after `after` (a page's
 * cursor) — one statement, for this read and for the home page's batch alike.
 */
export function continueWatchingStatement(db: D1Database, profileId: string, nowMs: number, after: { at: number; k: string } | null, limit: number): D1PreparedStatement {
  return db
    .prepare(
      `SELECT wp.title_id, t.id, t.name, t.kind, t.poster_path, t.maturity_rating, t.release_year, wp.episode_id, ep.name AS episode_name,
              s.number AS season_number, ep.number AS episode_number, wp.position_sec, wp.duration_sec, wp.event_at
       FROM watch_progress wp
       JOIN profiles p ON p.id = wp.profile_id
       JOIN titles t ON t.id = wp.title_id
       LEFT JOIN episodes ep ON ep.id = wp.episode_id
       LEFT JOIN seasons s ON s.id = ep.season_id
       WHERE wp.profile_id = ?1 AND wp.completed = 0 AND ${visible}
         AND (?3 IS NULL OR wp.event_at < ?3 OR (wp.event_at = ?3 AND wp.title_id > ?4))
       ORDER BY wp.event_at DESC, wp.title_id
       LIMIT ?5`,
    )
    .bind(profileId, nowMs, after?.at ?? null, after?.k ?? "", limit);
}

export async function continueWatching(db: D1Database, profileId: string, query: z.infer<typeof pageQuerySchema>, nowMs: number) {
  const { results } = await continueWatchingStatement(db, profileId, nowMs, decode(query.cursor), query.limit + 1).all<ContinueRow>();
  const page = results.slice(0, query.limit);
  const last = page.at(-1);
  return {
    items: page.map((r) => ({
      ...viewedCard(r),
      positionSec: r.position_sec,
      durationSec: r.duration_sec,
      progress: r.duration_sec > 0 ? Math.min(1, r.position_sec / r.duration_sec) : 0,
      watchedAt: new Date(r.event_at).toISOString(),
    })),
    nextCursor: results.length > query.limit && last ? encode({ at: last.event_at, k: last.title_id }) : null,
  };
}

type HistoryRow = ViewedRow & {
  episode_key: string;
  finished_at: number;
};

export async function viewingHistory(db: D1Database, profileId: string, query: z.infer<typeof pageQuerySchema>, nowMs: number) {
  const after = decode(query.cursor);
  const { results } = await db
    .prepare(
      `SELECT h.title_id, t.name, t.kind, t.poster_path, h.episode_key, h.episode_id, ep.name AS episode_name, s.number AS season_number,
              ep.number AS episode_number, h.finished_at
       FROM watch_history h
       JOIN profiles p ON p.id = h.profile_id
       JOIN titles t ON t.id = h.title_id
       LEFT JOIN episodes ep ON ep.id = h.episode_id
       LEFT JOIN seasons s ON s.id = ep.season_id
       WHERE h.profile_id = ?1 AND ${visible}
         AND (?3 IS NULL OR h.finished_at < ?3 OR (h.finished_at = ?3 AND (h.title_id || '/' || h.episode_key) > ?4))
       ORDER BY h.finished_at DESC, h.title_id || '/' || h.episode_key
       LIMIT ?5`,
    )
    .bind(profileId, nowMs, after?.at ?? null, after?.k ?? "", query.limit + 1)
    .all<HistoryRow>();
  const page = results.slice(0, query.limit);
  const last = page.at(-1);
  return {
    items: page.map((r) => ({
      ...viewedCard(r),
      finishedAt: new Date(r.finished_at).toISOString(),
    })),
    nextCursor: results.length > query.limit && last ? encode({ at: last.finished_at, k: `${last.title_id}/${last.episode_key}` }) : null,
  };
}

/** Hides a title from the profile's history and Continue Watching. False when there was nothing to remove. */
export async function removeFromHistory(db: D1Database, profileId: string, titleId: string): Promise<boolean> {
  const [history, progress] = await db.batch([
    db.prepare("DELETE FROM watch_history WHERE profile_id = ? AND title_id = ?").bind(profileId, titleId),
    db.prepare("DELETE FROM watch_progress WHERE profile_id = ? AND title_id = ?").bind(profileId, titleId),
  ]);
  return history!.meta.changes + progress!.meta.changes > 0;
}
