// `SignInThrottle`: one Durable Object per throttled key (e.g. "pair:<email>|<client>",
// "account:<email>", "ip:<client>", "pin:<profile>", "signup:<client>") that reserves
// attempts atomically before the work they guard.
//
// The protocol is reserve → work → release. `reserve` checks the limit and records the
// attempt in one call (an RPC call into this single-threaded object runs to completion
// before the next), so a burst of parallel attempts can never all pass a check made
// before any of them is counted. An attempt stays counted (as a failure) unless the
// caller releases it: after a success, or when another key refused the same attempt.
import { DurableObject } from "cloudflare:workers";

export type ThrottleLimits = {
  /** Attempts (counted until released) allowed in the window. */
  maxFailures: number;
  windowSec: number;
  /**
   * Progressive delay: once `afterFailures` attempts are counted in the window, each further
   * one must wait `baseSec * 2^(n - afterFailures)` seconds (at most `maxSec`) after the
   * latest, where n is the count. A slow, bounded rate instead of a hard lockout.
   */
  delay?: { afterFailures: number; baseSec: number; maxSec: number };
};

/**
 * Plain results, never exceptions: an error crossing RPC keeps only its message, and
 * being refused is an expected outcome the caller turns into 429 + Retry-After.
 */
export type ThrottleVerdict = { ok: true } | { ok: false; retryAfterSec: number };

/**
 * A granted reservation carries the id to release it by. `attemptId` is null when the
 * client is one this key recognises (see `release`'s `recognise`): nothing was counted.
 */
export type Reservation = { ok: true; attemptId: string | null } | { ok: false; retryAfterSec: number };

/** How long a client that succeeded stays recognised by a key. */
export const RECOGNISED_FOR_MS = 90 * 86_400_000;
/** At most this many recognised clients per key: the oldest is forgotten first. */
const MAX_RECOGNISED = 50;

/** Limits arrive over RPC from our own code; nonsense there is a bug worth throwing on. */
function windowMsOf(limits: ThrottleLimits): number {
  const { maxFailures, windowSec, delay } = limits;
  if (!Number.isInteger(maxFailures) || maxFailures < 1 || maxFailures > 10_000) {
    throw new RangeError("maxFailures must be an integer in 1..10000");
  }
  if (!Number.isInteger(windowSec) || windowSec < 1 || windowSec > 7 * 24 * 3600) {
    throw new RangeError("windowSec must be an integer number of seconds up to a week");
  }
  if (delay) {
    const ints = [delay.afterFailures, delay.baseSec, delay.maxSec];
    if (!ints.every((n) => Number.isInteger(n) && n >= 1) || delay.maxSec < delay.baseSec || delay.maxSec > windowSec) {
      throw new RangeError("delay must be positive integers with baseSec <= maxSec <= windowSec");
    }
  }
  return windowSec * 1000;
}

