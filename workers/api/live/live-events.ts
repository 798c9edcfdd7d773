// Creating, reading and ending live events: the D1 rows viewers' reads need (the title, its
// asset, the event's state) and the event's Durable Object, which holds everything else.
import { and, eq, isNull } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import type { LiveConfig, LiveStatus } from "../../../durable-objects/live-event.ts";
import { assets, liveEvents, titles } from "../../../d1/schema.ts";
import { base64UrlEncode } from "../../../lib/base64url.ts";
import { ApiError } from "../../../lib/errors.ts";
import { hex, sha256Hex } from "../../../lib/hex.ts";
import { DEFAULT_LADDER, LIVE_LIMITS, type Rung } from "../../../lib/live/ladder.ts";
import { callDurableObject } from "../bindings/durable-object-retry.ts";
import { catalogBatch, createTitle, prepare } from "../catalog/admin-titles.ts";

export type NewLiveEvent = { name: string; titleId?: string | undefined; ladder?: Rung[] | undefined; dvrWindowSec?: number | undefined; idleTimeoutSec?: number | undefined };

export type CreatedLiveEvent = LiveStatus & { ingest: { baseUrl: string; token: string } };

type Env = { DB: D1Database; LIVE_EVENTS: DurableObjectNamespace<import("../../../durable-objects/live-event.ts").LiveEvent> };

export function liveEventStub(env: Env, liveId: string) {
  return env.LIVE_EVENTS.get(env.LIVE_EVENTS.idFromName(liveId));
}

/** The ingest URL's folder: ffmpeg PUTs `{rendition}/index.m3u8`, `{rendition}/init_N.mp4` and `{rendition}/{n}.m4s` under it. */
export const ingestBaseUrl = (origin: string, liveId: string) => `${origin}/v1/live/${liveId}/ingest/`;

export async function createLiveEvent(env: Env, input: NewLiveEvent, origin: string, requestId: string, now: Date): Promise<CreatedLiveEvent> {
  const liveId = `live-${hex(crypto.getRandomValues(new Uint8Array(12)))}`;
  const token = `lvt_${base64UrlEncode(crypto.getRandomValues(new Uint8Array(32)))}`;
  const orm = drizzle(env.DB);
  let titleId = input.titleId;
  if (titleId) {
    const [title] = await orm.select({ kind: titles.kind, assetId: titles.assetId }).from(titles).where(eq(titles.id, titleId));
    if (!title) throw new ApiError("NOT_FOUND", `No title ${titleId}.`);
    if (title.kind !== "movie") throw new ApiError("CONFLICT", `${titleId} is a series: a live event is a title of its own (kind movie).`);
    if (title.assetId !== null) throw new ApiError("CONFLICT", `${titleId} already has a video; create the live event without titleId to make a title for it.`);
  } else {
    titleId = (await createTitle(env.DB, { kind: "movie", name: input.name, synopsis: `Live: ${input.name}`, maturityRating: "NR", popularity: 0, genres: [], credits: [] }, now)).id;
  }
  const ladder = input.ladder ?? DEFAULT_LADDER;
  const config: LiveConfig = {
    liveId,
    assetId: liveId,
    titleId,
    name: input.name,
    tokenHash: await sha256Hex(token),
    ladder,
    dvrWindowSec: input.dvrWindowSec ?? LIVE_LIMITS.defaultDvrWindowSec,
    idleTimeoutSec: input.idleTimeoutSec ?? LIVE_LIMITS.defaultIdleTimeoutSec,
    createdAtMs: now.getTime(),
  };
  // The object first: until D1 has the rows nobody can find the event, and a failure
  // below leaves only an object nobody holds the token of.
  const status = await callDurableObject("live event", () => liveEventStub(env, liveId).setup(config), { requestId });
  const maxHeight = Math.max(...ladder.flatMap((r) => (r.kind === "video" ? [Math.min(r.width, r.height)] : [])));
  await catalogBatch(
    env.DB,
    [
      prepare(env.DB, orm.insert(assets).values({ id: liveId, status: "pending", durationSec: 0, maxHeight, createdAt: now })),
      // Only a title still without video: a concurrent link elsewhere wins, and this fails below.
      prepare(env.DB, orm.update(titles).set({ assetId: liveId, updatedAt: now }).where(and(eq(titles.id, titleId), isNull(titles.assetId)))),
      prepare(env.DB, orm.insert(liveEvents).values({ id: liveId, titleId, assetId: liveId, name: input.name, state: "waiting", createdAt: now })),
    ],
    [titleId],
  );
  const [linked] = await orm.select({ assetId: titles.assetId }).from(titles).where(eq(titles.id, titleId));
  if (linked?.assetId !== liveId) {
    await env.DB.batch([env.DB.prepare("DELETE FROM live_events WHERE id = ?").bind(liveId), env.DB.prepare("DELETE FROM assets WHERE id = ?").bind(liveId)]);
    throw new ApiError("CONFLICT", `${titleId} got another video meanwhile.`);
  }
  return { ...status, ingest: { baseUrl: ingestBaseUrl(origin, liveId), token } };
}

async function known(env: Env, liveId: string): Promise<void> {
  const [row] = await drizzle(env.DB).select({ id: liveEvents.id }).from(liveEvents).where(eq(liveEvents.id, liveId));
  if (!row) throw new ApiError("NOT_FOUND", `No live event ${liveId}.`);
}

export async function liveEventStatus(env: Env, liveId: string, requestId: string): Promise<LiveStatus> {
  await known(env, liveId);
  return callDurableObject("live event", () => liveEventStub(env, liveId).status(), { requestId });
}

export async function endLiveEvent(env: Env, liveId: string, requestId: string): Promise<LiveStatus> {
  await known(env, liveId);
  return callDurableObject("live event", () => liveEventStub(env, liveId).end("operator"), { requestId });
}
