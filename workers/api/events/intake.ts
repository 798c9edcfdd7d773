// Taking watch events in: each event checked against the caller's account and profile
// and against the stream it names (a signed id), the profiles' rate reserved, stamped
// (account, country, time). Heartbeats go no further than the account's Durable Object,
// which keeps the positions and writes them to D1 when due (durable-objects/
// playback-positions.ts); every other event goes on its profile's watch-shard Queue
// (`watch-events-{k}`), in one message a shard. No D1 beyond the session check every member
// route makes: the shards' consumers (queue/consume-watch-events.ts) write.
import { ApiError } from "../../../lib/errors.ts";
import { log } from "../../../lib/log.ts";
import { progressEventTypes, type WatchEvent, type WatchEventBatchMessage, type WatchEventMessage } from "../../../lib/watch-events.ts";
import type { PositionNote } from "../../../lib/watch-shards/positions.ts";
import { groupByShard, type ShardEnv } from "../../../lib/watch-shards/shards.ts";
import type { Auth } from "../auth/auth-context.ts";
import { playbackKeys } from "../playback/playback-urls.ts";
import { streamLeases } from "../playback/stream-leases.ts";
import { verifyStreamId } from "../playback/stream-ids.ts";
import { sendToQueue } from "../queue/send.ts";

/** How far a client clock may be from ours: events buffered offline arrive late, not from next month. */
const MAX_PAST_MS = 30 * 24 * 3600_000;
const MAX_FUTURE_MS = 3600_000;

export type EventIntakeEnv = ShardEnv & { PLAYBACK_TOKEN_KEYS: string; EVENTS_RATE_LIMIT: RateLimit; ACCOUNT_STREAMS: ApiEnv["ACCOUNT_STREAMS"] };

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

const progressTypes: ReadonlySet<string> = new Set(progressEventTypes);

function positionNote(m: WatchEventMessage, queued: boolean): PositionNote {
  const e = m.event;
  return {
    streamId: e.playbackSessionId,
    accountId: m.accountId,
    profileId: e.profileId,
    titleId: e.titleId,
    episodeId: e.episodeId ?? null,
    positionSec: e.positionSec,
    durationSec: e.durationSec,
    clientAt: e.clientTime,
    country: m.country,
    queued,
    complete: e.type === "complete",
  };
}

/**
 * Each stream's latest position only (by client time; of equal times, the one sent last):
 * one note a stream, however many events a batch has. An earlier queued position needs no
 * note of its own — the object writes a later one anyway, and none is needed once the
 * latest is queued.
 */
function latestPerStream(notes: PositionNote[]): PositionNote[] {
  const latest = new Map<string, PositionNote>();
  for (const n of notes) {
    const held = latest.get(n.streamId);
    if (!held || n.clientAt >= held.clientAt) latest.set(n.streamId, n);
  }
  return [...latest.values()];
}

/**
 * Puts the events on their profiles' shard Queues, one message a shard (stamped once);
 * throws the retryable 503 if a send fails twice.
 */
async function enqueue(env: EventIntakeEnv, messages: WatchEventMessage[], requestId: string): Promise<void> {
  try {
    // Sending again is safe (the consumer counts each event id once).
    await Promise.all(
      groupByShard(env, messages, (m) => m.event.profileId).map(({ shard, items }) => {
        const [{ accountId, country, receivedAt }] = items as [WatchEventMessage];
        const message: WatchEventBatchMessage = { v: 2, accountId, country, receivedAt, events: items.map((m) => m.event) };
        return sendToQueue(shard.queue, `watch-events-${shard.index}`, [message], requestId);
      }),
    );
  } catch {
    throw new ApiError("UNAVAILABLE", "Watch events could not be queued; send the same batch again.", { headers: { "Retry-After": "1" }, details: { reason: "queue_unavailable", retryable: true } });
  }
}

/**
 * Validates, then queues every event but the heartbeats, and hands the positions to the
 * account's Durable Object: the heartbeats' (kept there) and the queued events' (so it
 * writes nothing the Queue carries). If the object cannot be reached, the heartbeats go
 * on the Queue as well — the consumer applies them as before — so no position is lost. A
 * failed send is a retryable 503: the client sends the same batch again, with the same
 * ids, and everything counts once.
 */
export async function acceptEvents(env: EventIntakeEnv, auth: Auth, events: WatchEvent[], country: string | undefined, nowMs: number, requestId: string): Promise<number> {
  refuseProfiles(auth, events);
  refuseClocks(events, nowMs);
  await refuseUnknownStreams(env, auth, events);
  await reserveRate(env, events);
  const stamp = countryStamp(country);
  const messages = events.map((event): WatchEventMessage => ({ v: 1, accountId: auth.accountId, country: stamp, receivedAt: nowMs, event }));
  const heartbeats = messages.filter((m) => m.event.type === "heartbeat");
  const queued = messages.filter((m) => m.event.type !== "heartbeat");
  if (queued.length > 0) await enqueue(env, queued, requestId);
  // In the order the player sent them: of two at one client time, the later one wins.
  const notes = latestPerStream(messages.filter((m) => progressTypes.has(m.event.type)).map((m) => positionNote(m, m.event.type !== "heartbeat")));
  if (notes.length > 0) {
    try {
      await streamLeases(env, auth.accountId, requestId).notePositions(notes);
    } catch (err) {
      if (heartbeats.length === 0) return messages.length;
      log("warn", { event: "dependency_failed", requestId, dependency: "do:ACCOUNT_STREAMS", message: `positions not kept (${(err as Error)?.message ?? err}); queueing ${heartbeats.length} heartbeats instead` });
      await enqueue(env, heartbeats, requestId);
    }
  }
  return messages.length;
}
