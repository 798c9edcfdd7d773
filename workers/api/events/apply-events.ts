// Applying a batch of watch events to D1 in ONE `batch()` (one round trip, one
// transaction): the events go into `watch_events` (ignored when their id is already
// there: at-least-once delivery counts once), then set-based statements read only the
// rows this batch took in and update progress, history, daily plays, recent titles and
// co-watch counts. The shared counters (plays, co-watch, viewers) move at most once per
// profile, title and day (counted_plays), whatever a client sends. Each event costs O(1) work (co-watch pairs it with at most
// RECENT_TITLES titles), and every statement stays under D1's 100 bound parameters.
import type { WatchEventMessage } from "../../../lib/watch-events.ts";
import { progressEventTypes } from "../../../lib/watch-events.ts";

/** Past this share of its length (or on a `complete` event) a title or episode counts as finished. */
export const FINISHED_SHARE = 0.95;
/** How many of a profile's latest titles a newly started one is co-watched with. */
export const RECENT_TITLES = 5;
/** D1 refuses a statement with more than 100 bound parameters. */
const MAX_PARAMS = 100;

const COLUMNS = [
  "profile_id",
  "event_id",
  "batch_tag",
  "account_id",
  "type",
  "playback_session_id",
  "title_id",
  "episode_id",
  "position_sec",
  "duration_sec",
  "client_at",
  "received_at",
  "day",
  "country",
  "rendition",
  "rebuffer_ms",
] as const;
const ROWS_PER_INSERT = Math.floor(MAX_PARAMS / COLUMNS.length);

const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function row(m: WatchEventMessage, batchTag: string): (string | number | null)[] {
  const e = m.event;
  return [
    e.profileId,
    e.id,
    batchTag,
    m.accountId,
    e.type,
    e.playbackSessionId,
    e.titleId,
    e.episodeId ?? null,
    e.positionSec,
    e.durationSec,
    e.clientTime,
    m.receivedAt,
    utcDay(m.receivedAt),
    m.country,
    e.rendition ?? null,
    e.rebufferMs ?? null,
  ];
}

const progressTypes = progressEventTypes.map((t) => `'${t}'`).join(", ");
const finished = `(e.type = 'complete' OR e.position_sec >= e.duration_sec * ${FINISHED_SHARE})`;

/**
 * The events of this batch that may change anything: new (taken in by this batch), for a
 * profile of the account that sent them, a title that exists, and an episode of it.
 */
const valid = `FROM watch_events e
  JOIN profiles p ON p.id = e.profile_id AND p.account_id = e.account_id
  JOIN titles t ON t.id = e.title_id
  WHERE e.batch_tag = ?1
    AND (e.episode_id IS NULL OR EXISTS (
      SELECT 1 FROM episodes ep JOIN seasons s ON s.id = ep.season_id WHERE ep.id = e.episode_id AND s.title_id = e.title_id))`;

/** This batch's newly counted plays: (day, profile, title) seen for the first time today (counted_plays). */
const newPlays = `FROM counted_plays c WHERE c.batch_tag = ?1`;

