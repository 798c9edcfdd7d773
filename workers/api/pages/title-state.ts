// One profile's relation to one title, for its title page: where it left off (Play or
// Resume: its watch shard's progress, or a later position its account's object holds),
// whether the title is in My List, and its thumbs (one DB batch) — all at the same time.
import { isFinished } from "../../../lib/watch-shards/positions.ts";
import { shardForProfile } from "../../../lib/watch-shards/shards.ts";
import { livePositions, type CatalogDb, type ViewingEnv } from "../events/viewing.ts";
import type { Rating } from "../home/list-and-ratings.ts";

export type TitleState = {
  /** An unfinished position to resume from; null: start (or go on) with Play. */
  resume: { episodeId: string | null; positionSec: number; durationSec: number } | null;
  inList: boolean;
  rating: Rating;
};

export type TitleStateRead = { env: ViewingEnv; db: CatalogDb; accountId: string; requestId: string };

export async function titleState(read: TitleStateRead, profileId: string, titleId: string): Promise<TitleState> {
  const { db } = read;
  const shardDb = shardForProfile(read.env, profileId).db;
  const [progress, [list, rating], live] = await Promise.all([
    shardDb
      .prepare("SELECT episode_id, position_sec, duration_sec, completed, event_at FROM watch_progress WHERE profile_id = ?1 AND title_id = ?2")
      .bind(profileId, titleId)
      .first<{ episode_id: string | null; position_sec: number; duration_sec: number; completed: number; event_at: number }>(),
    db.batch<Record<string, unknown>>([
      db.prepare("SELECT 1 AS found FROM profile_list WHERE profile_id = ?1 AND title_id = ?2").bind(profileId, titleId),
      db.prepare("SELECT rating FROM profile_ratings WHERE profile_id = ?1 AND title_id = ?2").bind(profileId, titleId),
    ]),
    livePositions(read.env, read.accountId, profileId, read.requestId),
  ]);
  const here = live.find((p) => p.titleId === titleId);
  const latest =
    here && (!progress || here.clientAt > progress.event_at)
      ? { episodeId: here.episodeId, positionSec: here.positionSec, durationSec: here.durationSec, completed: here.finished }
      : progress
        ? { episodeId: progress.episode_id, positionSec: progress.position_sec, durationSec: progress.duration_sec, completed: progress.completed === 1 }
        : null;
  const unfinished = latest && !latest.completed && latest.positionSec >= 1 && !isFinished(latest);
  const r = rating?.results[0] as { rating: number } | undefined;
  return {
    resume: unfinished ? { episodeId: latest.episodeId, positionSec: latest.positionSec, durationSec: latest.durationSec } : null,
    inList: (list?.results.length ?? 0) > 0,
    rating: r === undefined ? "none" : r.rating > 0 ? "up" : "down",
  };
}
