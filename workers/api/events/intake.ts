// Taking watch events in: each event checked against the caller's account and profile
// and against the stream it names (a signed id), the profiles' rate reserved, stamped
// (account, country, time), and put on the `watch-events` Queue in one sendBatch. No D1
// beyond the session check every member route makes: the Queue absorbs the load, the
// consumer (consume-watch-events.ts) writes.
import { ApiError } from "../../../lib/errors.ts";
import type { WatchEvent, WatchEventMessage } from "../../../lib/watch-events.ts";
import type { Auth } from "../auth/auth-context.ts";
import { playbackKeys } from "../playback/playback-urls.ts";
import { verifyStreamId } from "../playback/stream-ids.ts";
import { sendToQueue } from "../queue/send.ts";

/** How far a client clock may be from ours: events buffered offline arrive late, not from next month. */
const MAX_PAST_MS = 30 * 24 * 3600_000;
const MAX_FUTURE_MS = 3600_000;

export type EventIntakeEnv = { WATCH_EVENTS: Queue; PLAYBACK_TOKEN_KEYS: string; EVENTS_RATE_LIMIT: RateLimit };

/** The Rate Limiting binding's period (wrangler.toml `[[ratelimits]]`, 10 or 60 s): a refused client waits at most this. */
export const EVENTS_RATE_PERIOD_SEC = 10;

/** What a player reports about a stream: watch events and QoE reports both name these. */
export type StreamReport = { profileId: string; titleId: string; episodeId?: string | null | undefined; playbackSessionId: string };

/** Every item must be for a profile of this account that this device may report for. */
export function refuseProfiles(auth: Auth, events: StreamReport[]): void {
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

export function refuseClocks(events: { clientTime: number }[], nowMs: number, field: "events" | "reports" = "events"): void {
  const off = events.findIndex((e) => e.clientTime < nowMs - MAX_PAST_MS || e.clientTime > nowMs + MAX_FUTURE_MS);
  if (off >= 0) {
    throw new ApiError("VALIDATION_FAILED", "A clientTime is more than 30 days old or in the future.", {
      details: [{ path: `${field}.${off}.clientTime`, message: "outside [now - 30 days, now + 1 hour]" }],
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
export async function refuseUnknownStreams(env: Pick<EventIntakeEnv, "PLAYBACK_TOKEN_KEYS">, auth: Auth, events: StreamReport[]): Promise<void> {
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
export async function reserveRate(env: Pick<EventIntakeEnv, "EVENTS_RATE_LIMIT">, events: StreamReport[], what: "events" | "qoe" = "events"): Promise<void> {
  const profiles = [...new Set(events.map((e) => e.profileId))];
  const outcomes = await Promise.all(profiles.map((id) => env.EVENTS_RATE_LIMIT.limit({ key: `${what}:${id}` })));
  if (outcomes.some((o) => !o.success)) {
    const message = what === "events" ? "Too many event batches for this profile; send them a little later." : "Too many QoE reports for this profile; send them a little later.";
    throw new ApiError("RATE_LIMITED", message, { headers: { "Retry-After": String(EVENTS_RATE_PERIOD_SEC) } });
  }
}

/** ISO 3166 alpha-2 from Cloudflare's request metadata; "XX" when unknown. */
export function countryStamp(country: string | undefined): string {
  return /^[A-Z]{2}$/.test(country ?? "") ? country! : "XX";
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
  const stamp = countryStamp(country);
  const messages = events.map((event): WatchEventMessage => ({ v: 1, accountId: auth.accountId, country: stamp, receivedAt: nowMs, event }));
  try {
    // Sending again is safe (the consumer counts each event id once).
    await sendToQueue(env.WATCH_EVENTS, "watch-events", messages, requestId);
  } catch {
    throw new ApiError("UNAVAILABLE", "Watch events could not be queued; send the same batch again.", { headers: { "Retry-After": "1" }, details: { reason: "queue_unavailable", retryable: true } });
  }
  return messages.length;
}
