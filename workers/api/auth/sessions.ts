// Sessions in D1: created at sign-in, checked on every authenticated request in one
// query (on a nearby read replica, then the primary if the replica has not got it yet),
// ended by sign-out, by "sign out everywhere", or by their timeouts.
import { and, eq, sql } from "drizzle-orm";
import { profiles, sessions, subscriptions } from "../../../d1/schema.ts";
import { isDependencyError, retryOnce } from "../../../lib/bindings/guard.ts";
import { readOrPrimary } from "../d1-sessions/member-db.ts";
import { drizzleOf, type D1Queryable } from "../d1-sessions/queryable.ts";
import type { Auth } from "./auth-context.ts";
import { isSessionToken, newSessionToken, sessionIdFor } from "./session-tokens.ts";

type Kind = "web" | "device";

/** Idle: unused this long, a session ends. Absolute: it ends this long after sign-in, used or not. */
export const SESSION_TIMEOUTS: Record<Kind, { idleMs: number; absoluteMs: number }> = {
  web: { idleMs: 14 * 86_400_000, absoluteMs: 90 * 86_400_000 },
  device: { idleMs: 60 * 86_400_000, absoluteMs: 365 * 86_400_000 },
};

/** `lastSeenAt` is written at most this often: most requests then cost one read, no write. */
const TOUCH_EVERY_MS = 3_600_000;

export type SessionCheck = {
  sessionId: string;
  accountId: string;
  kind: Kind;
  deviceName: string;
  profileId: string | null;
  /** Every profile of the account, from the same query (for checks like "is this profile the caller's"). */
  accountProfileIds: string[];
  /** The account's profiles that have a PIN. */
  lockedProfileIds: string[];
  isKidsProfile: boolean;
  /** The entered profile's maturity level; null when no profile is entered. */
  maturityLevel: number | null;
  planId: string | null;
  subscriptionStatus: string | null;
  expiresAt: Date;
  /** A write the caller should let finish after the response (`waitUntil`), or null. */
  touch: Promise<unknown> | null;
};

/** The caller as routes see it (auth-context.ts), from a checked session. */
export function authOf(session: SessionCheck): Auth {
  return {
    accountId: session.accountId,
    sessionId: session.sessionId,
    kind: session.kind,
    deviceName: session.deviceName,
    profileId: session.profileId,
    accountProfileIds: session.accountProfileIds,
    lockedProfileIds: session.lockedProfileIds,
    isKidsProfile: session.isKidsProfile,
  };
}

export async function createSession(db: D1Queryable, accountId: string, kind: Kind, deviceName: string, now: Date) {
  const token = newSessionToken();
  const expiresAt = new Date(now.getTime() + SESSION_TIMEOUTS[kind].absoluteMs);
  const id = await sessionIdFor(token);
  const row = { id, accountId, kind, deviceName, profileId: null, createdAt: now, lastSeenAt: now, expiresAt };
  // Retried once if D1 fails: on the second try, the session's own id already there means the first landed.
  await retryOnce(async (attempt) => {
    try {
      await drizzleOf(db).insert(sessions).values(row);
    } catch (err) {
      if (!(attempt === 2 && /UNIQUE/i.test(String((err as Error)?.cause ?? err)))) throw err;
    }
  });
  return { token, sessionId: id, expiresAt };
}

/**
 * Sessions this isolate checked in D1 lately, kept only to ride out a D1 failure: while D1
 * answers, every request is checked there (a sign-out takes effect at once); while it
 * does not, a session seen in the last few minutes still reads the catalog and its home
 * page (stale), where anyone else gets a retryable 503.
 */
const recentlyChecked = new Map<string, { check: SessionCheck; at: number }>();
const RECENT_MAX = 5_000;
export const STALE_SESSION_MS = 5 * 60_000;

function remember(check: SessionCheck, now: Date): void {
  recentlyChecked.delete(check.sessionId);
  if (recentlyChecked.size >= RECENT_MAX) recentlyChecked.delete(recentlyChecked.keys().next().value!);
  recentlyChecked.set(check.sessionId, { check: { ...check, touch: null }, at: now.getTime() });
}

/** Where a session check reads, beyond the request's D1 session it is given first. */
export type SessionCheckOptions = {
  /**
   * Asked when the first read finds no such session: a read replica may be a moment
   * behind a sign-in made elsewhere, and a brand-new session must work at once. (A
   * session ended elsewhere may, the other way round, still pass on a lagging replica for
   * those moments: docs/threat-model.md.)
   */
  primary?: () => D1Queryable;
  /** Where the hourly `lastSeenAt` write goes (after the response); `db` by default. */
  touchDb?: D1Queryable;
};

/**
 * One D1 query: the session, its entered profile's kids flag, and the subscription; a
 * second, at `options.primary`, only when the first finds nothing.
 */
