// Playback positions of one account's streams, kept by its AccountStreams object: every
// heartbeat's position lands here (SQLite in the object, no D1 write), and goes to the
// profile's watch shard as progress only when it matters — when the stream has gone quiet
// (no report for POSITION_IDLE_MS: the player stopped without saying so), and otherwise
// every POSITION_FLUSH_MS while it plays; never more than once a MIN_WRITE_SPACING_MS a
// stream. Starts, pauses, seeks, stops and completions reach the shard through the Queue
// (they are noted here as `queued`, so nothing is written for them twice). A position past
// the finish line goes through the Queue too, as a heartbeat event: the consumer then
// records the history and moves a series on to its next episode.
import { guardEnv } from "../lib/bindings/guard.ts";
import { apiBindingPlan } from "../lib/bindings/api-bindings.ts";
import { log } from "../lib/log.ts";
import type { WatchEventMessage } from "../lib/watch-events.ts";
import { isFinished, progressUpsert, type LivePosition, type PositionNote } from "../lib/watch-shards/positions.ts";
import { groupByShard, type ShardEnv } from "../lib/watch-shards/shards.ts";

/** While a stream plays, its position reaches D1 this often. */
export const POSITION_FLUSH_MS = 5 * 60_000;
/** A stream with no report for this long has stopped (as a lease without heartbeats expires): its position is written. */
export const POSITION_IDLE_MS = 90_000;
/** The bound: at most one write a minute a stream, however its reports arrive. */
export const MIN_WRITE_SPACING_MS = 60_000;
/** After a failed write, the next try. */
export const WRITE_RETRY_MS = 30_000;
/** A written position is forgotten this long after its last report. */
export const POSITION_RETENTION_MS = 60 * 60_000;
/** Streams an account may have positions for at once; reports for more are dropped (a player cannot have that many). */
export const MAX_POSITIONS = 200;

type PositionRow = {
  stream_id: string;
  account_id: string;
  profile_id: string;
  title_id: string;
  episode_id: string | null;
  position_sec: number;
  duration_sec: number;
  client_at: number;
  country: string;
  finished: number;
  written_client_at: number;
  dirty_since_ms: number | null;
  noted_ms: number;
  last_write_ms: number;
  retry_at_ms: number;
};

type Env = ShardEnv & Record<string, unknown>;

export class PlaybackPositions {
  readonly #sql: SqlStorage;
  readonly #env: Env;

  constructor(sql: SqlStorage, env: Env) {
    this.#sql = sql;
    this.#env = env;
    sql.exec(`CREATE TABLE IF NOT EXISTS positions (
      stream_id TEXT PRIMARY KEY,
      account_id TEXT NOT NULL,
      profile_id TEXT NOT NULL,
      title_id TEXT NOT NULL,
      episode_id TEXT,
      position_sec REAL NOT NULL,
      duration_sec REAL NOT NULL,
      client_at INTEGER NOT NULL,
      country TEXT NOT NULL,
      finished INTEGER NOT NULL,
      written_client_at INTEGER NOT NULL,
      dirty_since_ms INTEGER,
      noted_ms INTEGER NOT NULL,
      last_write_ms INTEGER NOT NULL,
      retry_at_ms INTEGER NOT NULL
    )`);
    sql.exec("CREATE INDEX IF NOT EXISTS positions_profile ON positions (profile_id, client_at)");
  }