export class SignInThrottle extends DurableObject<ApiEnv> {
  constructor(ctx: DurableObjectState, env: ApiEnv) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      const sql = ctx.storage.sql;
      sql.exec("CREATE TABLE IF NOT EXISTS attempts (id TEXT PRIMARY KEY, at_ms INTEGER NOT NULL)");
      sql.exec("CREATE INDEX IF NOT EXISTS attempts_at ON attempts (at_ms)");
      // Objects made before reservations kept anonymous failure rows: they carry over as
      // counted attempts (nobody holds their ids, so they are never released).
      const legacy = sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'failures'").one().n;
      if (legacy > 0) {
        sql.exec("INSERT OR IGNORE INTO attempts (id, at_ms) SELECT 'legacy-' || rowid, at_ms FROM failures");
        sql.exec("DROP TABLE failures");
      }
      sql.exec("CREATE TABLE IF NOT EXISTS recognised (client TEXT PRIMARY KEY, last_ms INTEGER NOT NULL)");
      // What the pending alarm may delete: attempts at or before `prune_through_ms`. Kept in
      // storage because the alarm runs without the caller's clock or limits.
      sql.exec("CREATE TABLE IF NOT EXISTS alarm_plan (id INTEGER PRIMARY KEY CHECK (id = 1), prune_through_ms INTEGER NOT NULL)");
    });
  }

  /**
   * Checks the limit and counts one attempt, in one step. A refused attempt is not
   * counted: it never reached the work, so it is not a guess, and not counting it keeps
   * at most `maxFailures` rows per key however hard it is hammered and keeps a block
   * from sliding forward forever.
   *
   * `client`, when given and recognised (it succeeded here lately), bypasses this key:
   * nothing is checked or counted. The account's owner signing in from a device they
   * used before is then never slowed by strangers guessing at the account.
   */
  async reserve(limits: ThrottleLimits, nowMs: number, client?: string): Promise<Reservation> {
    const windowMs = windowMsOf(limits);
    this.prune(nowMs, windowMs);
    if (client !== undefined && this.isRecognised(client, nowMs)) return { ok: true, attemptId: null };
    const verdict = this.verdict(limits, nowMs, windowMs);
    if (!verdict.ok) return verdict;
    const attemptId = crypto.randomUUID();
    this.ctx.storage.sql.exec("INSERT INTO attempts (id, at_ms) VALUES (?, ?)", attemptId, nowMs);
    await this.planAlarm(windowMs);
    return { ok: true, attemptId };
  }

  /**
   * Uncounts one reserved attempt: it succeeded, or another key refused it so it never
   * happened. Idempotent (an unknown or already released id changes nothing).
   * `recognise` remembers a client that succeeded, for `reserve`'s bypass.
   */
  release(attemptId: string | null, recognise?: { client: string; nowMs: number }): void {
    if (attemptId !== null) this.ctx.storage.sql.exec("DELETE FROM attempts WHERE id = ?", attemptId);
    if (recognise) {
      const sql = this.ctx.storage.sql;
      sql.exec(
        "INSERT INTO recognised (client, last_ms) VALUES (?, ?) ON CONFLICT (client) DO UPDATE SET last_ms = MAX(last_ms, excluded.last_ms)",
        recognise.client,
        recognise.nowMs,
      );
      sql.exec("DELETE FROM recognised WHERE client NOT IN (SELECT client FROM recognised ORDER BY last_ms DESC LIMIT ?)", MAX_RECOGNISED);
    }
  }

  /** The verdict a `reserve` would get now, counting nothing (for status pages and tests). */
  peek(limits: ThrottleLimits, nowMs: number): ThrottleVerdict {
    const windowMs = windowMsOf(limits);
    this.prune(nowMs, windowMs);
    return this.verdict(limits, nowMs, windowMs);
  }

  /** Forgets every counted attempt: e.g. the owner proved who they are. Recognised clients stay. */
  async reset(): Promise<void> {
    this.ctx.storage.sql.exec("DELETE FROM attempts");
    this.ctx.storage.sql.exec("DELETE FROM alarm_plan");
    await this.ctx.storage.deleteAlarm();
  }

  /**
   * Deletes what the plan says is stale by now. Idempotent: a rerun deletes nothing
   * more, and an attempt counted after the plan was made is newer than
   * `prune_through_ms`, so it survives (its own alarm replaced this one anyway).
   */
  override async alarm(): Promise<void> {
    const plan = this.ctx.storage.sql.exec<{ prune_through_ms: number }>("SELECT prune_through_ms FROM alarm_plan").toArray()[0];
    if (plan) this.ctx.storage.sql.exec("DELETE FROM attempts WHERE at_ms <= ?", plan.prune_through_ms);
    this.ctx.storage.sql.exec("DELETE FROM alarm_plan");
    this.ctx.storage.sql.exec("DELETE FROM recognised WHERE last_ms <= ?", Date.now() - RECOGNISED_FOR_MS);
  }

  /** The newest attempt leaves the window at its time + windowMs; by then every attempt is stale. */
  private async planAlarm(windowMs: number): Promise<void> {
    const newest = this.ctx.storage.sql.exec<{ at_ms: number }>("SELECT MAX(at_ms) AS at_ms FROM attempts").one().at_ms;
    this.ctx.storage.sql.exec(
      "INSERT INTO alarm_plan (id, prune_through_ms) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET prune_through_ms = excluded.prune_through_ms",
      newest,
    );
    // Setting the alarm again replaces the earlier one, so only the latest plan stands.
    await this.ctx.storage.setAlarm(newest + windowMs);
  }

  private isRecognised(client: string, nowMs: number): boolean {
    const row = this.ctx.storage.sql.exec<{ last_ms: number }>("SELECT last_ms FROM recognised WHERE client = ?", client).toArray()[0];
    return row !== undefined && nowMs - row.last_ms < RECOGNISED_FOR_MS;
  }

  /** Attempts at or before `nowMs - windowMs` are outside the window and count for nothing. */
  private prune(nowMs: number, windowMs: number): void {
    this.ctx.storage.sql.exec("DELETE FROM attempts WHERE at_ms <= ?", nowMs - windowMs);
  }

  private verdict(limits: ThrottleLimits, nowMs: number, windowMs: number): ThrottleVerdict {
    const inWindow = this.ctx.storage.sql
      .exec<{ at_ms: number }>("SELECT at_ms FROM attempts WHERE at_ms > ? ORDER BY at_ms ASC", nowMs - windowMs)
      .toArray();
    const n = inWindow.length;
    if (n >= limits.maxFailures) {
      // Allowed again once the count drops below the limit: when the attempt that many
      // places from the newest leaves the window (the oldest one when n == limit).
      const leaving = inWindow[n - limits.maxFailures]!.at_ms;
      return { ok: false, retryAfterSec: Math.max(1, Math.ceil((leaving + windowMs - nowMs) / 1000)) };
    }
    const delay = limits.delay;
    if (delay && n >= delay.afterFailures) {
      const waitSec = Math.min(delay.baseSec * 2 ** (n - delay.afterFailures), delay.maxSec);
      const allowedAt = inWindow[n - 1]!.at_ms + waitSec * 1000;
      if (nowMs < allowedAt) return { ok: false, retryAfterSec: Math.max(1, Math.ceil((allowedAt - nowMs) / 1000)) };
    }
    return { ok: true };
  }
}
