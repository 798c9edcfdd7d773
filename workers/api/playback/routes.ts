// /v1/playback/sessions: pressing Play (one call answers everything the player needs),
// keeping a stream alive with heartbeats, stopping it, and the account's active streams.
import { shardForProfile } from "../../../lib/watch-shards/shards.ts";
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { ActiveStream, EndReason } from "../../../durable-objects/account-streams.ts";
import { ApiError, errorBodySchema } from "../../../lib/errors.ts";
import { steeringManifestSchema } from "../../../lib/hls-start.ts";
import { requireAuth } from "../auth/require-auth.ts";
import type { AppEnv } from "../env.ts";
import { createRouter, errorDocs, json } from "../router.ts";
import { planStateOf } from "./plan-sync.ts";
import { viewerCountry } from "../../../lib/viewer-country.ts";
import { extrasUrls, grantMedia, inlinePlaylists, NO_INLINE, playbackKeys, provisionalGrant, startInline } from "./playback-urls.ts";
import { HEARTBEAT_INTERVAL_SEC, LEASE_TTL_SEC, PREPARED_LEASE_TTL_SEC } from "./policy.ts";
import { chooseProfileId, decidePlay, loadPlayContext } from "./start-checks.ts";
import { newStreamId } from "./stream-ids.ts";
import { streamLeases } from "./stream-leases.ts";
import { jsonBody, KB } from "../body-limits.ts";
import { skipSegmentKinds } from "../../../lib/skip-segments.ts";

const tags = ["playback"];
const security = [{ session: [] }];
const errors = errorDocs({
  400: "Invalid request",
  401: "Not signed in",
  403: "Not allowed: no plan, maturity, a locked or kids profile (details.reason)",
  404: "No such title, episode, published video, profile or stream (details.reason)",
  503: "Streams could not be checked; retry after Retry-After",
});

const id = z.string().min(1).max(64);
const streamId = z.string().regex(/^pbs_[A-Za-z0-9_-]{16,60}$/, "a playback session id as this API gives them out");

const startSchema = z
  .object({
    titleId: id,
    /** For a series; without it, Play resumes where the profile left off (or starts at episode 1). */
    episodeId: id.optional(),
    /** Defaults to the profile entered on this device. */
    profileId: id.optional(),
    /** Ends this stream of the account first, atomically, when every screen is in use. */
    endStreamId: streamId.optional(),
    /**
     * A client-made id (e.g. a UUID) that makes a retried start idempotent: the same id
     * from the same device answers the same stream instead of taking a second screen.
     */
    clientSessionId: z.string().regex(/^[A-Za-z0-9-]{16,48}$/).optional(),
    /**
     * Started on the viewer's intent (hover, focus or touch of Play), before the press: the
     * lease lives 20 s unless the press confirms it — a heartbeat, or this call again with
     * the same clientSessionId and without `prepared`.
     */
    prepared: z.boolean().optional(),
  })
  .strict();

const activeStreamSchema = z
  .object({
    id: z.string(),
    deviceName: z.string(),
    profileName: z.string(),
    titleId: z.string(),
    episodeId: z.string().nullable(),
    titleName: z.string(),
    since: z.string(),
    positionSec: z.number(),
    thisDevice: z.boolean(),
  })
  .openapi("ActiveStream");

const grantSchema = z.object({
  hlsUrl: z.string(),
  dashUrl: z.string(),
  /** Until when the URLs work; each heartbeat answers new ones. */
  tokenExpiresAt: z.string(),
  maxHeight: z.number(),
});

const startGrantSchema = grantSchema.extend({
  /**
   * The text of `hlsUrl` (the multivariant playlist), so the player can skip one round
   * trip before the first frame; its relative URIs resolve against `hlsUrl`. Null if the
   * media Worker did not answer in time: fetch `hlsUrl` as usual.
   */
  hlsMaster: z.string().nullable(),
  /**
   * The media playlists a player starts on (the first variant and its default audio),
   * with their absolute URLs, when the media Worker answered in time: a player that
   * answers these URLs from memory goes from this answer straight to its first segments.
   */
  hlsPlaylists: z.array(z.object({ url: z.string(), text: z.string() })),
  /**
   * The variant to start on (hls.js `startLevel`: its index among the variants sorted by
   * height, then bandwidth), the one whose playlist `hlsPlaylists` carries; null without them.
   */
  hlsStartVariant: z.number().nullable(),
  /**
   * The init segments (EXT-X-MAP) of `hlsPlaylists`, by absolute URL, with their bytes in
   * unpadded base64url: a player that answers these URLs from memory needs only the first
   * media segments before its first frame. Empty when the media Worker did not put them in.
   */
  hlsInitSegments: z.array(z.object({ url: z.string(), data: z.string() })),
  /**
   * For a steered master (EXT-X-CONTENT-STEERING), the steering manifest its SERVER-URI
   * would answer now: a player may take it for its first load of that URI (hls.js asks at
   * once) and ask the server only when its TTL runs out. Null otherwise.
   */
  hlsSteering: steeringManifestSchema.nullable(),
});

