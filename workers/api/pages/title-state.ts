// One profile's relation to one title, for its title page, in one D1 batch: where it left
// off (Play or Resume), whether the title is in My List, and its thumbs.
import type { Rating } from "../home/list-and-ratings.ts";

/** Past this share a title counts as watched (as the playback start check has it): Play, not Resume. */
const FINISHED_SHARE = 0.95;

export type TitleState = {
  /** An unfinished position to resume from; null: start (or go on) with Play. */
  resume: { episodeId: string | null; positionSec: number; durationSec: number } | null;
  inList: boolean;
  rating: Rating;
};

export async function titleState(db: D1Database, profileId: string, titleId: string): Promise<TitleState> {
  const [progress, list, rating] = await db.batch<Record<string, unknown>>([
    db.prepare("SELECT episode_id, position_sec, duration_sec, completed FROM watch_progress WHERE profile_id = ?1 AND title_id = ?2").bind(profileId, titleId),
    db.prepare("SELECT 1 AS found FROM profile_list WHERE profile_id = ?1 AND title_id = ?2").bind(profileId, titleId),
    db.prepare("SELECT rating FROM profile_ratings WHERE profile_id = ?1 AND title_id = ?2").bind(profileId, titleId),
  ]);
  const p = progress?.results[0] as { episode_id: string | null; position_sec: number; duration_sec: number; completed: number } | undefined;
  const unfinished = p && p.completed === 0 && p.position_sec >= 1 && !(p.duration_sec > 0 && p.position_sec >= p.duration_sec * FINISHED_SHARE);
  const r = rating?.results[0] as { rating: number } | undefined;
  return {
    resume: unfinished ? { episodeId: p.episode_id, positionSec: p.position_sec, durationSec: p.duration_sec } : null,
    inList: (list?.results.length ?? 0) > 0,
    rating: r === undefined ? "none" : r.rating > 0 ? "up" : "down",
  };
}
