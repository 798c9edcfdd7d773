// Playback positions between the player and a watch shard: what the account's Durable
// Object keeps from heartbeats (durable-objects/account-streams.ts) and writes to the
// profile's shard as progress at most once a minute a stream, and what Continue Watching
// merges from it when D1 does not have it yet.

/** Past this share of its length (or on a `complete` event) a title or episode counts as finished. */
export const FINISHED_SHARE = 0.95;

/** A position a player reported for one stream. */
export type PositionNote = {
  streamId: string;
  accountId: string;
  profileId: string;
  titleId: string;
  episodeId: string | null;
  positionSec: number;
  durationSec: number;
  /** The client's time of the report (Unix ms): later wins, whatever order they arrive in. */
  clientAt: number;
  /** ISO alpha-2 of the viewer, for a finished position that goes through the Queue. */
  country: string;
  /** The same position is on its way to the shard through the Queue (a start, pause, seek, stop or complete): nothing to write for it. */
  queued: boolean;
  /** A `complete` event: finished wherever the player stopped (credits), not only past FINISHED_SHARE. */
  complete?: boolean;
};

/** A profile's latest position in a title that its shard may not have yet. */
export type LivePosition = { titleId: string; episodeId: string | null; positionSec: number; durationSec: number; clientAt: number };

export const isFinished = (p: { positionSec: number; durationSec: number }) => p.durationSec > 0 && p.positionSec >= p.durationSec * FINISHED_SHARE;

/**
 * One statement writing unfinished positions as progress, each only if it is later than
 * what the shard holds (last write wins by client time, as for the consumer's writes).
 * The rows travel as one JSON parameter, so any number of them is one statement with
 * one binding.
 */
export function progressUpsert(db: D1Database, positions: (LivePosition & { profileId: string })[], nowMs: number): D1PreparedStatement {
  const rows = positions.map((p) => [p.profileId, p.titleId, p.episodeId, p.positionSec, p.durationSec, p.clientAt]);
  return db
    .prepare(
      `INSERT INTO watch_progress (profile_id, title_id, episode_id, position_sec, duration_sec, completed, event_at, updated_at)
       SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), json_extract(value, '$[3]'),
              json_extract(value, '$[4]'), 0, json_extract(value, '$[5]'), ?2
       FROM json_each(?1) WHERE true
       ON CONFLICT (profile_id, title_id) DO UPDATE SET
         episode_id = excluded.episode_id, position_sec = excluded.position_sec, duration_sec = excluded.duration_sec,
         completed = 0, event_at = excluded.event_at, updated_at = excluded.updated_at
       WHERE excluded.event_at > watch_progress.event_at`,
    )
    .bind(JSON.stringify(rows), nowMs);
}
