// What a profile has been watching: Continue Watching (unfinished, newest first), the
// viewing history (finished, newest first), both keyset-paginated; and removing a title
// from both. The rows are in the profile's watch shard; positions its account's Durable
// Object holds and the shard does not have yet (a stream playing now) are merged in; the
// titles' cards, and whether the profile may still see them, come from `DB` — one
// statement there for a page, from the ids the shard gave.
import { z } from "zod";
import { ApiError } from "../../../lib/errors.ts";
import { base64UrlDecode, base64UrlEncode } from "../../../lib/base64url.ts";
import { log } from "../../../lib/log.ts";
import type { LivePosition } from "../../../lib/watch-shards/positions.ts";
import { shardForProfile, type ShardEnv } from "../../../lib/watch-shards/shards.ts";
import { refuseLockedProfile, type Auth } from "../auth/auth-context.ts";
import { profileMayWatchSql } from "../catalog/visible-sql.ts";
import type { D1Queryable } from "../d1-sessions/queryable.ts";
import { streamLeases } from "../playback/stream-leases.ts";

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

/** Titles the profile (joined as p, ?1) may still see at ?2: at or below its maturity level, inside their window. */
const visible = profileMayWatchSql("?2");

export type ViewingEnv = ShardEnv & { DB: D1Database; ACCOUNT_STREAMS: ApiEnv["ACCOUNT_STREAMS"] };
/** Where the cards are read: DB, or a member's D1 session of it. */
export type CatalogDb = D1Queryable;