export async function checkSession(db: D1Queryable, token: string, now: Date, options: SessionCheckOptions = {}): Promise<SessionCheck | null> {
  if (!isSessionToken(token)) return null;
  const id = await sessionIdFor(token);
  try {
    const check = await readOrPrimary(db, options.primary, (reader) => checkInD1(reader, options.touchDb ?? reader, id, now));
    if (check) remember(check, now);
    else recentlyChecked.delete(id);
    return check;
  } catch (err) {
    const recent = recentlyChecked.get(id);
    if (!isDependencyError(err) || !recent || now.getTime() - recent.at > STALE_SESSION_MS || now >= recent.check.expiresAt) throw err;
    return { ...recent.check, touch: null };
  }
}

async function checkInD1(db: D1Queryable, touchDb: D1Queryable, id: string, now: Date): Promise<SessionCheck | null> {
  const orm = drizzleOf(db);
  const [row] = await orm
    .select({
      session: sessions,
      isKids: profiles.isKids,
      maturityLevel: profiles.maturityLevel,
      planId: subscriptions.planId,
      status: subscriptions.status,
      // Profile ids have no commas (prf_ + base36), so group_concat's list splits back cleanly.
      accountProfileIds: sql<string | null>`(SELECT group_concat(p2.id) FROM profiles p2 WHERE p2.account_id = ${sessions.accountId})`,
      lockedProfileIds: sql<string | null>`(SELECT group_concat(p3.id) FROM profiles p3 WHERE p3.account_id = ${sessions.accountId} AND p3.pin_hash IS NOT NULL)`,
    })
    .from(sessions)
    .leftJoin(profiles, eq(profiles.id, sessions.profileId))
    .leftJoin(subscriptions, eq(subscriptions.accountId, sessions.accountId))
    .where(eq(sessions.id, id));
  if (!row) return null;
  const s = row.session;
  const idleLimit = s.lastSeenAt.getTime() + SESSION_TIMEOUTS[s.kind].idleMs;
  if (now.getTime() >= s.expiresAt.getTime() || now.getTime() >= idleLimit) {
    return null; // expired rows are removed by sign-out-everywhere or left to be overwritten; never honoured
  }
  // A failed touch costs nothing but an older `lastSeenAt`: the next request writes it.
  const touch =
    now.getTime() - s.lastSeenAt.getTime() > TOUCH_EVERY_MS ? drizzleOf(touchDb).update(sessions).set({ lastSeenAt: now }).where(eq(sessions.id, id)).run().catch(() => null) : null;
  return {
    sessionId: s.id,
    accountId: s.accountId,
    kind: s.kind,
    deviceName: s.deviceName,
    profileId: s.profileId,
    accountProfileIds: row.accountProfileIds ? row.accountProfileIds.split(",") : [],
    lockedProfileIds: row.lockedProfileIds ? row.lockedProfileIds.split(",") : [],
    isKidsProfile: row.isKids ?? false,
    maturityLevel: row.maturityLevel,
    planId: row.planId,
    subscriptionStatus: row.status,
    expiresAt: s.expiresAt,
    touch,
  };
}

export async function endSession(db: D1Queryable, accountId: string, sessionId: string): Promise<boolean> {
  recentlyChecked.delete(sessionId);
  const result = await drizzleOf(db)
    .delete(sessions)
    .where(and(eq(sessions.id, sessionId), eq(sessions.accountId, accountId)))
    .run();
  return result.meta.changes > 0;
}

export async function endAllSessions(db: D1Queryable, accountId: string): Promise<number> {
  for (const [id, { check }] of recentlyChecked) if (check.accountId === accountId) recentlyChecked.delete(id);
  const result = await drizzleOf(db).delete(sessions).where(eq(sessions.accountId, accountId)).run();
  return result.meta.changes;
}

export async function listSessions(db: D1Queryable, accountId: string, now: Date) {
  const rows = await drizzleOf(db).select().from(sessions).where(eq(sessions.accountId, accountId));
  return rows
    .filter((s) => now < s.expiresAt && now.getTime() < s.lastSeenAt.getTime() + SESSION_TIMEOUTS[s.kind].idleMs)
    .map((s) => ({ id: s.id, kind: s.kind, deviceName: s.deviceName, profileId: s.profileId, createdAt: s.createdAt, lastSeenAt: s.lastSeenAt }));
}

/**
 * After devices were signed out of a profile in D1 (its PIN changed): this isolate's
 * recently-checked copies of them must not let them back in during a D1 outage. (Other
 * isolates' copies cannot be reached; they are used only while D1 fails, for at most
 * STALE_SESSION_MS, and only for reads of the catalog and a home page built before.)
 */
export function forgetProfileEntries(profileId: string, exceptSessionId: string): void {
  for (const [id, { check }] of recentlyChecked) if (check.profileId === profileId && id !== exceptSessionId) recentlyChecked.delete(id);
}

export async function enterProfile(db: D1Queryable, sessionId: string, profileId: string): Promise<void> {
  await drizzleOf(db).update(sessions).set({ profileId }).where(eq(sessions.id, sessionId));
}