/** The set-based statements, in order: ?1 is the batch tag, ?2 (where used) the batch's time in ms. */
const STATEMENTS = [
  // A profile counts once per title per day, however many starts it sends: the shared
  // counters below read only the plays this insert took in.
  `INSERT INTO counted_plays (day, profile_id, title_id, country, batch_tag)
   SELECT e.day, e.profile_id, e.title_id, MIN(e.country), ?1 ${valid} AND e.type = 'start'
   GROUP BY e.day, e.profile_id, e.title_id
   ON CONFLICT (day, profile_id, title_id) DO NOTHING`,
  // Daily plays per title and country, and per title over all countries ("*").
  `INSERT INTO title_plays_daily (day, country, title_id, plays)
   SELECT c.day, c.country, c.title_id, COUNT(*) ${newPlays}
   GROUP BY c.day, c.country, c.title_id
   ON CONFLICT (day, country, title_id) DO UPDATE SET plays = plays + excluded.plays`,
  `INSERT INTO title_plays_daily (day, country, title_id, plays)
   SELECT c.day, '*', c.title_id, COUNT(*) ${newPlays}
   GROUP BY c.day, c.title_id
   ON CONFLICT (day, country, title_id) DO UPDATE SET plays = plays + excluded.plays`,

  // Progress: per profile and title, this batch's latest event (by client time, then id),
  // applied only if it is later than what is stored — out-of-order delivery is normal.
  `INSERT INTO watch_progress (profile_id, title_id, episode_id, position_sec, duration_sec, completed, event_at, updated_at)
   SELECT e.profile_id, e.title_id, e.episode_id, e.position_sec, e.duration_sec, ${finished}, e.client_at, ?2
   ${valid} AND e.type IN (${progressTypes})
     AND NOT EXISTS (
       SELECT 1 FROM watch_events later
       WHERE later.batch_tag = ?1 AND later.profile_id = e.profile_id AND later.title_id = e.title_id AND later.type IN (${progressTypes})
         AND (later.client_at > e.client_at OR (later.client_at = e.client_at AND later.event_id > e.event_id)))
   ON CONFLICT (profile_id, title_id) DO UPDATE SET
     episode_id = excluded.episode_id, position_sec = excluded.position_sec, duration_sec = excluded.duration_sec,
     completed = excluded.completed, event_at = excluded.event_at, updated_at = excluded.updated_at
   WHERE excluded.event_at > watch_progress.event_at`,

  // A finished episode puts the series' next published episode into Continue Watching.
  // Only rows this batch just wrote (updated_at = now, and an event of this batch).
  `WITH finished AS (
     SELECT wp.profile_id, wp.title_id, (
       SELECT ep2.id FROM episodes ep2
       JOIN seasons s2 ON s2.id = ep2.season_id
       JOIN assets a ON a.id = ep2.asset_id AND a.status = 'published'
       WHERE s2.title_id = wp.title_id AND (s2.number > s1.number OR (s2.number = s1.number AND ep2.number > ep1.number))
       ORDER BY s2.number, ep2.number LIMIT 1) AS next_id
     FROM watch_progress wp
     JOIN episodes ep1 ON ep1.id = wp.episode_id
     JOIN seasons s1 ON s1.id = ep1.season_id
     WHERE wp.completed = 1 AND wp.updated_at = ?2
       AND EXISTS (SELECT 1 FROM watch_events e WHERE e.batch_tag = ?1 AND e.profile_id = wp.profile_id AND e.title_id = wp.title_id))
   UPDATE watch_progress SET
     episode_id = (SELECT next_id FROM finished f WHERE f.profile_id = watch_progress.profile_id AND f.title_id = watch_progress.title_id),
     duration_sec = COALESCE((SELECT ep.runtime_sec FROM episodes ep WHERE ep.id =
       (SELECT next_id FROM finished f WHERE f.profile_id = watch_progress.profile_id AND f.title_id = watch_progress.title_id)), 0),
     position_sec = 0,
     completed = 0
   WHERE EXISTS (SELECT 1 FROM finished f WHERE f.profile_id = watch_progress.profile_id AND f.title_id = watch_progress.title_id AND f.next_id IS NOT NULL)`,

  // History: what was finished, newest finish kept.
  `INSERT INTO watch_history (profile_id, title_id, episode_key, episode_id, finished_at)
   SELECT e.profile_id, e.title_id, COALESCE(e.episode_id, ''), e.episode_id, MAX(e.client_at)
   ${valid} AND e.type IN (${progressTypes}) AND ${finished}
   GROUP BY e.profile_id, e.title_id, COALESCE(e.episode_id, '')
   ON CONFLICT (profile_id, title_id, episode_key) DO UPDATE SET finished_at = MAX(finished_at, excluded.finished_at)`,

  // Co-watch: a title a profile starts for the first time lately (and first today) is
  // paired, both ways, with that profile's most recent titles (at most RECENT_TITLES).
  `INSERT INTO co_watch (title_id, other_title_id, count)
   SELECT pair.a, pair.b, COUNT(*) FROM (
     SELECT DISTINCT c.profile_id, r.title_id AS a, c.title_id AS b
       FROM counted_plays c JOIN profile_recent_titles r ON r.profile_id = c.profile_id
       WHERE c.batch_tag = ?1 AND r.title_id != c.title_id
         AND NOT EXISTS (SELECT 1 FROM profile_recent_titles seen WHERE seen.profile_id = c.profile_id AND seen.title_id = c.title_id)
     UNION ALL
     SELECT DISTINCT c.profile_id, c.title_id AS a, r.title_id AS b
       FROM counted_plays c JOIN profile_recent_titles r ON r.profile_id = c.profile_id
       WHERE c.batch_tag = ?1 AND r.title_id != c.title_id
         AND NOT EXISTS (SELECT 1 FROM profile_recent_titles seen WHERE seen.profile_id = c.profile_id AND seen.title_id = c.title_id)
   ) pair
   WHERE true
   GROUP BY pair.a, pair.b
   ON CONFLICT (title_id, other_title_id) DO UPDATE SET count = count + excluded.count`,
  // The co-watch marginal: one more viewer for a title a profile starts for the first time lately (and first today).
  `INSERT INTO title_stats (title_id, viewers)
   SELECT d.title_id, COUNT(*) FROM (
     SELECT DISTINCT c.profile_id, c.title_id ${newPlays}
       AND NOT EXISTS (SELECT 1 FROM profile_recent_titles seen WHERE seen.profile_id = c.profile_id AND seen.title_id = c.title_id)
   ) d
   WHERE true
   GROUP BY d.title_id
   ON CONFLICT (title_id) DO UPDATE SET viewers = viewers + excluded.viewers`,
  `INSERT INTO profile_recent_titles (profile_id, title_id, last_at)
   SELECT e.profile_id, e.title_id, MAX(e.client_at) ${valid} AND e.type = 'start'
   GROUP BY e.profile_id, e.title_id
   ON CONFLICT (profile_id, title_id) DO UPDATE SET last_at = MAX(last_at, excluded.last_at)`,
  `DELETE FROM profile_recent_titles
   WHERE profile_id IN (SELECT e.profile_id FROM watch_events e WHERE e.batch_tag = ?1 AND e.type = 'start')
     AND title_id NOT IN (
       SELECT keep.title_id FROM profile_recent_titles keep WHERE keep.profile_id = profile_recent_titles.profile_id
       ORDER BY keep.last_at DESC, keep.title_id LIMIT ${RECENT_TITLES})`,
];

