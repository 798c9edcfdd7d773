// `SignInThrottle`: one Durable Object per throttled key (e.g. "account:<email>", "ip:<address>") counting recent failed attempts.
import { DurableObject } from "cloudflare:workers";

export type ThrottleLimits = { maxFailures: number; windowSec: number };

/**
 * Plain results, never exceptions: an error crossing RPC keeps only its message, and
 * being blocked is an expected outcome the caller turns into 429 + Retry-After.
 */
export type ThrottleVerdict = { ok: true } | { ok: false; retryAfterSec: number };

/** Limits arrive over RPC from our own code; nonsense there is a bug worth throwing on. */
function windowMsOf(limits: ThrottleLimits): number {
  const { maxFailures, windowSec } = limits;
  if (!Number.isInteger(maxFailures) || maxFailures < 1 || maxFailures > 10_000) {
    throw new RangeError("maxFailures must be an integer in 1..10000");
  }
  if (!Number.isInteger(windowSec) || windowSec < 1 || windowSec > 7 * 24 * 3600) {
    throw new RangeError("windowSec must be an integer number of seconds up to a week");
  }
  return windowSec * 1000;
}

export class SignInThrottle extends DurableObject<ApiEnv> {
  constructor(ctx: DurableObjectState, env: ApiEnv) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS failures (at_ms INTEGER NOT NULL)");
      ctx.storage.sql.exec("CREATE INDEX IF NOT EXISTS failures_at ON failures (at_ms)");
      // What the pending alarm may delete: rows at or before `prune_through_ms`. Kept in
      // storage because the alarm runs without the caller's clock or limits.
      ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS alarm_plan (id INTEGER PRIMARY KEY CHECK (id = 1), prune_through_ms INTEGER NOT NULL)");
    });
  }

  check(limits: ThrottleLimits, nowMs: number): ThrottleVerdict {
    const windowMs = windowMsOf(limits);
    this.prune(nowMs, windowMs);
    return this.verdict(limits.maxFailures, nowMs, windowMs);
  }

  /**
   * Records a failure unless the key is already blocked. A refused attempt never reached
   * the password check, so it is not a guess; not counting it keeps at most
   * `maxFailures` rows per key however hard it is hammered, and keeps the lockout from
   * sliding forward forever when an attacker keeps trying someone else's account.
   */
  async recordFailure(limits: ThrottleLimits, nowMs: number): Promise<ThrottleVerdict> {
    const windowMs = windowMsOf(limits);
    this.prune(nowMs, windowMs);
    const before = this.verdict(limits.maxFailures, nowMs, windowMs);
    if (!before.ok) return before;
    this.ctx.storage.sql.exec("INSERT INTO failures (at_ms) VALUES (?)", nowMs);
    const after = this.verdict(limits.maxFailures, nowMs, windowMs);
    // The newest row leaves the window at nowMs + windowMs; by then every row is stale.
    // Setting the alarm again replaces the earlier one, so only the latest plan stands.
    const newest = this.ctx.storage.sql.exec<{ at_ms: number }>("SELECT MAX(at_ms) AS at_ms FROM failures").one().at_ms;
    this.ctx.storage.sql.exec(
      "INSERT INTO alarm_plan (id, prune_through_ms) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET prune_through_ms = excluded.prune_through_ms",
      newest,
    );
    await this.ctx.storage.setAlarm(newest + windowMs);
    return after;
  }

  /** After a successful sign-in: the failures before it were the owner mistyping. */
  async reset(): Promise<void> {
    this.ctx.storage.sql.exec("DELETE FROM failures");
    this.ctx.storage.sql.exec("DELETE FROM alarm_plan");
    await this.ctx.storage.deleteAlarm();
  }

  /**
   * Deletes what the plan says is stale by now. Idempotent: a rerun deletes nothing
   * more, and a failure recorded after the plan was made is newer than
   * `prune_through_ms`, so it survives (its own alarm replaced this one anyway).
   */
  override async alarm(): Promise<void> {
    const plan = this.ctx.storage.sql.exec<{ prune_through_ms: number }>("SELECT prune_through_ms FROM alarm_plan").toArray()[0];
    if (plan) this.ctx.storage.sql.exec("DELETE FROM failures WHERE at_ms <= ?", plan.prune_through_ms);
    this.ctx.storage.sql.exec("DELETE FROM alarm_plan");
  }

  /** Rows at or before `nowMs - windowMs` are outside the window and count for nothing. */
  private prune(nowMs: number, windowMs: number): void {
    this.ctx.storage.sql.exec("DELETE FROM failures WHERE at_ms <= ?", nowMs - windowMs);
  }

  private verdict(maxFailures: number, nowMs: number, windowMs: number): ThrottleVerdict {
    const inWindow = this.ctx.storage.sql
      .exec<{ at_ms: number }>("SELECT at_ms FROM failures WHERE at_ms > ? ORDER BY at_ms ASC", nowMs - windowMs)
      .toArray();
    if (inWindow.length < maxFailures) return { ok: true };
    // Allowed again once the count drops below the limit: when the failure that many
    // places from the newest leaves the window (the oldest one when count == limit).
    const leaving = inWindow[inWindow.length - maxFailures]!.at_ms;
    const retryAfterSec = Math.max(1, Math.ceil((leaving + windowMs - nowMs) / 1000));
    return { ok: false, retryAfterSec };
  }
}