/** The title and (for a series) episode columns the card reads select. */
export type ViewedRow = {
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

/** A shard's progress row: what Continue Watching orders and pages by. */
type ProgressRow = { title_id: string; episode_id: string | null; position_sec: number; duration_sec: number; event_at: number };

/** The profile's unfinished titles in its shard, newest first, after `after` (a page's cursor). */
export function shardProgressStatement(shardDb: D1Database, profileId: string, after: Cursor | null, limit: number): D1PreparedStatement {
  return shardDb
    .prepare(
      `SELECT title_id, episode_id, position_sec, duration_sec, event_at FROM watch_progress
       WHERE profile_id = ?1 AND completed = 0
         AND (?2 IS NULL OR event_at < ?2 OR (event_at = ?2 AND title_id > ?3))
       ORDER BY event_at DESC, title_id
       LIMIT ?4`,
    )
    .bind(profileId, after?.at ?? null, after?.k ?? "", limit);
}

/** Before `after` in Continue Watching's order (newest first, then by title id). */
const isAfter = (p: { event_at: number; title_id: string }, after: Cursor | null) => after === null || p.event_at < after.at || (p.event_at === after.at && p.title_id > after.k);

/**
 * The shard's rows with the live positions merged in: a title's later live position
 * replaces its row (or, finished, removes it); a live one the page lacks joins it when it
 * belongs after the cursor. Newest first.
 */
export function mergeLive(rows: ProgressRow[], live: (LivePosition & { finished: boolean })[], after: Cursor | null): ProgressRow[] {
  const byTitle = new Map(rows.map((r) => [r.title_id, r]));
  for (const p of live) {
    const row = byTitle.get(p.titleId);
    if (row && row.event_at >= p.clientAt) continue;
    const merged = { title_id: p.titleId, episode_id: p.episodeId, position_sec: p.positionSec, duration_sec: p.durationSec, event_at: p.clientAt };
    if (p.finished || !isAfter(merged, after)) byTitle.delete(p.titleId);
    else byTitle.set(p.titleId, merged);
  }
  return [...byTitle.values()].sort((a, b) => b.event_at - a.event_at || (a.title_id < b.title_id ? -1 : a.title_id > b.title_id ? 1 : 0));
}

/**
 * Rows a shard gave, as one JSON parameter (?3: arrays whose item 0 is the title id and
 * item `episodeAt` the episode id), joined to their titles and episodes in DB, only those
 * the profile (?1) may still see at ?2, in their order: the shape both viewing reads share.
 */
const shardRowsWithCards = (episodeAt: number) => `FROM json_each(?3) j
       JOIN profiles p ON p.id = ?1
       JOIN titles t ON t.id = json_extract(j.value, '$[0]')
       LEFT JOIN episodes ep ON ep.id = json_extract(j.value, '$[${episodeAt}]')
       LEFT JOIN seasons s ON s.id = ep.season_id
       WHERE ${visible}
       ORDER BY j.key`;

/**
 * The cards of these progress rows that the profile may still see, in their order: one
 * DB statement, the rows passed as one JSON parameter.
 */
export function progressCardsStatement(db: CatalogDb, profileId: string, nowMs: number, rows: ProgressRow[]): D1PreparedStatement {
  return db
    .prepare(
      `SELECT j.key AS ord, t.id AS title_id, t.id, t.name, t.kind, t.poster_path, t.maturity_rating, t.release_year,
              ep.id AS episode_id, ep.name AS episode_name, s.number AS season_number, ep.number AS episode_number,
              json_extract(j.value, '$[2]') AS position_sec, json_extract(j.value, '$[3]') AS duration_sec, json_extract(j.value, '$[4]') AS event_at
       ${shardRowsWithCards(1)}`,
    )
    .bind(profileId, nowMs, JSON.stringify(rows.map((r) => [r.title_id, r.episode_id, r.position_sec, r.duration_sec, r.event_at])));
}

/**
 * The live positions the account's object holds for the profile. Its failure costs only
 * freshness: the shard's rows are answered alone.
 */
export async function livePositions(env: ViewingEnv, accountId: string, profileId: string, requestId: string): Promise<(LivePosition & { finished: boolean })[]> {
  try {
    return await streamLeases(env, accountId, requestId).livePositions(profileId);
  } catch (err) {
    log("warn", { event: "dependency_failed", requestId, dependency: "do:ACCOUNT_STREAMS", message: `live positions left out: ${(err as Error)?.message ?? err}` });
    return [];
  }
}

/** Rounds of shard reads a page may take when titles it holds are no longer visible to the profile. */
const MAX_ROUNDS = 3;

export type ViewingRead = { env: ViewingEnv; db: CatalogDb; accountId: string; profileId: string; nowMs: number; requestId: string };

/**
 * One page of Continue Watching: the shard's rows after the cursor (and the live
 * positions, fetched at the same time), their cards from DB; again from where it stopped
 * if the profile may no longer see some of them.
 */
export async function continueWatchingRows(read: ViewingRead, after: Cursor | null, limit: number): Promise<{ rows: ContinueRow[]; more: boolean }> {
  const shardDb = shardForProfile(read.env, read.profileId).db;
  const live = livePositions(read.env, read.accountId, read.profileId, read.requestId);
  const found: ContinueRow[] = [];
  let cursor = after;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const want = limit + 1 - found.length;
    const [{ results }, positions] = await Promise.all([shardProgressStatement(shardDb, read.profileId, cursor, want).all<ProgressRow>(), live]);
    const exhausted = results.length < want;
    // Each round merges the live positions after its own cursor: one already taken is before the next cursor.
    const candidates = mergeLive(results, positions, cursor).slice(0, want);
    if (candidates.length === 0) break;
    const { results: cards } = await progressCardsStatement(read.db, read.profileId, read.nowMs, candidates).all<ContinueRow & { ord: number }>();
    found.push(...cards.map(({ ord: _ord, ...card }) => card));
    const last = candidates.at(-1)!;
    if (exhausted || found.length > limit) break;
    cursor = { at: last.event_at, k: last.title_id };
  }
  return { rows: found.slice(0, limit), more: found.length > limit };
}

export async function continueWatching(read: ViewingRead, query: z.infer<typeof pageQuerySchema>) {
  const { rows, more } = await continueWatchingRows(read, decode(query.cursor), query.limit);
  const last = rows.at(-1);
  return {
    items: rows.map((r) => ({
      ...viewedCard(r),
      positionSec: r.position_sec,
      durationSec: r.duration_sec,
      progress: r.duration_sec > 0 ? Math.min(1, r.position_sec / r.duration_sec) : 0,
      watchedAt: new Date(r.event_at).toISOString(),
    })),
    nextCursor: more && last ? encode({ at: last.event_at, k: last.title_id }) : null,
  };
}