/** The statements for one batch: the chunked inserts of the events, then the set-based updates. */
export function eventStatements(db: D1Database, messages: WatchEventMessage[], batchTag: string, nowMs: number): D1PreparedStatement[] {
  const statements: D1PreparedStatement[] = [];
  for (let i = 0; i < messages.length; i += ROWS_PER_INSERT) {
    const chunk = messages.slice(i, i + ROWS_PER_INSERT);
    const placeholders = chunk.map(() => `(${COLUMNS.map(() => "?").join(", ")})`).join(", ");
    statements.push(
      db
        .prepare(`INSERT INTO watch_events (${COLUMNS.join(", ")}) VALUES ${placeholders} ON CONFLICT (profile_id, event_id) DO NOTHING`)
        .bind(...chunk.flatMap((m) => row(m, batchTag))),
    );
  }
  for (const sql of STATEMENTS) statements.push(sql.includes("?2") ? db.prepare(sql).bind(batchTag, nowMs) : db.prepare(sql).bind(batchTag));
  return statements;
}

/** Applies the messages in one D1 round trip. Throws if D1 fails; nothing is then applied (one transaction). */
export async function applyEvents(db: D1Database, messages: WatchEventMessage[], nowMs: number): Promise<void> {
  const batchTag = crypto.randomUUID();
  await db.batch(eventStatements(db, messages, batchTag, nowMs));
}
