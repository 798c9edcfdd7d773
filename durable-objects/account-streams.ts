// `AccountStreams`: one Durable Object per account holding its stream leases, so the
// plan's concurrent-stream limit is enforced in one place, whatever location each device
// plays from. A stream holds a lease while its player keeps beating (the heartbeat model).
// It also keeps the playback positions its streams report (playback-positions.ts), so a
// heartbeat costs no D1 write.
import { DurableObject } from "cloudflare:workers";
import type { LivePosition, PositionNote } from "../lib/watch-shards/positions.ts";
import { PlaybackPositions } from "./playback-positions.ts";

/** How long a lease lives without a heartbeat; players beat every HEARTBEAT_INTERVAL_SEC. */
export const LEASE_TTL_MS = 90_000;
/**
 * The first lease of a stream started on the viewer's intent (a hover, focus or touch of
 * Play, before the press): short, so a Play never pressed holds a screen for seconds, not
 * for a lease's life. The press confirms it (a heartbeat, or Play again with the same id).
 */
export const PREPARED_LEASE_TTL_MS = 20_000;
/** How long an ended stream is remembered, so its next heartbeat learns why it ended. */
export const ENDED_RETENTION_MS = 60 * 60_000;
/**
 * The longest a stream lives, however faithfully it beats: then Play must be pressed
 * again, which checks everything anew (the plan, the title, the profile). A lease that
 * heartbeats could otherwise outlive every change for ever.
 */
export const LEASE_MAX_LIFETIME_MS = 12 * 3600_000;

/**
 * The account's plan as this object enforces it. Pushed by the api whenever the
 * subscription changes in D1 (the webhook, a checkout) and handed over at every Play, so
 * a heartbeat checks it here instead of reading D1. `version` orders them: the
 * subscription row's updatedAt, so a late push never undoes a newer one.
 */
export type PlanState = { planId: string | null; playing: boolean; maxStreams: number; maxHeight: number; version: number };

/** What the api knows about a stream when it asks for a lease (shown to the account's other devices). */
export type LeaseRequest = {
  /** The playback session's id: acquiring twice with one id grants one lease. */
  id: string;
  /** The sign-in session (device) that started it: only that device may beat it. */
  deviceSessionId: string;
  deviceName: string;
  profileId: string;
  profileName: string;
  titleId: string;
  episodeId: string | null;
  /** "First Light", or "Second Wind: S1 E2 Relapse". */
  titleName: string;
  /** What the stream's playback tokens are for: heartbeats mint the next one from the lease alone. */
  assetId: string;
  maxHeight: number;
  /** Started on intent: the lease lives PREPARED_LEASE_TTL_MS until confirmed. */
  prepared?: boolean;
};

/** A live lease as the api sees it: what was asked for, when it started, until when it holds. */
export type ActiveStream = LeaseRequest & {
  startedAt: number;
  expiresAt: number;
  /** Where the player was at its last heartbeat. */
  positionSec: number;
};

/**
 * Why a stream ended: stopped on its device; ended from another; no heartbeat; the plan
 * stopped allowing playback; a downgrade left fewer screens than streams (the newest
 * went); the lease reached LEASE_MAX_LIFETIME_MS.
 */
export type EndReason = "released" | "ended_by_other_device" | "expired" | "plan_ended" | "plan_limit" | "max_lifetime";

/** Who ends a stream: their device, their profile, and whether that profile is a kids profile. */
export type Ender = { deviceSessionId: string; profileId: string | null; isKids: boolean };

/**
 * Plain results, never exceptions: an error crossing RPC keeps only its message, and a
 * refusal is an expected outcome the api turns into a 409.
 */
export type AcquireResult =
  | { ok: true; lease: ActiveStream; granted: "new" | "existing" }
  | { ok: false; code: "TOO_MANY_STREAMS"; limit: number; streams: ActiveStream[] }
  | { ok: false; code: "ENDED"; reason: EndReason }
  | { ok: false; code: "ID_IN_USE" }
  /** The plan this object knows (newer than the one Play read) does not allow playing. */
  | { ok: false; code: "NO_PLAN" }
  /** endStreamId names another profile's stream, and a kids profile may end only its own. */
  | { ok: false; code: "OTHER_PROFILE" };

