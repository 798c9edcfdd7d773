// Everything the home page of one profile needs, in two steps: the profile's watch data
// from its watch shard (one batch) and its account's live positions, at the same time;
// then ONE DB batch for the rest, with the shard's ids passed in as JSON parameters (with
// the session check, three round trips in all). Every statement is bounded by an index
// and a LIMIT, whatever the catalog's or the profile's history's size: seeds (at most
// SEEDS), their top NEIGHBOURS co-watched titles each, a window of recent history, and
// short lists.
import { shardForProfile } from "../../../lib/watch-shards/shards.ts";
import { livePositions, mergeLive, progressCardsStatement, shardProgressStatement, type ContinueRow, type ViewingRead } from "../events/viewing.ts";
import { profileMayWatchSql } from "../catalog/visible-sql.ts";

/** Titles whose co-watch neighbours seed the personal rows: the latest starts and thumbs up. */
export const SEEDS = 6;
/** Candidates per seed, taken by raw co-watch count, then re-ranked by similarity. */
export const NEIGHBOURS = 50;
/** Genre rows on the page, in the order of the profile's taste. */
export const GENRE_ROWS = 4;
export const ROW_LENGTH = 20;
/** Trending looks at this many days, halving each day's weight. */
export const TRENDING_DAYS = 7;
/** Per day, only the day's most played titles count towards Trending: the read stays bounded. */
const TRENDING_PER_DAY = 200;
/** How much of the finished history is excluded from picks and counted for taste. */
const HISTORY_WINDOW = 200;

export type CardRow = {
  id: string;
  name: string;
  kind: "movie" | "series";
  poster_path: string | null;
  maturity_rating: string;
  release_year: number;
};

const card = "t.id, t.name, t.kind, t.poster_path, t.maturity_rating, t.release_year";

/** Titles the profile (joined as p, id ?1) may see now (?2, Unix ms). */
const visible = profileMayWatchSql("?2");

/**
 * The profile's seeds, newest first: recently started titles (?3, [[title, at], …] from
 * its shard) and thumbs up (a title that is both counts once, as a thumbs up), never one
 * it gave a thumbs down.
 */
const seedsCte = `seeds AS (
  SELECT title_id, MAX(at) AS at, MAX(kind) AS kind FROM (
    SELECT json_extract(value, '$[0]') AS title_id, json_extract(value, '$[1]') AS at, 'recent' AS kind FROM json_each(?3)
    UNION ALL
    SELECT title_id, rated_at, 'up' FROM (
      SELECT title_id, rated_at FROM profile_ratings WHERE profile_id = ?1 AND rating = 1 ORDER BY rated_at DESC LIMIT ${SEEDS}))
  WHERE title_id NOT IN (SELECT title_id FROM profile_ratings WHERE profile_id = ?1 AND rating = -1)
  GROUP BY title_id
  ORDER BY at DESC, title_id
  LIMIT ${SEEDS})`;

/** Genres by the profile's taste (seeds and recent history, ?4: its latest finished title ids from its shard), or, with no history, by the most popular titles'. */
const tasteCte = `taste AS (
  SELECT genre_id, SUM(weight) AS score FROM (
    SELECT tg.genre_id, 3.0 AS weight FROM seeds s JOIN title_genres tg ON tg.title_id = s.title_id
    UNION ALL
    SELECT tg.genre_id, 1.0 FROM json_each(?4) h
      JOIN title_genres tg ON tg.title_id = h.value
    UNION ALL
    SELECT tg.genre_id, 0.01 FROM (SELECT id FROM titles ORDER BY popularity DESC, id LIMIT 100) pop
      JOIN title_genres tg ON tg.title_id = pop.id)
  GROUP BY genre_id)`;

export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export type HomeQueryResult = Awaited<ReturnType<typeof runHomeQueries>>;

/** Time-decayed plays: today's count in full, each earlier day's at half the weight of the day after it. */
export function trendingFrom(byDay: (CardRow & { plays: number })[][]): (CardRow & { score: number })[] {
  const scores = new Map<string, CardRow & { score: number }>();
  byDay.forEach((rows, age) => {
    for (const { plays, ...card } of rows) {
      const entry = scores.get(card.id) ?? { ...card, score: 0 };
      entry.score += plays * 0.5 ** age;
      scores.set(card.id, entry);
    }
  });
  return [...scores.values()].sort((a, b) => b.score - a.score || a.id.localeCompare(b.id)).slice(0, ROW_LENGTH * 2);
}

