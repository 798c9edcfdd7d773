// Periodic clean-up in D1: sessions past their timeouts (never honoured, but their rows
// would pile up), billing events older than any provider redelivery, and watch events
// older than any Queue redelivery or client retry (their ids are what dedupes them), and
// counted plays of days no event can be counted on any more.
import { lt, or } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { billingEvents, countedPlays, sessions, watchEvents } from "../../../d1/schema.ts";
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

export async function housekeeping(db: D1Database, now: Date): Promise<{ sessions: number; billingEvents: number; watchEvents: number; countedPlays: number }> {
  const orm = drizzle(db);
  // Past the longest idle timeout a session of any kind is dead (shorter-lived kinds are
  // refused when used, and go at their absolute expiry).
  const longestIdle = Math.max(...Object.values(SESSION_TIMEOUTS).map((t) => t.idleMs));
  const firstKeptDay = new Date(now.getTime() - (COUNTED_PLAYS_RETENTION_DAYS - 1) * 86_400_000).toISOString().slice(0, 10);
  const [deadSessions, oldEvents, oldWatchEvents, oldPlays] = await orm.batch([
    orm
      .delete(sessions)
      .where(or(lt(sessions.expiresAt, now), lt(sessions.lastSeenAt, new Date(now.getTime() - longestIdle)))),
    orm.delete(billingEvents).where(lt(billingEvents.receivedAt, new Date(now.getTime() - BILLING_EVENT_RETENTION_MS))),
    orm.delete(watchEvents).where(lt(watchEvents.receivedAt, now.getTime() - WATCH_EVENT_RETENTION_MS)),
    orm.delete(countedPlays).where(lt(countedPlays.day, firstKeptDay)),
  ]);
  return { sessions: deadSessions.meta.changes, billingEvents: oldEvents.meta.changes, watchEvents: oldWatchEvents.meta.changes, countedPlays: oldPlays.meta.changes };
}
