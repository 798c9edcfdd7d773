// Watch events from tests: events a player would send, Queue messages as the api makes
// them, delivering a batch to the real consumer, and waiting for the real Queue.
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { parsePlaybackKeys } from "../../../lib/playback-token.ts";
import type { WatchEvent, WatchEventMessage } from "../../../lib/watch-events.ts";
import { newStreamId } from "../playback/stream-ids.ts";
import worker from "../index.ts";

let counter = 0;

/**
 * The stream id the api would have given this account's profile for this title (and
 * episode) at Play, signed with the test keys: what POST /v1/events requires of every event.
 */
export async function streamIdFor(accountId: string, profileId: string, titleId = "first-light", episodeId: string | null = null): Promise<string> {
  return newStreamId(await parsePlaybackKeys(env.PLAYBACK_TOKEN_KEYS), { accountId, profileId, titleId, episodeId }, { deviceSessionId: "", clientSessionId: undefined });
}

/** The events, each naming a real stream of the account for its own profile, title and episode. */
export async function fromStreams<E extends WatchEvent>(accountId: string, events: E[]): Promise<E[]> {
  const ids = new Map<string, Promise<string>>();
  return Promise.all(
    events.map(async (e) => {
      const key = `${e.profileId}|${e.titleId}|${e.episodeId ?? ""}`;
      if (!ids.has(key)) ids.set(key, streamIdFor(accountId, e.profileId, e.titleId, e.episodeId ?? null));
      return { ...e, playbackSessionId: await ids.get(key)! };
    }),
  );
}

/** A player's event: a heartbeat at 10 s into "first-light" unless told otherwise (a made-up stream: see `fromStreams`). */
export function watchEvent(profileId: string, o: Partial<WatchEvent> = {}): WatchEvent {
  return {
    id: `evt-${Date.now().toString(36)}-${++counter}`,
    type: "heartbeat",
    playbackSessionId: "pbs_0123456789abcdef0123",
    profileId,
    titleId: "first-light",
    positionSec: 10,
    durationSec: 6000,
    clientTime: Date.now(),
    ...o,
  };
}

export function message(accountId: string, event: WatchEvent, o: Partial<Omit<WatchEventMessage, "event">> = {}): WatchEventMessage {
  return { v: 1, accountId, country: "FR", receivedAt: Date.now(), event, ...o };
}

let deliveries = 0;

/** Delivers bodies to the consumer as one batch (as the Queue would), answering what it acked and retried. */
export async function deliver(bodies: unknown[], queue = "watch-events", attempts = 1) {
  const batch = createMessageBatch(
    queue,
    bodies.map((body, i) => ({ id: `msg-${++deliveries}-${i}`, timestamp: new Date(), attempts, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, env);
  const result = await getQueueResult(batch, ctx);
  return { ids: batch.messages.map((m) => m.id), ...result };
}

/** Polls until `check` passes (the real Queue delivers within seconds), or fails with its last error. */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export async function scalar(sql: string, ...params: unknown[]): Promise<number> {
  const row = await env.DB.prepare(sql).bind(...params).first<{ n: number }>();
  return row?.n ?? 0;
}