export type HeartbeatResult =
  | { ok: true; lease: ActiveStream }
  | { ok: false; code: "ENDED"; reason: EndReason | "unknown" }
  | { ok: false; code: "OTHER_DEVICE" };

export type ReleaseResult =
  | { ok: true; ended: ActiveStream; reason: "released" | "ended_by_other_device" }
  | { ok: false; code: "NOT_FOUND" | "OTHER_PROFILE" };

type LeaseRow = {
  id: string;
  device_session_id: string;
  device_name: string;
  profile_id: string;
  profile_name: string;
  title_id: string;
  episode_id: string | null;
  title_name: string;
  asset_id: string;
  max_height: number;
  started_at_ms: number;
  expires_at_ms: number;
  position_sec: number;
};

const toStream = (r: LeaseRow): ActiveStream => ({
  id: r.id,
  deviceName: r.device_name,
  profileId: r.profile_id,
  profileName: r.profile_name,
  titleId: r.title_id,
  episodeId: r.episode_id,
  titleName: r.title_name,
  assetId: r.asset_id,
  maxHeight: r.max_height,
  startedAt: r.started_at_ms,
  expiresAt: r.expires_at_ms,
  positionSec: r.position_sec,
  deviceSessionId: r.device_session_id,
});

/** Plans arrive over RPC from our own code; nonsense there is a bug. */
function checkPlan(plan: PlanState): void {
  if (!Number.isInteger(plan.maxStreams) || plan.maxStreams < 1 || plan.maxStreams > 100) throw new RangeError("maxStreams must be an integer in 1..100");
  if (!Number.isInteger(plan.maxHeight) || plan.maxHeight < 1 || plan.maxHeight > 4320) throw new RangeError("maxHeight must be an integer in 1..4320");
  if (!Number.isSafeInteger(plan.version) || plan.version < 0) throw new RangeError("version must be a non-negative integer");
}

/** An adult profile (or a device in no profile) may end any stream of the account; a kids profile only its own profile's. */
function mayEnd(ender: Ender, lease: LeaseRow): boolean {
  return !ender.isKids || lease.profile_id === ender.profileId;
}

export class AccountStreams extends DurableObject<ApiEnv> {
  #positions: PlaybackPositions | undefined;