type HistoryShardRow = { title_id: string; episode_key: string; episode_id: string | null; finished_at: number };
type HistoryRow = ViewedRow & { episode_key: string; finished_at: number };

export async function viewingHistory(read: ViewingRead, query: z.infer<typeof pageQuerySchema>) {
  const shardDb = shardForProfile(read.env, read.profileId).db;
  const limit = query.limit;
  const found: HistoryRow[] = [];
  let after = decode(query.cursor);
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const want = limit + 1 - found.length;
    const { results } = await shardDb
      .prepare(
        `SELECT title_id, episode_key, episode_id, finished_at FROM watch_history
         WHERE profile_id = ?1 AND (?2 IS NULL OR finished_at < ?2 OR (finished_at = ?2 AND (title_id || '/' || episode_key) > ?3))
         ORDER BY finished_at DESC, title_id || '/' || episode_key
         LIMIT ?4`,
      )
      .bind(read.profileId, after?.at ?? null, after?.k ?? "", want)
      .all<HistoryShardRow>();
    if (results.length === 0) break;
    const { results: cards } = await read.db
      .prepare(
        `SELECT t.id AS title_id, t.name, t.kind, t.poster_path, json_extract(j.value, '$[1]') AS episode_key, ep.id AS episode_id,
                ep.name AS episode_name, s.number AS season_number, ep.number AS episode_number, json_extract(j.value, '$[3]') AS finished_at
         ${shardRowsWithCards(2)}`,
      )
      .bind(read.profileId, read.nowMs, JSON.stringify(results.map((r) => [r.title_id, r.episode_key, r.episode_id, r.finished_at])))
      .all<HistoryRow>();
    found.push(...cards);
    const last = results.at(-1)!;
    if (results.length < want || found.length > limit) break;
    after = { at: last.finished_at, k: `${last.title_id}/${last.episode_key}` };
  }
  const page = found.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map((r) => ({ ...viewedCard(r), finishedAt: new Date(r.finished_at).toISOString() })),
    nextCursor: found.length > limit && last ? encode({ at: last.finished_at, k: `${last.title_id}/${last.episode_key}` }) : null,
  };
}

/**
 * Hides a title from the profile's history and Continue Watching: in its shard, and in
 * its account's object (so a live position does not bring it back). False when there was
 * nothing to remove.
 */
export async function removeFromHistory(env: ViewingEnv, accountId: string, profileId: string, titleId: string, requestId: string): Promise<boolean> {
  const db = shardForProfile(env, profileId).db;
  const [history, progress] = await db.batch([
    db.prepare("DELETE FROM watch_history WHERE profile_id = ? AND title_id = ?").bind(profileId, titleId),
    db.prepare("DELETE FROM watch_progress WHERE profile_id = ? AND title_id = ?").bind(profileId, titleId),
  ]);
  let live = 0;
  try {
    live = await streamLeases(env, accountId, requestId).forgetPositions(profileId, titleId);
  } catch (err) {
    log("warn", { event: "dependency_failed", requestId, dependency: "do:ACCOUNT_STREAMS", message: `live positions of ${titleId} not forgotten: ${(err as Error)?.message ?? err}` });
  }
  return history!.meta.changes + progress!.meta.changes + live > 0;
}

/**
 * A deleted profile's viewing goes from its shard and its account's object. The profile
 * row in DB is already gone (nothing can reach these rows any more, and profile ids are
 * never reused), so a failure here is logged, not answered: the rows are orphans, not a leak.
 */
export async function forgetProfileViewing(env: ViewingEnv, accountId: string, profileId: string, requestId: string): Promise<void> {
  const db = shardForProfile(env, profileId).db;
  try {
    await db.batch(["watch_progress", "watch_history", "profile_recent_titles"].map((table) => db.prepare(`DELETE FROM ${table} WHERE profile_id = ?`).bind(profileId)));
    await streamLeases(env, accountId, requestId).forgetPositions(profileId, null);
  } catch (err) {
    log("warn", { event: "dependency_failed", requestId, dependency: "watch shard", message: `deleted profile ${profileId}: its viewing stays as orphan rows: ${(err as Error)?.message ?? err}` });
  }
}
