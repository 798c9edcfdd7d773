// Periodic clean-up in D1: sessions past their timeouts (never honoured, but their rows
// would pile up), billing events older than any provider redelivery, and watch events
// older than any Queue redelivery or client retry (their ids are what dedupes them), and
// counted plays of days no event can be counted on any more; QoE report ids and CMCD
// timelines past their use.
import { lt, or } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { billingEvents, cmcdRequests, countedPlays, qoeReports, sessions, watchEvents } from "../../../d1/schema.ts";
import { SESSION_TIMEOUTS } from "../auth/sessions.ts";

/** Stripe retries a webhook for up to 3 days; ids are kept well past that. */
export const BILLING_EVENT_RETENTION_MS = 30 * 86_400_000;

/**
 * A watch event can come again while the Queue retries it (5 times, minutes apart) or a
 * client resends a batch (seconds to hours offline): three days covers both with room.
 */
export const WATCH_EVENT_RETENTION_MS = 3 * 86_400_000;

/**
 * A play is counted on the day the api received its event, so only today's rows can
 * still refuse a second count; yesterday's are kept for the batches the Queue is still
 * retrying across midnight.
 */
export const COUNTED_PLAYS_RETENTION_DAYS = 2;

/** QoE reports are only their ids' memory once folded into the rollups: kept as long as watch events, for the same retries. */
export const QOE_REPORT_RETENTION_MS = WATCH_EVENT_RETENTION_MS;

/** CMCD timelines are for looking into a viewer's recent session: 2 days (read-qoe.ts reads the last 48 h). */
export const CMCD_RETENTION_MS = 2 * 86_400_000;

export type Removed = { sessions: number; billingEvents: number; watchEvents: number; countedPlays: number; qoeReports: number; cmcdRequests: number };

export async function housekeeping(db: D1Database, now: Date): Promise<Removed> {
  const orm = drizzle(db);
  // Past the longest idle timeout a session of any kind is dead (shorter-lived kinds are
  // refused when used, and go at their absolute expiry).
  const longestIdle = Math.max(...Object.values(SESSION_TIMEOUTS).map((t) => t.idleMs));
  const firstKeptDay = new Date(now.getTime() - (COUNTED_PLAYS_RETENTION_DAYS - 1) * 86_400_000).toISOString().slice(0, 10);
  const [deadSessions, oldEvents, oldWatchEvents, oldPlays, oldReports, oldCmcd] = await orm.batch([
    orm
      .delete(sessions)
      .where(or(lt(sessions.expiresAt, now), lt(sessions.lastSeenAt, new Date(now.getTime() - longestIdle)))),
    orm.delete(billingEvents).where(lt(billingEvents.receivedAt, new Date(now.getTime() - BILLING_EVENT_RETENTION_MS))),
    orm.delete(watchEvents).where(lt(watchEvents.receivedAt, now.getTime() - WATCH_EVENT_RETENTION_MS)),
    orm.delete(countedPlays).where(lt(countedPlays.day, firstKeptDay)),
    orm.delete(qoeReports).where(lt(qoeReports.receivedAt, now.getTime() - QOE_REPORT_RETENTION_MS)),
    orm.delete(cmcdRequests).where(lt(cmcdRequests.at, now.getTime() - CMCD_RETENTION_MS)),
  ]);
  return {
    sessions: deadSessions.meta.changes,
    billingEvents: oldEvents.meta.changes,
    watchEvents: oldWatchEvents.meta.changes,
    countedPlays: oldPlays.meta.changes,
    qoeReports: oldReports.meta.changes,
    cmcdRequests: oldCmcd.meta.changes,
  };
}
