// Taking watch events in: each event checked against the caller's account and profile,
// stamped (account, country, time), and put on the `watch-events` Queue in one
// sendBatch. No D1 beyond the session check every member route makes: the Queue absorbs
// the load, the consumer (consume-watch-events.ts) writes.
import { ApiError } from "../../../lib/errors.ts";
import { log } from "../../../lib/log.ts";
import type { WatchEvent, WatchEventMessage } from "../../../lib/watch-events.ts";
import type { Auth } from "../auth/auth-context.ts";

/** A Queue's sendBatch takes at most 100 messages and 256 KB. */
const MAX_BATCH_MESSAGES = 100;
const MAX_BATCH_BYTES = 250 * 1024;

/** How far a client clock may be from ours: events buffered offline arrive late, not from next month. */
const MAX_PAST_MS = 30 * 24 * 3600_000;
const MAX_FUTURE_MS = 3600_000;

export type EventIntakeEnv = { WATCH_EVENTS: Queue };

function refuseProfiles(auth: Auth, events: WatchEvent[]): void {
  const own = new Set(auth.accountProfileIds);
  const foreign = events.findIndex((e) => !own.has(e.profileId));
  if (foreign >= 0) {
    throw new ApiError("FORBIDDEN", "An event names a profile that is not this account's.", { details: { reason: "wrong_profile", index: foreign } });
  }
  // A device in a kids profile reports for that profile only.
  if (auth.isKidsProfile) {
    const other = events.findIndex((e) => e.profileId !== auth.profileId);
    if (other >= 0) throw new ApiError("FORBIDDEN", "A kids profile reports only its own events.", { details: { reason: "kids_profile", index: other } });
  }
  // And only a device that entered a PIN-locked profile reports for it.
  const locked = events.findIndex((e) => e.profileId !== auth.profileId && auth.lockedProfileIds.includes(e.profileId));
  if (locked >= 0) {
    throw new ApiError("FORBIDDEN", "An event names a locked profile this device has not entered with its PIN.", { details: { reason: "profile_locked", index: locked } });
  }
}

function refuseClocks(events: WatchEvent[], nowMs: number): void {
  const off = events.findIndex((e) => e.clientTime < nowMs - MAX_PAST_MS || e.clientTime > nowMs + MAX_FUTURE_MS);
  if (off >= 0) {
    throw new ApiError("VALIDATION_FAILED", "An event's clientTime is more than 30 days old or in the future.", {
      details: [{ path: `events.${off}.clientTime`, message: "outside [now - 30 days, now + 1 hour]" }],
    });
  }
}

/** Splits messages into sendBatch calls within the Queue's count and size limits. */
export function sendBatches(messages: WatchEventMessage[]): WatchEventMessage[][] {
  const batches: WatchEventMessage[][] = [];
  let current: WatchEventMessage[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = JSON.stringify(m).length + 100; // the body plus per-message overhead
    if (current.length === MAX_BATCH_MESSAGES || (current.length > 0 && bytes + size > MAX_BATCH_BYTES)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(m);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/**
 * Validates and enqueues. A failed send is a retryable 503: the client sends the same
 * batch again, with the same ids, and the consumer counts each id once.
 */
export async function acceptEvents(env: EventIntakeEnv, auth: Auth, events: WatchEvent[], country: string | undefined, nowMs: number, requestId: string): Promise<number> {
  refuseProfiles(auth, events);
  refuseClocks(events, nowMs);
  const stamp = /^[A-Z]{2}$/.test(country ?? "") ? country! : "XX";
  const messages = events.map((event): WatchEventMessage => ({ v: 1, accountId: auth.accountId, country: stamp, receivedAt: nowMs, event }));
  try {
    for (const batch of sendBatches(messages)) {
      const send = () => env.WATCH_EVENTS.sendBatch(batch.map((body) => ({ body, contentType: "json" as const })));
      // Sending again is safe (the consumer counts each event id once), so one failed
      // send is retried here before the client is asked to.
      await send().catch(async (err: unknown) => {
        log("warn", { event: "dependency_failed", requestId, dependency: "queue", message: `watch-events sendBatch, retrying once: ${(err as Error)?.message ?? String(err)}` });
        await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 40));
        return send();
      });
    }
  } catch (err) {
    log("error", { event: "dependency_failed", requestId, dependency: "queue", message: `watch-events sendBatch: ${(err as Error)?.message ?? String(err)}` });
    throw new ApiError("UNAVAILABLE", "Watch events could not be queued; send the same batch again.", { headers: { "Retry-After": "1" }, details: { reason: "queue_unavailable", retryable: true } });
  }
  return messages.length;
}