const episodeRefSchema = z.object({ id: z.string(), seasonNumber: z.number(), number: z.number(), name: z.string() });

const startedSchema = z
  .object({
    id: z.string(),
    titleId: z.string(),
    episodeId: z.string().nullable(),
    assetId: z.string(),
    title: z.string(),
    /** 0 while `live`: the title is a live event on now, played from its live edge (its DVR window behind). */
    durationSec: z.number(),
    live: z.boolean(),
    media: startGrantSchema,
    resume: z.object({ positionSec: z.number() }),
    heartbeat: z.object({ url: z.string(), intervalSec: z.number() }),
    lease: z.object({ expiresAt: z.string(), ttlSec: z.number() }),
    trickPlayUrl: z.string().nullable(),
    posterUrl: z.string().nullable(),
    subtitles: z.array(z.object({ lang: z.string(), name: z.string(), default: z.boolean(), url: z.string() })),
    nextEpisode: episodeRefSchema.nullable(),
    /** The intro, recap and credits to offer a skip for (docs/skip-segments.md), in time order. */
    skipSegments: z.array(z.object({ kind: z.enum(skipSegmentKinds), startSec: z.number(), endSec: z.number() })),
    /** The profile's "skip intros automatically": skip intros and recaps without a press (never credits). */
    autoSkip: z.boolean(),
  })
  .openapi("PlaybackSession");

const heartbeatSchema = z
  .object({
    positionSec: z.number().min(0).max(7 * 24 * 3600),
  })
  .strict();

const heartbeatAnswerSchema = z
  .object({ id: z.string(), media: grantSchema, lease: z.object({ expiresAt: z.string(), ttlSec: z.number() }), heartbeat: z.object({ url: z.string(), intervalSec: z.number() }) })
  .openapi("PlaybackHeartbeat");

const heartbeatUrl = (playbackSessionId: string) => `/v1/playback/sessions/${playbackSessionId}/heartbeat`;

function describeStream(s: ActiveStream, deviceSessionId: string): z.infer<typeof activeStreamSchema> {
  return {
    id: s.id,
    deviceName: s.deviceName,
    profileName: s.profileName,
    titleId: s.titleId,
    episodeId: s.episodeId,
    titleName: s.titleName,
    since: new Date(s.startedAt).toISOString(),
    positionSec: s.positionSec,
    thisDevice: s.deviceSessionId === deviceSessionId,
  };
}

function grantFor(c: Context<AppEnv>, lease: ActiveStream) {
  return grantMedia({
    env: c.env,
    requestUrl: c.req.url,
    assetId: lease.assetId,
    accountId: c.get("auth").accountId,
    playbackSessionId: lease.id,
    maxHeight: lease.maxHeight,
    leaseExpiresAtMs: lease.expiresAt,
    leaseStartedAtMs: lease.startedAt,
  });
}

const leaseSchema = (lease: ActiveStream, ttlSec = LEASE_TTL_SEC) => ({ expiresAt: new Date(lease.expiresAt).toISOString(), ttlSec });

export const playbackRoutes = createRouter();
playbackRoutes.use("/v1/playback/sessions/*", requireAuth);

playbackRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/playback/sessions",
    tags,
    security,
    summary: "Press Play: checks entitlement, takes a screen, answers the media URLs and the resume point",
    request: { body: jsonBody(startSchema, 2 * KB) },
    responses: {
      201: json(startedSchema, "Started: everything the player needs"),
      200: json(startedSchema, "The same stream again (a retry with the same clientSessionId, from the same device, for the same title)"),
      409: json(errorBodySchema, "TOO_MANY_STREAMS: every screen of the plan is in use (details.streams, and how to end one)"),
      ...errors,
    },
  }),
  async (c) => {
    const body = c.req.valid("json");
    // A hover must never end someone's stream: only a press may swap one out.
    if (body.prepared && body.endStreamId !== undefined) {
      throw new ApiError("VALIDATION_FAILED", "The request json is not valid.", { details: [{ path: "endStreamId", message: "a prepared start cannot end another stream" }] });
    }
    const auth = c.get("auth");
    const profileId = chooseProfileId(auth, body.profileId);
    // Where the Play's time goes (Server-Timing: the browser's resource timing shows it;
    // bench:playback prints it). "auth": everything before this handler, the session check most.
    const timing = c.get("timing");
    timing.mark("auth");
    const context = await loadPlayContext(c.env.DB, shardForProfile(c.env, profileId).db, auth.accountId, profileId, body.titleId);
    timing.mark("context");
    const plan = decidePlay(auth, body, context, new Date());
    const leases = streamLeases(c.env, auth.accountId, c.get("requestId"));
    const id = await newStreamId(
      await playbackKeys(c.env.PLAYBACK_TOKEN_KEYS),
      { accountId: auth.accountId, profileId: plan.profile.id, titleId: plan.title.id, episodeId: plan.episode?.id ?? null },
      { deviceSessionId: auth.sessionId, clientSessionId: body.clientSessionId },
    );
    // The start bundle is fetched while the lease is taken, under a provisional token for
    // this stream (playback-urls.ts); a live playlist changes every segment, so a live
    // player fetches its own.
    const country = viewerCountry(c.req.raw);
    let early: ReturnType<typeof startInline> | null = null;
    if (!plan.asset.live) {
      const provisional = await provisionalGrant({ env: c.env, requestUrl: c.req.url, assetId: plan.asset.id, accountId: auth.accountId, playbackSessionId: id, maxHeight: plan.plan.maxHeight });
      early = startInline(c.env, provisional, { maxHeight: plan.plan.maxHeight, country }, c.get("requestId"));
      // A refused Play answers before the bundle does; other Plays of the title may be waiting on it.
      c.executionCtx.waitUntil(early.loaded);
    }
    const result = await leases.acquire(
      {
        id,
        deviceSessionId: auth.sessionId,
        deviceName: auth.deviceName,
        profileId: plan.profile.id,
        profileName: plan.profile.name,
        titleId: plan.title.id,
        episodeId: plan.episode?.id ?? null,
        titleName: plan.displayName,
        assetId: plan.asset.id,
        maxHeight: plan.plan.maxHeight,
        ...(body.prepared ? { prepared: true } : {}),
      },
      planStateOf(context.subscription),
      body.endStreamId,
      { deviceSessionId: auth.sessionId, profileId: auth.profileId, isKids: auth.isKidsProfile },
    );
    if (!result.ok) {
      if (result.code === "TOO_MANY_STREAMS") {
        throw new ApiError("TOO_MANY_STREAMS", "Too many people are using your account right now.", {
          details: {
            limit: result.limit,
            plan: plan.plan.id,
            streams: result.streams.map((s) => describeStream(s, auth.sessionId)),
            // Two ways out: stop one (DELETE), or start again with endStreamId to swap in one call.
            endStream: { method: "DELETE", href: "/v1/playback/sessions/{id}", orRetryWith: "endStreamId" },
          },
        });
      }
      if (result.code === "ID_IN_USE") throw new ApiError("CONFLICT", "That clientSessionId belongs to another device's stream.");
      if (result.code === "NO_PLAN") throw new ApiError("FORBIDDEN", "Choose a plan to start watching.", { details: { reason: "no_subscription" } });
      if (result.code === "OTHER_PROFILE") {
        throw new ApiError("FORBIDDEN", "A kids profile can end only its own streams.", { details: { reason: "kids_profile" } });
      }
      throw new ApiError("STREAM_ENDED", "That stream has ended; start playback again with a new clientSessionId.", { details: { reason: result.reason } });
    }
    timing.mark("lease");
    const lease = result.lease;
    const media = await grantFor(c, lease);
    // A live playlist changes every segment: the player fetches it itself.
    // The lease may be one this device already had (a retry), for another asset or height:
    // then the provisional bundle is not this stream's.
    const inline =
      early === null
        ? NO_INLINE
        : lease.assetId === plan.asset.id && lease.maxHeight === plan.plan.maxHeight
          ? await early.write(media)
          : await inlinePlaylists(c.env, media, { maxHeight: lease.maxHeight, country }, c.get("requestId"));
    timing.mark("playlists");
    c.header("Server-Timing", timing.header());
    const extras = extrasUrls(media.baseUrl, plan.asset.extras);
    const ep = (e: typeof plan.episode) => (e ? { id: e.id, seasonNumber: e.seasonNumber, number: e.number, name: e.name } : null);
    return c.json(
      {
        id: lease.id,
        titleId: plan.title.id,
        episodeId: plan.episode?.id ?? null,
        assetId: plan.asset.id,
        title: plan.displayName,
        durationSec: plan.asset.durationSec,
        live: plan.asset.live,
        media: { hlsUrl: media.hlsUrl, dashUrl: media.dashUrl, tokenExpiresAt: media.tokenExpiresAt, maxHeight: lease.maxHeight, hlsMaster: inline.master, hlsPlaylists: inline.playlists, hlsStartVariant: inline.startVariant, hlsInitSegments: inline.inits, hlsSteering: inline.steering },
        resume: { positionSec: plan.resumeSec },
        heartbeat: { url: heartbeatUrl(lease.id), intervalSec: HEARTBEAT_INTERVAL_SEC },
        lease: leaseSchema(lease, body.prepared ? PREPARED_LEASE_TTL_SEC : LEASE_TTL_SEC),
        ...extras,
        nextEpisode: ep(plan.nextEpisode),
        skipSegments: plan.skipSegments,
        autoSkip: plan.autoSkip,
      },
      result.granted === "new" ? 201 : 200,
    );
  },
);

playbackRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/playback/sessions",
    tags,
    security,
    summary: "The account's active streams",
    responses: { 200: json(z.object({ streams: z.array(activeStreamSchema) }), "Active streams, oldest first"), ...errors },
  }),
  async (c) => {
    const auth = c.get("auth");
    const streams = await streamLeases(c.env, auth.accountId, c.get("requestId")).list();
    return c.json({ streams: streams.map((s) => describeStream(s, auth.sessionId)) }, 200);
  },
);

playbackRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/playback/sessions/{id}/heartbeat",
    tags,
    security,
    summary: "Keep a stream alive (every heartbeat.intervalSec) and report the position; answers fresh media URLs",
    request: { params: z.object({ id: streamId }), body: jsonBody(heartbeatSchema, 1 * KB) },
    responses: {
      200: json(heartbeatAnswerSchema, "Still yours"),
      409: json(errorBodySchema, "STREAM_ENDED: stopped, ended from another device, expired, the plan ended or has fewer screens now, or 12 hours reached (details.reason); the player must stop"),
      ...errors,
    },
  }),
  async (c) => {
    const auth = c.get("auth");
    const playbackSessionId = c.req.valid("param").id;
    const result = await streamLeases(c.env, auth.accountId, c.get("requestId")).heartbeat(playbackSessionId, auth.sessionId, c.req.valid("json").positionSec);
    if (!result.ok) {
      if (result.code === "OTHER_DEVICE") throw new ApiError("NOT_FOUND", "No such stream on this device.", { details: { reason: "other_device" } });
      const messages = {
        released: "This stream was stopped.",
        ended_by_other_device: "This stream was ended from another device of the account.",
        expired: "This stream stopped sending heartbeats and has ended; start playback again.",
        plan_ended: "The account's plan no longer includes streaming; choose a plan to keep watching.",
        plan_limit: "The account's plan now allows fewer screens at once, and this stream started last.",
        max_lifetime: "This stream has played for 12 hours; press Play again to go on.",
        unknown: "No such stream; start playback again.",
      } as const satisfies Record<EndReason | "unknown", string>;
      throw new ApiError("STREAM_ENDED", messages[result.reason], { details: { reason: result.reason } });
    }
    const media = await grantFor(c, result.lease);
    return c.json(
      {
        id: result.lease.id,
        media: { hlsUrl: media.hlsUrl, dashUrl: media.dashUrl, tokenExpiresAt: media.tokenExpiresAt, maxHeight: result.lease.maxHeight },
        lease: leaseSchema(result.lease),
        heartbeat: { url: heartbeatUrl(result.lease.id), intervalSec: HEARTBEAT_INTERVAL_SEC },
      },
      200,
    );
  },
);

playbackRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/v1/playback/sessions/{id}",
    tags,
    security,
    summary: "Stop a stream now: this device's, or another device's of the account (frees its screen)",
    request: { params: z.object({ id: streamId }) },
    responses: { 204: { description: "Stopped" }, ...errors },
  }),
  async (c) => {
    const auth = c.get("auth");
    const playbackSessionId = c.req.valid("param").id;
    // Ending another profile's stream is an account action, which a kids profile may not take.
    const ender = { deviceSessionId: auth.sessionId, profileId: auth.profileId, isKids: auth.isKidsProfile };
    const result = await streamLeases(c.env, auth.accountId, c.get("requestId")).release(playbackSessionId, ender);
    if (!result.ok) {
      if (result.code === "OTHER_PROFILE") {
        throw new ApiError("FORBIDDEN", "A kids profile can end only its own streams.", { details: { reason: "kids_profile" } });
      }
      throw new ApiError("NOT_FOUND", "No such active stream on this account.");
    }
    return c.body(null, 204);
  },
);
