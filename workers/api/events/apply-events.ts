// Applying a batch of watch events to its watch shard in ONE `batch()` (one round trip,
// one transaction): the events go into `watch_events` (ignored when their id is already
// there: at-least-once delivery counts once), then set-based statements read only the
// rows this batch took in and update progress, history, recent titles and the counted
// plays. What the batch adds to the counters every shard shares (daily plays, co-watch,
// viewers) is summed per key into the shard's `counter_outbox` in the same transaction,
// and folded into the counters in `DB` by fold-counters.ts: no counter row is written by
// every event, or by every shard at once. The shared counters move at most once per
// profile, title and day (counted_plays), whatever a client sends. Each event costs O(1)
// work (co-watch pairs it with at most RECENT_TITLES titles), and every statement stays
// under D1's 100 bound parameters. The events are trusted as the api stamped them: each
// names a stream id the server signed for its account, profile, title and episode
// (events/intake.ts), so the shard needs no catalog to check them; the one catalog fact
// it needs — which episode follows a finished one — is read from `DB` first (nextEpisodes).
import type { WatchEventMessage } from "../../../lib/watch-events.ts";
import { progressEventTypes } from "../../../lib/watch-events.ts";
import { FINISHED_SHARE, isFinished } from "../../../lib/watch-shards/positions.ts";

export { FINISHED_SHARE };
/** How many of a profile's latest titles a newly started one is co-watched with. */
export const RECENT_TITLES = 5;
/** Batches whose outbox rows one fold takes at most (a batch's own rows number a few hundred at most). */
export const FOLD_BATCHES = 5;

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
  "segment",
] as const;
/**
 * Events a statement inserts: they travel as one JSON parameter (D1 binds at most 100
 * parameters, but a value may be up to 2 MB), a few hundred bytes each.
 */
const ROWS_PER_INSERT = 500;
/** `json_extract(value, '$[i]') AS column`, for every column of the row arrays `row()` makes. */
const fromJsonRow = COLUMNS.map((_, i) => `json_extract(value, '$[${i}]')`).join(", ");

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
    e.segment ?? null,
  ];
}

const progressTypes = progressEventTypes.map((t) => `'${t}'`).join(", ");
const finished = `(e.type = 'complete' OR e.position_sec >= e.duration_sec * ${FINISHED_SHARE})`;

/** The events this batch took in (new to the shard). */
const valid = `FROM watch_events e WHERE e.batch_tag = ?1`;

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
  // Daily plays per title and country, and per title over all countries ("*"), for the fold.
  `INSERT INTO counter_outbox (batch_tag, kind, a, b, c, delta)
   SELECT ?1, 'plays', c.day, c.country, c.title_id, COUNT(*) ${newPlays}
   GROUP BY c.day, c.country, c.title_id`,
  `INSERT INTO counter_outbox (batch_tag, kind, a, b, c, delta)
   SELECT ?1, 'plays', c.day, '*', c.title_id, COUNT(*) ${newPlays}
   GROUP BY c.day, c.title_id`,

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

  // A finished episode puts the series' next published episode into Continue Watching:
  // ?3 is [[episode, next episode, its runtime], …] as read from DB for this batch's
  // finished episodes. Only rows this batch just wrote (updated_at = now, and an event of this batch).
  `WITH nexts AS (
     SELECT json_extract(value, '$[0]') AS episode_id, json_extract(value, '$[1]') AS next_id, json_extract(value, '$[2]') AS next_runtime FROM json_each(?3)),
   finished AS (
     SELECT wp.profile_id, wp.title_id, n.next_id, n.next_runtime
     FROM watch_progress wp JOIN nexts n ON n.episode_id = wp.episode_id
     WHERE wp.completed = 1 AND wp.updated_at = ?2 AND n.next_id IS NOT NULL
       AND EXISTS (SELECT 1 FROM watch_events e WHERE e.batch_tag = ?1 AND e.profile_id = wp.profile_id AND e.title_id = wp.title_id))
   UPDATE watch_progress SET
     episode_id = (SELECT next_id FROM finished f WHERE f.profile_id = watch_progress.profile_id AND f.title_id = watch_progress.title_id),
     duration_sec = COALESCE((SELECT next_runtime FROM finished f WHERE f.profile_id = watch_progress.profile_id AND f.title_id = watch_progress.title_id), 0),
     position_sec = 0,
     completed = 0
   WHERE EXISTS (SELECT 1 FROM finished f WHERE f.profile_id = watch_progress.profile_id AND f.title_id = watch_progress.title_id)`,

  // History: what was finished, newest finish kept.
  `INSERT INTO watch_history (profile_id, title_id, episode_key, episode_id, finished_at)
   SELECT e.profile_id, e.title_id, COALESCE(e.episode_id, ''), e.episode_id, MAX(e.client_at)
   ${valid} AND e.type IN (${progressTypes}) AND ${finished}
   GROUP BY e.profile_id, e.title_id, COALESCE(e.episode_id, '')
   ON CONFLICT (profile_id, title_id, episode_key) DO UPDATE SET finished_at = MAX(finished_at, excluded.finished_at)`,

  // Co-watch: a title a profile starts for the first time lately (and first today) is
  // paired, both ways, with that profile's most recent titles (at most RECENT_TITLES).
  `INSERT INTO counter_outbox (batch_tag, kind, a, b, c, delta)
   SELECT ?1, 'co_watch', pair.a, pair.b, '', COUNT(*) FROM (
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
   GROUP BY pair.a, pair.b`,
  // The co-watch marginal: one more viewer for a title a profile starts for the first time lately (and first today).
  `INSERT INTO counter_outbox (batch_tag, kind, a, b, c, delta)
   SELECT ?1, 'viewers', d.title_id, '', '', COUNT(*) FROM (
     SELECT DISTINCT c.profile_id, c.title_id ${newPlays}
       AND NOT EXISTS (SELECT 1 FROM profile_recent_titles seen WHERE seen.profile_id = c.profile_id AND seen.title_id = c.title_id)
   ) d
   GROUP BY d.title_id`,
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

