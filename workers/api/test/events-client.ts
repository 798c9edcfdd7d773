// Watch events from tests: events a player would send, Queue messages as the api makes
// them, delivering a batch to the real consumer, and waiting for the real Queue.
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { parsePlaybackKeys } from "../../../lib/playback-token.ts";
import type { WatchEvent, WatchEventMessage } from "../../../lib/watch-events.ts";
import { shardOf } from "../../../lib/watch-shard-of.ts";
import { allShards, shardForProfile, shardsOf } from "../../../lib/watch-shards/shards.ts";
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

/**
 * A player's event: a seek to 10 s into "first-light" unless told otherwise (a made-up
 * stream: see `fromStreams`). A seek, not a heartbeat: it goes through the Queue to the
 * shard, where the tests look; heartbeats stop at the account's Durable Object.
 */
export function watchEvent(profileId: string, o: Partial<WatchEvent> = {}): WatchEvent {
  return {
    id: `evt-${Date.now().toString(36)}-${++counter}`,
    type: "seek",
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

/** The queue of the shard the bodies' profile belongs to (the first body that names one), as the api would send them to. */
export function queueFor(bodies: unknown[]): string {
  const profileOf = (b: unknown) => {
    const m = b as { event?: { profileId?: unknown }; events?: { profileId?: unknown }[] } | null;
    return m?.event?.profileId ?? m?.events?.[0]?.profileId;
  };
  const profileId = bodies.map(profileOf).find((p) => typeof p === "string");
  return `watch-events-${typeof profileId === "string" ? shardOf(profileId, shardsOf(env)) : 0}`;
}

/** Delivers bodies to the consumer as one batch (as the Queue would: on their profile's shard queue unless told), answering what it acked and retried. */
export async function deliver(bodies: unknown[], queue = queueFor(bodies), attempts = 1) {
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

/** The tables that live in the watch shards (d1/watch-schema.ts); every other one is in DB. */
const SHARD_TABLES = /\b(watch_events|watch_progress|watch_history|counted_plays|profile_recent_titles|counter_outbox)\b/;

/**
 * One number from D1. A query of the watch shards' tables is asked of every shard and
 * the answers summed: a profile's rows are all in one shard, so a value of one profile's
 * is that shard's, and a count over many profiles is the total.
 */
export async function scalar(sql: string, ...params: unknown[]): Promise<number> {
  if (!SHARD_TABLES.test(sql)) return (await env.DB.prepare(sql).bind(...params).first<{ n: number }>())?.n ?? 0;
  const answers = await Promise.all(allShards(env).map((s) => s.db.prepare(sql).bind(...params).first<{ n: number }>()));
  return answers.reduce((sum, row) => sum + (row?.n ?? 0), 0);
}

/** The watch shard that holds this profile's watch data. */
export function shardDbOf(profileId: string): D1Database {
  return shardForProfile(env, profileId).db;
}