  /**
   * Takes reports in: a later client time replaces the stream's position; a queued one
   * counts as written (the Queue carries it). Returns how many were kept.
   */
  note(notes: PositionNote[], nowMs: number): number {
    let kept = 0;
    for (const n of notes) {
      const row = this.#row(n.streamId);
      const finished = n.complete === true || isFinished(n) ? 1 : 0;
      if (!row) {
        if (this.#count() >= MAX_POSITIONS) continue;
        const written = n.queued ? n.clientAt : 0;
        this.#sql.exec(
          `INSERT INTO positions (stream_id, account_id, profile_id, title_id, episode_id, position_sec, duration_sec, client_at, country, finished,
             written_client_at, dirty_since_ms, noted_ms, last_write_ms, retry_at_ms)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0)`,
          n.streamId, n.accountId, n.profileId, n.titleId, n.episodeId, n.positionSec, n.durationSec, n.clientAt, n.country, finished,
          written, n.queued ? null : nowMs, nowMs,
        );
        kept++;
        continue;
      }
      // A stream id is signed for one profile and title: a report naming others is not this stream's.
      if (row.profile_id !== n.profileId || row.title_id !== n.titleId) continue;
      // A report at the same client time as the held one replaces it: within one batch
      // the api notes events in the order the player sent them (the consumer breaks such
      // ties by event id, which players make increasing).
      const later = n.clientAt >= row.client_at;
      const written = Math.max(row.written_client_at, n.queued ? n.clientAt : 0);
      const clientAt = later ? n.clientAt : row.client_at;
      const dirtySince = clientAt > written ? (row.dirty_since_ms ?? nowMs) : null;
      if (later) {
        this.#sql.exec(
          `UPDATE positions SET episode_id = ?, position_sec = ?, duration_sec = ?, client_at = ?, country = ?, finished = ?,
             written_client_at = ?, dirty_since_ms = ?, noted_ms = ? WHERE stream_id = ?`,
          n.episodeId, n.positionSec, n.durationSec, n.clientAt, n.country, finished, written, dirtySince, nowMs, n.streamId,
        );
      } else {
        this.#sql.exec("UPDATE positions SET written_client_at = ?, dirty_since_ms = ?, noted_ms = ? WHERE stream_id = ?", written, dirtySince, nowMs, n.streamId);
      }
      kept++;
    }
    return kept;
  }

  /**
   * The profile's latest position per title that this object holds (reported within the
   * retention), finished or not: the reader keeps the ones later than its shard's row.
   */
  live(profileId: string): (LivePosition & { finished: boolean })[] {
    const rows = this.#sql
      .exec<PositionRow>("SELECT * FROM positions WHERE profile_id = ? ORDER BY client_at DESC", profileId)
      .toArray();
    const byTitle = new Map<string, LivePosition & { finished: boolean }>();
    for (const r of rows) {
      if (byTitle.has(r.title_id)) continue;
      byTitle.set(r.title_id, { titleId: r.title_id, episodeId: r.episode_id, positionSec: r.position_sec, durationSec: r.duration_sec, clientAt: r.client_at, finished: r.finished === 1 });
    }
    return [...byTitle.values()];
  }

  /** The profile removed a title from its viewing (or every title, with null): nothing of it is written or merged any more. Returns the rows it deleted (0: there was nothing to forget). */
  forget(profileId: string, titleId: string | null): number {
    const cursor =
      titleId === null
        ? this.#sql.exec("DELETE FROM positions WHERE profile_id = ?", profileId)
        : this.#sql.exec("DELETE FROM positions WHERE profile_id = ? AND title_id = ?", profileId, titleId);
    return cursor.rowsWritten;
  }

  /**
   * Writes every position that is due to its profile's shard: unfinished ones in one
   * statement per shard, finished ones as heartbeat events on the shard's Queue. Returns
   * the number written; a shard that fails is tried again after WRITE_RETRY_MS.
   */
  async writeDue(nowMs: number): Promise<number> {
    const due = this.#sql
      .exec<PositionRow>(
        `SELECT * FROM positions
         WHERE dirty_since_ms IS NOT NULL AND client_at > written_client_at AND retry_at_ms <= ?1 AND last_write_ms + ${MIN_WRITE_SPACING_MS} <= ?1
           AND (dirty_since_ms + ${POSITION_FLUSH_MS} <= ?1 OR noted_ms + ${POSITION_IDLE_MS} <= ?1)`,
        nowMs,
      )
      .toArray();
    if (due.length === 0) return 0;
    const env = guardEnv(this.#env, apiBindingPlan(this.#env));
    let written = 0;
    await Promise.all(
      groupByShard(env, due, (r) => r.profile_id).map(async ({ shard, items }) => {
        const unfinished = items.filter((r) => r.finished === 0);
        const finished = items.filter((r) => r.finished === 1);
        try {
          if (unfinished.length > 0) {
            await progressUpsert(
              shard.db,
              unfinished.map((r) => ({ profileId: r.profile_id, titleId: r.title_id, episodeId: r.episode_id, positionSec: r.position_sec, durationSec: r.duration_sec, clientAt: r.client_at })),
              nowMs,
            ).run();
          }
          if (finished.length > 0) await shard.queue.sendBatch(finished.map((r) => ({ body: heartbeatMessage(r, nowMs), contentType: "json" as const })));
          for (const r of items) {
            // Reports may have come in while the write was on its way: only what was written is clean.
            this.#sql.exec(
              `UPDATE positions SET written_client_at = MAX(written_client_at, ?1), last_write_ms = ?2,
                 dirty_since_ms = CASE WHEN client_at > MAX(written_client_at, ?1) THEN ?2 ELSE NULL END WHERE stream_id = ?3`,
              r.client_at, nowMs, r.stream_id,
            );
          }
          written += items.length;
        } catch (err) {
          log("warn", { event: "dependency_failed", requestId: "", dependency: `watch shard ${shard.index}`, message: `writing ${items.length} positions: ${(err as Error)?.message ?? err}` });
          for (const r of items) this.#sql.exec("UPDATE positions SET retry_at_ms = ? WHERE stream_id = ?", nowMs + WRITE_RETRY_MS, r.stream_id);
        }
      }),
    );
    return written;
  }

  /** Forgets written positions past their retention. */
  prune(nowMs: number): void {
    this.#sql.exec("DELETE FROM positions WHERE dirty_since_ms IS NULL AND noted_ms <= ?", nowMs - POSITION_RETENTION_MS);
  }

  /** When this store next has something to do (a write or a prune), or null. */
  nextDue(): number | null {
    return this.#sql
      .exec<{ at: number | null }>(
        `SELECT MIN(at) AS at FROM (
           SELECT MAX(MIN(dirty_since_ms + ${POSITION_FLUSH_MS}, noted_ms + ${POSITION_IDLE_MS}), last_write_ms + ${MIN_WRITE_SPACING_MS}, retry_at_ms) AS at
             FROM positions WHERE dirty_since_ms IS NOT NULL
           UNION ALL SELECT noted_ms + ${POSITION_RETENTION_MS} FROM positions WHERE dirty_since_ms IS NULL)`,
      )
      .one().at;
  }

  #row(streamId: string): PositionRow | undefined {
    return this.#sql.exec<PositionRow>("SELECT * FROM positions WHERE stream_id = ?", streamId).toArray()[0];
  }

  #count(): number {
    return this.#sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM positions").one().n;
  }
}

/** A finished position as the heartbeat event the consumer applies (its id fixed by the stream and the client time, so a resend counts once). */
function heartbeatMessage(r: PositionRow, nowMs: number): WatchEventMessage {
  return {
    v: 1,
    accountId: r.account_id,
    country: r.country,
    receivedAt: nowMs,
    event: {
      id: `pos_${r.client_at.toString(36)}_${r.stream_id.slice(-40)}`.slice(0, 64),
      type: "heartbeat",
      playbackSessionId: r.stream_id,
      profileId: r.profile_id,
      titleId: r.title_id,
      episodeId: r.episode_id,
      positionSec: r.position_sec,
      durationSec: r.duration_sec,
      clientTime: r.client_at,
    },
  };
}
