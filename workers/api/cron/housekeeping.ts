// Periodic clean-up in D1: sessions past their timeouts (never honoured, but their rows
// would pile up), billing events older than any provider redelivery, and watch events
// older than any Queue redelivery or client retry (their ids are what dedupes them), and
// counted plays of days no event can be counted on any more (both in every watch shard);
// QoE report ids and CMCD timelines past their use; and each shard's counter deltas that
// no batch has folded yet (a fold that failed, or a shard with no traffic since).
import { lt, or } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { billingEvents, cmcdRequests, counterFolds, qoeReports, sessions } from "../../../d1/schema.ts";
import { countedPlays, watchEvents } from "../../../d1/watch-schema.ts";
import { allShards, type ShardEnv } from "../../../lib/watch-shards/shards.ts";
import { SESSION_TIMEOUTS } from "../auth/sessions.ts";
import { deleteFolded, pendingOutbox, type OutboxRow } from "../events/apply-events.ts";
import { foldCounters } from "../events/fold-counters.ts";

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

/**
 * A fold's claim must outlive the outbox rows it covers (deleted by the next batch, or
 * by this sweep within 15 minutes): a week is room for a shard that was down for days.
 */
export const COUNTER_FOLD_RETENTION_MS = 7 * 86_400_000;

export type Removed = {
  sessions: number;
  billingEvents: number;
  watchEvents: number;
  countedPlays: number;
  qoeReports: number;
  cmcdRequests: number;
  counterFolds: number;
  /** Outbox rows folded by this sweep (deltas no batch had folded). */
  outboxFolded: number;
};

/** Folds and deletes one shard's waiting counter deltas, a few batches at a time. */
async function sweepOutbox(db: D1Database, shardDb: D1Database, k: number, nowMs: number): Promise<number> {
  let folded = 0;
  for (let round = 0; round < 20; round++) {
    const { results } = await shardDb.prepare(pendingOutbox).all<OutboxRow>();
    if (results.length === 0) break;
    const tags = await foldCounters(db, k, results, nowMs);
    await deleteFolded(shardDb, tags).run();
    folded += results.length;
  }
  return folded;
}

export async function housekeeping(env: { DB: D1Database } & ShardEnv, now: Date): Promise<Removed> {
  const db = env.DB;
  const orm = drizzle(db);
  // Past the longest idle timeout a session of any kind is dead (shorter-lived kinds are
  // refused when used, and go at their absolute expiry).
  const longestIdle = Math.max(...Object.values(SESSION_TIMEOUTS).map((t) => t.idleMs));
  const firstKeptDay = new Date(now.getTime() - (COUNTED_PLAYS_RETENTION_DAYS - 1) * 86_400_000).toISOString().slice(0, 10);
  const shards = await Promise.all(
    allShards(env).map(async (shard) => {
      const outboxFolded = await sweepOutbox(db, shard.db, shard.index, now.getTime());
      const watch = drizzle(shard.db);
      const [oldWatchEvents, oldPlays] = await watch.batch([
        watch.delete(watchEvents).where(lt(watchEvents.receivedAt, now.getTime() - WATCH_EVENT_RETENTION_MS)),
        watch.delete(countedPlays).where(lt(countedPlays.day, firstKeptDay)),
      ]);
      return { watchEvents: oldWatchEvents.meta.changes, countedPlays: oldPlays.meta.changes, outboxFolded };
    }),
  );
  const [deadSessions, oldEvents, oldReports, oldCmcd, oldFolds] = await orm.batch([
    orm
      .delete(sessions)
      .where(or(lt(sessions.expiresAt, now), lt(sessions.lastSeenAt, new Date(now.getTime() - longestIdle)))),
    orm.delete(billingEvents).where(lt(billingEvents.receivedAt, new Date(now.getTime() - BILLING_EVENT_RETENTION_MS))),
    orm.delete(qoeReports).where(lt(qoeReports.receivedAt, now.getTime() - QOE_REPORT_RETENTION_MS)),
    orm.delete(cmcdRequests).where(lt(cmcdRequests.at, now.getTime() - CMCD_RETENTION_MS)),
    orm.delete(counterFolds).where(lt(counterFolds.foldedAt, now.getTime() - COUNTER_FOLD_RETENTION_MS)),
  ]);
  const sum = (key: "watchEvents" | "countedPlays" | "outboxFolded") => shards.reduce((n, s) => n + s[key], 0);
  return {
    sessions: deadSessions.meta.changes,
    billingEvents: oldEvents.meta.changes,
    watchEvents: sum("watchEvents"),
    countedPlays: sum("countedPlays"),
    qoeReports: oldReports.meta.changes,
    cmcdRequests: oldCmcd.meta.changes,
    counterFolds: oldFolds.meta.changes,
    outboxFolded: sum("outboxFolded"),
  };
}
