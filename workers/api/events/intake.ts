// Taking watch events in: each event checked against the caller's account and profile
// and against the stream it names (a signed id), the profiles' rate reserved, stamped
// (account, country, time), and put on the `watch-events` Queue in one sendBatch. No D1
// beyond the session check every member route makes: the Queue absorbs the load, the
// consumer (consume-watch-events.ts) writes.
import { ApiError } from "../../../lib/errors.ts";
import { log } from "../../../lib/log.ts";
import type { WatchEvent, WatchEventMessage } from "../../../lib/watch-events.ts";
import type { Auth } from "../auth/auth-context.ts";
import { playbackKeys } from "../playback/playback-urls.ts";
import { verifyStreamId } from "../playback/stream-ids.ts";

/** A Queue's sendBatch takes at most 100 messages and 256 KB. */
const MAX_BATCH_MESSAGES = 100;
const MAX_BATCH_BYTES = 250 * 1024;

/** How far a client clock may be from ours: events buffered offline arrive late, not from next month. */
const MAX_PAST_MS = 30 * 24 * 3600_000;
const MAX_FUTURE_MS = 3600_000;

export type EventIntakeEnv = { WATCH_EVENTS: Queue; PLAYBACK_TOKEN_KEYS: string; EVENTS_RATE_LIMIT: RateLimit };

/** The Rate Limiting binding's period (wrangler.toml `[[ratelimits]]`, 10 or 60 s): a refused client waits at most this. */
export const EVENTS_RATE_PERIOD_SEC = 10;

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

/**
 * Every event must name a stream the server started for its profile and title on this
 * account (the stream id is signed: playback/stream-ids.ts). An invented, another
 * account's or another title's id is refused, so nothing a client makes up reaches the
 * counters every member sees (Top 10, Trending, co-watch). No D1 read: a MAC per
 * distinct (stream, profile, title, episode) in the batch.
 */
async function refuseUnknownStreams(env: EventIntakeEnv, auth: Auth, events: WatchEvent[]): Promise<void> {
  const keys = await playbackKeys(env.PLAYBACK_TOKEN_KEYS);
  const checked = new Map<string, Promise<boolean>>();
  const verdicts = await Promise.all(
    events.map((e) => {
      const scope = { accountId: auth.accountId, profileId: e.profileId, titleId: e.titleId, episodeId: e.episodeId ?? null };
      const key = JSON.stringify([e.playbackSessionId, scope.profileId, scope.titleId, scope.episodeId]);
      let verdict = checked.get(key);
      if (!verdict) checked.set(key, (verdict = verifyStreamId(keys, e.playbackSessionId, scope)));
      return verdict;
    }),
  );
  const unknown = verdicts.indexOf(false);
  if (unknown >= 0) {
    throw new ApiError("FORBIDDEN", "An event names a playback session this server did not start for its profile and title.", {
      details: { reason: "unknown_playback_session", index: unknown },
    });
  }
}

/**
 * Reserves one request on every profile the batch reports for, before anything is
 * queued (Cloudflare's Rate Limiting binding: counted per location, which is what a
 * flood of requests from one place needs; exact global counts are the sign-in
 * throttle's job). 429 with Retry-After; the player keeps the batch and sends it later.
 */
async function reserveRate(env: EventIntakeEnv, events: WatchEvent[]): Promise<void> {
  const profiles = [...new Set(events.map((e) => e.profileId))];
  const outcomes = await Promise.all(profiles.map((id) => env.EVENTS_RATE_LIMIT.limit({ key: `events:${id}` })));
  if (outcomes.some((o) => !o.success)) {
    throw new ApiError("RATE_LIMITED", "Too many event batches for this profile; send them a little later.", { headers: { "Retry-After": String(EVENTS_RATE_PERIOD_SEC) } });
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
  await refuseUnknownStreams(env, auth, events);
  await reserveRate(env, events);
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