/** [episode, next published episode, its runtime] for each finished episode of a batch, from DB. */
export type NextEpisodes = [string, string | null, number | null][];

/** The episodes a batch may finish: what nextEpisodes must look up. */
export function finishedEpisodeIds(messages: WatchEventMessage[]): string[] {
  const ids = new Set<string>();
  for (const { event: e } of messages) {
    if (e.episodeId && (progressEventTypes as readonly string[]).includes(e.type) && (e.type === "complete" || isFinished(e))) ids.add(e.episodeId);
  }
  return [...ids];
}

/** Reads from DB (a replica will do: episodes change rarely) which published episode follows each of these. One statement. */
export async function nextEpisodes(db: D1Database | D1DatabaseSession, episodeIds: string[]): Promise<NextEpisodes> {
  if (episodeIds.length === 0) return [];
  const { results } = await db
    .prepare(
      `SELECT ep1.id AS episode_id, nx.id AS next_id, nx.runtime_sec AS next_runtime
       FROM json_each(?1) j
       JOIN episodes ep1 ON ep1.id = j.value
       JOIN seasons s1 ON s1.id = ep1.season_id
       LEFT JOIN episodes nx ON nx.id = (
         SELECT ep2.id FROM episodes ep2
         JOIN seasons s2 ON s2.id = ep2.season_id
         JOIN assets a ON a.id = ep2.asset_id AND a.status = 'published'
         WHERE s2.title_id = s1.title_id AND (s2.number > s1.number OR (s2.number = s1.number AND ep2.number > ep1.number))
         ORDER BY s2.number, ep2.number LIMIT 1)`,
    )
    .bind(JSON.stringify(episodeIds))
    .all<{ episode_id: string; next_id: string | null; next_runtime: number | null }>();
  return results.map((r) => [r.episode_id, r.next_id, r.next_runtime]);
}

/** A pending outbox row as the fold reads it. */
export type OutboxRow = { batch_tag: string; kind: "plays" | "co_watch" | "viewers"; a: string; b: string; c: string; delta: number };

/** The outbox rows of the oldest few batches not yet folded (this one's among them, unless older ones wait). */
export const pendingOutbox = `SELECT batch_tag, kind, a, b, c, delta FROM counter_outbox
  WHERE batch_tag IN (SELECT batch_tag FROM counter_outbox GROUP BY batch_tag ORDER BY MIN(rowid) LIMIT ${FOLD_BATCHES})`;

/** Deletes the outbox rows of batches folded into DB (the shard's next batch does it, or the cron's sweep). */
export function deleteFolded(db: D1Database, batchTags: string[]): D1PreparedStatement {
  return db.prepare("DELETE FROM counter_outbox WHERE batch_tag IN (SELECT value FROM json_each(?1))").bind(JSON.stringify(batchTags));
}

/**
 * The statements for one batch: the outbox rows of batches folded since the last one go,
 * then the chunked inserts of the events, the set-based updates, and (last) a read of
 * the outbox rows waiting to be folded.
 */
export function eventStatements(db: D1Database, messages: WatchEventMessage[], batchTag: string, nowMs: number, nexts: NextEpisodes, folded: string[] = []): D1PreparedStatement[] {
  const statements: D1PreparedStatement[] = [];
  if (folded.length > 0) statements.push(deleteFolded(db, folded));
  for (let i = 0; i < messages.length; i += ROWS_PER_INSERT) {
    const chunk = messages.slice(i, i + ROWS_PER_INSERT);
    statements.push(
      db
        .prepare(`INSERT INTO watch_events (${COLUMNS.join(", ")}) SELECT ${fromJsonRow} FROM json_each(?1) WHERE true ON CONFLICT (profile_id, event_id) DO NOTHING`)
        .bind(JSON.stringify(chunk.map((m) => row(m, batchTag)))),
    );
  }
  for (const sql of STATEMENTS) {
    const params = sql.includes("?3") ? [batchTag, nowMs, JSON.stringify(nexts)] : sql.includes("?2") ? [batchTag, nowMs] : [batchTag];
    statements.push(db.prepare(sql).bind(...params));
  }
  statements.push(db.prepare(pendingOutbox));
  return statements;
}

/**
 * Applies the messages to their shard in one D1 round trip (after one DB read when the
 * batch finishes an episode). Throws if D1 fails; nothing is then applied (one
 * transaction). Returns the outbox rows waiting to be folded.
 */
export async function applyEvents(
  shardDb: D1Database,
  catalog: D1Database | D1DatabaseSession,
  messages: WatchEventMessage[],
  nowMs: number,
  folded: string[] = [],
): Promise<OutboxRow[]> {
  const batchTag = crypto.randomUUID();
  const nexts = await nextEpisodes(catalog, finishedEpisodeIds(messages));
  const results = await shardDb.batch(eventStatements(shardDb, messages, batchTag, nowMs, nexts, folded));
  return (results.at(-1)?.results ?? []) as OutboxRow[];
}