/** Titles taste counts from the history. */
const TASTE_HISTORY = 50;

/** The profile's watch data the DB batch needs, from its shard in one batch, and its live positions. */
async function watchFacts(read: ViewingRead) {
  const shardDb = shardForProfile(read.env, read.profileId).db;
  const p = read.profileId;
  const [[progress, recent, history, completed], live] = await Promise.all([
    shardDb.batch<Record<string, unknown>>([
      shardProgressStatement(shardDb, p, null, ROW_LENGTH),
      shardDb.prepare(`SELECT title_id, last_at FROM profile_recent_titles WHERE profile_id = ?1 ORDER BY last_at DESC, title_id LIMIT ${SEEDS}`).bind(p),
      shardDb.prepare(`SELECT title_id FROM watch_history WHERE profile_id = ?1 ORDER BY finished_at DESC LIMIT ${HISTORY_WINDOW}`).bind(p),
      shardDb.prepare(`SELECT title_id FROM watch_progress WHERE profile_id = ?1 AND completed = 1 ORDER BY event_at DESC LIMIT ${HISTORY_WINDOW}`).bind(p),
    ]),
    livePositions(read.env, read.accountId, p, read.requestId),
  ]);
  const ids = (r: typeof history) => ((r?.results ?? []) as { title_id: string }[]).map((x) => x.title_id);
  const historyIds = ids(history);
  return {
    continueWatching: mergeLive((progress?.results ?? []) as Parameters<typeof mergeLive>[0], live, null).slice(0, ROW_LENGTH),
    recent: ((recent?.results ?? []) as { title_id: string; last_at: number }[]).map((r) => [r.title_id, r.last_at]),
    tasteHistory: [...new Set(historyIds)].slice(0, TASTE_HISTORY),
    watched: [...new Set([...historyIds, ...ids(completed)])],
  };
}