  constructor(ctx: DurableObjectState, env: ApiEnv) {
    super(ctx, env);
    // SQLite storage: leases survive eviction, restarts and deploys.
    void ctx.blockConcurrencyWhile(async () => {
      ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS leases (
        id TEXT PRIMARY KEY,
        device_session_id TEXT NOT NULL,
        device_name TEXT NOT NULL,
        profile_id TEXT NOT NULL,
        profile_name TEXT NOT NULL,
        title_id TEXT NOT NULL,
        episode_id TEXT,
        title_name TEXT NOT NULL,
        asset_id TEXT NOT NULL,
        max_height INTEGER NOT NULL,
        started_at_ms INTEGER NOT NULL,
        expires_at_ms INTEGER NOT NULL,
        position_sec REAL NOT NULL DEFAULT 0
      )`);
      ctx.storage.sql.exec("CREATE INDEX IF NOT EXISTS leases_expiry ON leases (expires_at_ms)");
      ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS ended (id TEXT PRIMARY KEY, reason TEXT NOT NULL, ended_at_ms INTEGER NOT NULL)");
      ctx.storage.sql.exec("CREATE INDEX IF NOT EXISTS ended_at ON ended (ended_at_ms)");
      ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS plan (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        plan_id TEXT,
        playing INTEGER NOT NULL,
        max_streams INTEGER NOT NULL,
        max_height INTEGER NOT NULL,
        version INTEGER NOT NULL
      )`);
    });
  }

  /** Made on first use (its table with it): an account that never plays never has one. */
  get #store(): PlaybackPositions {
    return (this.#positions ??= new PlaybackPositions(this.ctx.storage.sql, this.env as unknown as ConstructorParameters<typeof PlaybackPositions>[1]));
  }

  /**
   * Positions reported by the account's players (heartbeat events, and the positions of
   * the events the api queued): kept here, written to the watch shards when due. Returns
   * how many were kept.
   */
  async notePositions(notes: PositionNote[], nowMs: number): Promise<number> {
    const kept = this.#store.note(notes, nowMs);
    await this.scheduleAlarm();
    return kept;
  }

  /** A profile's latest position per title held here (Continue Watching merges the ones later than its shard's). */
  livePositions(profileId: string): (LivePosition & { finished: boolean })[] {
    return this.#store.live(profileId);
  }

  /** Nothing of this profile's title (every title, with null) is written or merged from here any more. Returns the rows deleted (0: none). */
  forgetPositions(profileId: string, titleId: string | null): number {
    return this.#store.forget(profileId, titleId);
  }

  /**
   * Grants a lease unless the account already has as many live ones as its plan allows.
   * `plan` is what Play read from D1; a newer one pushed here wins. Everything from the
   * expiry sweep to the insert runs without an await, so concurrent acquires (each an RPC
   * call into this single-threaded object) can never both see a free screen.
   * `endStreamId` ends that stream first, atomically ("stop watching there, watch here"),
   * if `ender` may end it: an adult profile any stream, a kids profile only its own.
   */
  async acquire(request: LeaseRequest, plan: PlanState, nowMs: number, endStreamId: string | undefined, ender: Ender): Promise<AcquireResult> {
    checkPlan(plan);
    const result = this.acquireNow(request, plan, nowMs, endStreamId, ender);
    if (result.ok && result.granted === "new") await this.scheduleAlarm();
    return result;
  }

  private acquireNow(request: LeaseRequest, given: PlanState, nowMs: number, endStreamId: string | undefined, ender: Ender): AcquireResult {
    this.storePlan(given, nowMs);
    this.expire(nowMs);
    const existing = this.lease(request.id);
    // A retry of a call that already succeeded (the response was lost): the same lease,
    // but only for the device that asked for it.
    if (existing) {
      if (existing.device_session_id !== request.deviceSessionId) return { ok: false, code: "ID_IN_USE" };
      // Play pressed for a stream prepared on intent: from now on it holds a full lease.
      const confirmed = request.prepared ? existing.expires_at_ms : Math.max(existing.expires_at_ms, Math.min(nowMs + LEASE_TTL_MS, existing.started_at_ms + LEASE_MAX_LIFETIME_MS));
      if (confirmed !== existing.expires_at_ms) this.ctx.storage.sql.exec("UPDATE leases SET expires_at_ms = ? WHERE id = ?", confirmed, existing.id);
      return { ok: true, lease: toStream({ ...existing, expires_at_ms: confirmed }), granted: "existing" };
    }
    const ended = this.endedReason(request.id);
    if (ended) return { ok: false, code: "ENDED", reason: ended };
    const plan = this.plan()!;
    if (!plan.playing) return { ok: false, code: "NO_PLAN" };
    if (endStreamId !== undefined && endStreamId !== request.id) {
      const target = this.lease(endStreamId);
      if (target && !mayEnd(ender, target)) return { ok: false, code: "OTHER_PROFILE" };
      this.end(endStreamId, "ended_by_other_device", nowMs);
    }
    const live = this.live();
    if (live.length >= plan.maxStreams) return { ok: false, code: "TOO_MANY_STREAMS", limit: plan.maxStreams, streams: live.map(toStream) };
    const row: LeaseRow = {
      id: request.id,
      device_session_id: request.deviceSessionId,
      device_name: request.deviceName,
      profile_id: request.profileId,
      profile_name: request.profileName,
      title_id: request.titleId,
      episode_id: request.episodeId,
      title_name: request.titleName,
      asset_id: request.assetId,
      max_height: Math.min(request.maxHeight, plan.maxHeight),
      started_at_ms: nowMs,
      expires_at_ms: nowMs + (request.prepared ? PREPARED_LEASE_TTL_MS : LEASE_TTL_MS),
      position_sec: 0,
    };
    this.ctx.storage.sql.exec(
      `INSERT INTO leases (${Object.keys(row).join(", ")}) VALUES (${Object.keys(row).map(() => "?").join(", ")})`,
      ...Object.values(row),
    );
    return { ok: true, lease: toStream(row), granted: "new" };
  }

  /**
   * The account's subscription changed: from now on leases are held to it. A plan that no
   * longer plays ends every stream; a downgrade lowers every lease's height cap (the next
   * token carries it) and, with fewer screens than streams, ends the newest ones — the
   * stream that started last is the one least into its viewing. An older version than
   * the one held changes nothing. Each ended stream's next heartbeat is told why.
   */
  async setPlan(plan: PlanState, nowMs: number): Promise<{ applied: boolean; ended: number }> {
    checkPlan(plan);
    const before = this.live().length;
    const applied = this.storePlan(plan, nowMs);
    const ended = before - this.live().length;
    await this.scheduleAlarm();
    return { applied, ended };
  }

  /** A live lease of this device, unchanged (a watch party checks the member has one), or null. */
  stream(id: string, deviceSessionId: string, nowMs: number): ActiveStream | null {
    this.expire(nowMs);
    const row = this.lease(id);
    return row && row.device_session_id === deviceSessionId ? toStream(row) : null;
  }

  /** Extends a live lease and records the position. An ended or expired stream is told why, so its player stops. */
  heartbeat(id: string, deviceSessionId: string, positionSec: number, nowMs: number): HeartbeatResult {
    this.expire(nowMs);
    const row = this.lease(id);
    if (!row) return { ok: false, code: "ENDED", reason: this.endedReason(id) ?? "unknown" };
    if (row.device_session_id !== deviceSessionId) return { ok: false, code: "OTHER_DEVICE" };
    const position = Number.isFinite(positionSec) && positionSec >= 0 ? positionSec : row.position_sec;
    // Never past the lease's lifetime: at the end of it, `expire` ends it as max_lifetime.
    const expiresAt = Math.min(nowMs + LEASE_TTL_MS, row.started_at_ms + LEASE_MAX_LIFETIME_MS);
    this.ctx.storage.sql.exec("UPDATE leases SET expires_at_ms = ?, position_sec = ? WHERE id = ?", expiresAt, position, id);
    // The pending alarm is at the earliest expiry, which an extension never moves earlier.
    return { ok: true, lease: toStream({ ...row, expires_at_ms: expiresAt, position_sec: position }) };
  }

  /**
   * Ends a stream at once: its own device stopped, or another device of the account ended
   * it — which an adult profile may do to any stream, a kids profile only to its own
   * profile's. The check and the end are one step. Its next heartbeat is told why.
   */
  async release(id: string, ender: Ender, nowMs: number): Promise<ReleaseResult> {
    this.expire(nowMs);
    const row = this.lease(id);
    if (!row) return { ok: false, code: "NOT_FOUND" };
    const reason = row.device_session_id === ender.deviceSessionId ? "released" : "ended_by_other_device";
    if (reason === "ended_by_other_device" && !mayEnd(ender, row)) return { ok: false, code: "OTHER_PROFILE" };
    this.end(id, reason, nowMs);
    await this.scheduleAlarm();
    return { ok: true, ended: toStream(row), reason };
  }

  /** The plan this object holds, if it was ever given one. */
  currentPlan(): PlanState | null {
    return this.plan();
  }

  /** The account's live streams, oldest first. */
  list(nowMs: number): ActiveStream[] {
    this.expire(nowMs);
    return this.live().map(toStream);
  }

  /**
   * Sweeps expired leases and forgets old tombstones, then sets the alarm for the next
   * thing to do. Idempotent: a rerun, or an alarm that fires early or twice, deletes
   * only what is stale by then and schedules the same next time.
   */
  override async alarm(): Promise<void> {
    const now = Date.now();
    this.expire(now);
    await this.#store.writeDue(now);
    this.#store.prune(now);
    await this.scheduleAlarm();
  }

  private lease(id: string): LeaseRow | undefined {
    return this.ctx.storage.sql.exec<LeaseRow>("SELECT * FROM leases WHERE id = ?", id).toArray()[0];
  }

  private live(): LeaseRow[] {
    return this.ctx.storage.sql.exec<LeaseRow>("SELECT * FROM leases ORDER BY started_at_ms, id").toArray();
  }

  private endedReason(id: string): EndReason | undefined {
    return this.ctx.storage.sql.exec<{ reason: EndReason }>("SELECT reason FROM ended WHERE id = ?", id).toArray()[0]?.reason;
  }

  private end(id: string, reason: EndReason, nowMs: number): LeaseRow | undefined {
    const row = this.lease(id);
    if (!row) return undefined;
    this.ctx.storage.sql.exec("DELETE FROM leases WHERE id = ?", id);
    this.ctx.storage.sql.exec("INSERT OR REPLACE INTO ended (id, reason, ended_at_ms) VALUES (?, ?, ?)", id, reason, nowMs);
    return row;
  }

  private plan(): PlanState | null {
    const row = this.ctx.storage.sql
      .exec<{ plan_id: string | null; playing: number; max_streams: number; max_height: number; version: number }>("SELECT * FROM plan WHERE id = 1")
      .toArray()[0];
    return row ? { planId: row.plan_id, playing: row.playing === 1, maxStreams: row.max_streams, maxHeight: row.max_height, version: row.version } : null;
  }

  /** Keeps `plan` if it is at least as new as the one held, and holds the live leases to it. True if kept. */
  private storePlan(plan: PlanState, nowMs: number): boolean {
    const held = this.plan();
    if (held && held.version > plan.version) return false;
    this.ctx.storage.sql.exec(
      "INSERT OR REPLACE INTO plan (id, plan_id, playing, max_streams, max_height, version) VALUES (1, ?, ?, ?, ?, ?)",
      plan.planId,
      plan.playing ? 1 : 0,
      plan.maxStreams,
      plan.maxHeight,
      plan.version,
    );
    this.expire(nowMs);
    if (!plan.playing) {
      for (const lease of this.live()) this.end(lease.id, "plan_ended", nowMs);
      return true;
    }
    this.ctx.storage.sql.exec("UPDATE leases SET max_height = ? WHERE max_height > ?", plan.maxHeight, plan.maxHeight);
    for (const lease of this.live().slice(plan.maxStreams)) this.end(lease.id, "plan_limit", nowMs);
    return true;
  }

  /** Leases past their expiry or their lifetime become tombstones; tombstones past retention go. */
  private expire(nowMs: number): void {
    const sql = this.ctx.storage.sql;
    sql.exec(
      "INSERT OR REPLACE INTO ended (id, reason, ended_at_ms) SELECT id, 'max_lifetime', started_at_ms + ? FROM leases WHERE started_at_ms + ? <= ?",
      LEASE_MAX_LIFETIME_MS,
      LEASE_MAX_LIFETIME_MS,
      nowMs,
    );
    sql.exec("DELETE FROM leases WHERE started_at_ms + ? <= ?", LEASE_MAX_LIFETIME_MS, nowMs);
    sql.exec("INSERT OR REPLACE INTO ended (id, reason, ended_at_ms) SELECT id, 'expired', expires_at_ms FROM leases WHERE expires_at_ms <= ?", nowMs);
    sql.exec("DELETE FROM leases WHERE expires_at_ms <= ?", nowMs);
    sql.exec("DELETE FROM ended WHERE ended_at_ms <= ?", nowMs - ENDED_RETENTION_MS);
  }

  /** One alarm, at the earliest lease expiry, tombstone retention end or position write; none when there is nothing left. */
  private async scheduleAlarm(): Promise<void> {
    const leases = this.ctx.storage.sql
      .exec<{ at: number | null }>(
        `SELECT MIN(at) AS at FROM (
           SELECT MIN(expires_at_ms) AS at FROM leases
           UNION ALL SELECT MIN(ended_at_ms) + ${ENDED_RETENTION_MS} FROM ended)`,
      )
      .one().at;
    const positions = this.#store.nextDue();
    const next = leases === null ? positions : positions === null ? leases : Math.min(leases, positions);
    if (next === null) await this.ctx.storage.deleteAlarm();
    else if ((await this.ctx.storage.getAlarm()) !== next) await this.ctx.storage.setAlarm(next);
  }
}
