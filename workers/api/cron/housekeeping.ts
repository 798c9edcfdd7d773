// Periodic clean-up in D1: sessions past their timeouts (never honoured, but their rows
// would pile up), billing events older than any provider redelivery, and watch events
// older than any Queue redelivery or client retry (their ids are what dedupes them).
import { lt, or } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { billingEvents, sessions, watchEvents } from "../../../d1/schema.ts";
import { SESSION_TIMEOUTS } from "../auth/sessions.ts";

/** Stripe retries a webhook for up to 3 days; ids are kept well past that. */
export const BILLING_EVENT_RETENTION_MS = 30 * 86_400_000;

/**
 * A watch event can come again while the Queue retries it (5 times, minutes apart) or a
 * client resends a batch (seconds to hours offline): three days covers both with room.
 */
export const WATCH_EVENT_RETENTION_MS = 3 * 86_400_000;

export async function housekeeping(db: D1Database, now: Date): Promise<{ sessions: number; billingEvents: number; watchEvents: number }> {
  const orm = drizzle(db);
  // Past the longest idle timeout a session of any kind is dead (shorter-lived kinds are
  // refused when used, and go at their absolute expiry).
  const longestIdle = Math.max(...Object.values(SESSION_TIMEOUTS).map((t) => t.idleMs));
  const [deadSessions, oldEvents, oldWatchEvents] = await orm.batch([
    orm
      .delete(sessions)
      .where(or(lt(sessions.expiresAt, now), lt(sessions.lastSeenAt, new Date(now.getTime() - longestIdle)))),
    orm.delete(billingEvents).where(lt(billingEvents.receivedAt, new Date(now.getTime() - BILLING_EVENT_RETENTION_MS))),
    orm.delete(watchEvents).where(lt(watchEvents.receivedAt, now.getTime() - WATCH_EVENT_RETENTION_MS)),
  ]);
  return { sessions: deadSessions.meta.changes, billingEvents: oldEvents.meta.changes, watchEvents: oldWatchEvents.meta.changes };
}