export async function runHomeQueries(read: ViewingRead, country: string) {
  const { db, profileId, nowMs } = read;
  const facts = await watchFacts(read);
  const recentJson = JSON.stringify(facts.recent);
  const tasteJson = JSON.stringify(facts.tasteHistory);
  const today = utcDay(nowMs);
  const days = Array.from({ length: TRENDING_DAYS }, (_, i) => utcDay(nowMs - i * 86_400_000));
  const profileJoin = "JOIN profiles p ON p.id = ?1";
  // Every statement binds ?1 (the profile) and ?2 (now); SQLite refuses a binding its
  // statement does not mention, hence the `?2 = ?2` in the few that need no clock.
  const s = (sql: string, ...params: unknown[]) => db.prepare(sql).bind(profileId, nowMs, ...params);

  const statements = [
    // 0: the profile (its level is in every other statement too, through the join).
    s(`SELECT p.id, p.name, p.is_kids, p.maturity_level FROM profiles p WHERE p.id = ?1 AND ?2 = ?2`),
    // 1: Continue Watching's cards, the statement its own route reads with.
    progressCardsStatement(db, profileId, nowMs, facts.continueWatching),
    // 2: Top 10 in the viewer's country today.
    s(`SELECT ${card}, d.plays FROM title_plays_daily d ${profileJoin} JOIN titles t ON t.id = d.title_id
       WHERE d.day = ?3 AND d.country = ?4 AND ${visible}
       ORDER BY d.plays DESC, t.id LIMIT 10`, today, country),
    // 3: Live now: the live events on now, newest first (Trending is read per day at the end).
    s(`SELECT ${card} FROM live_events le ${profileJoin} JOIN titles t ON t.id = le.title_id
       WHERE le.state = 'live' AND ${visible} ORDER BY le.started_at DESC, t.id LIMIT ${ROW_LENGTH}`),
    // 4: the seeds, with their names.
    s(`WITH ${seedsCte} SELECT s.title_id AS id, t.name, s.at, s.kind FROM seeds s JOIN titles t ON t.id = s.title_id WHERE ?2 = ?2 ORDER BY s.at DESC, s.title_id`, recentJson),
    // 5: what is excluded from the personal rows besides what was finished lately (the shard's): thumbs down.
    s(`SELECT title_id AS id FROM profile_ratings WHERE profile_id = ?1 AND rating = -1 AND ?2 = ?2 ORDER BY rated_at DESC LIMIT ${HISTORY_WINDOW}`),
    // 6: My List.
    s(`SELECT ${card} FROM profile_list l ${profileJoin} JOIN titles t ON t.id = l.title_id
       WHERE l.profile_id = ?1 AND ${visible} ORDER BY l.added_at DESC, t.id LIMIT ${ROW_LENGTH * 2}`),
    // 7: New releases.
    s(`SELECT ${card} FROM titles t ${profileJoin} WHERE ${visible} ORDER BY t.release_year DESC, t.created_at DESC, t.id LIMIT ${ROW_LENGTH}`),
    // 8: Popular: the cold start, and what personal rows fall back to.
    s(`SELECT ${card} FROM titles t ${profileJoin} WHERE ${visible} ORDER BY t.popularity DESC, t.id LIMIT ${ROW_LENGTH * 2}`),
    // 9..: each seed's most co-watched titles, with both titles' viewer counts.
    ...Array.from({ length: SEEDS }, (_, k) =>
      s(`WITH ${seedsCte}
         SELECT c.title_id AS seed_id, c.other_title_id AS id, c.count, sx.viewers AS seed_viewers, sy.viewers AS viewers, ${card}
         FROM co_watch c
         JOIN title_stats sx ON sx.title_id = c.title_id
         JOIN title_stats sy ON sy.title_id = c.other_title_id
         ${profileJoin} JOIN titles t ON t.id = c.other_title_id
         WHERE c.title_id = (SELECT title_id FROM seeds ORDER BY at DESC, title_id LIMIT 1 OFFSET ${k}) AND ${visible}
         ORDER BY c.count DESC, c.other_title_id LIMIT ${NEIGHBOURS}`, recentJson),
    ),
    // then: the genre rows, by taste.
    ...Array.from({ length: GENRE_ROWS }, (_, k) =>
      s(`WITH ${seedsCte}, ${tasteCte}
         SELECT g.id AS genre_id, g.name AS genre_name, ${card}
         FROM genres g JOIN title_genres tg ON tg.genre_id = g.id ${profileJoin} JOIN titles t ON t.id = tg.title_id
         WHERE g.id = (SELECT genre_id FROM taste ORDER BY score DESC, genre_id LIMIT 1 OFFSET ${k}) AND ${visible}
         ORDER BY t.popularity DESC, t.id LIMIT ${ROW_LENGTH}`, recentJson, tasteJson),
    ),
    // then: Trending, one statement a day (D1 allows few terms in a compound SELECT): each
    // day's most played titles, weighted in JS by the day's age.
    ...days.map((day) =>
      s(`SELECT ${card}, d.plays FROM title_plays_daily d ${profileJoin} JOIN titles t ON t.id = d.title_id
         WHERE d.day = ?3 AND d.country = '*' AND ${visible}
         ORDER BY d.plays DESC, t.id LIMIT ${TRENDING_PER_DAY}`, day),
    ),
  ];
  const results = await db.batch<Record<string, unknown>>(statements);
  const rows = <T>(i: number) => (results[i]?.results ?? []) as T[];
  return {
    profile: rows<{ id: string; name: string; is_kids: number; maturity_level: number }>(0)[0] ?? null,
    continueWatching: rows<ContinueRow>(1),
    top10: rows<CardRow & { plays: number }>(2),
    liveNow: rows<CardRow>(3),
    trending: trendingFrom(days.map((_, i) => rows<CardRow & { plays: number }>(9 + SEEDS + GENRE_ROWS + i))),
    seeds: rows<{ id: string; name: string; at: number; kind: "recent" | "up" }>(4),
    excluded: [...new Set([...facts.watched, ...rows<{ id: string }>(5).map((r) => r.id)])],
    myList: rows<CardRow>(6),
    newReleases: rows<CardRow>(7),
    popular: rows<CardRow>(8),
    neighbours: Array.from({ length: SEEDS }, (_, k) => rows<CardRow & { seed_id: string; count: number; seed_viewers: number; viewers: number }>(9 + k)).flat(),
    genreRows: Array.from({ length: GENRE_ROWS }, (_, k) => rows<CardRow & { genre_id: string; genre_name: string }>(9 + SEEDS + k)),
    statements: statements.length,
  };
}
