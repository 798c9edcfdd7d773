// /v1/parties: watching together. Creating a party (the host must be allowed to play the
// title), reading one before joining, and the socket, which is let through to the party's
// Durable Object (durable-objects/watch-party.ts) only with a signed-in member who holds a
// live playback session of their own for the party's title: every member plays on their
// own account, with their own plan's screens and height, and their own profile's maturity.
import { createRoute, z } from "@hono/zod-openapi";
import type { JoinRefusal, VerifiedJoin } from "../../../durable-objects/watch-party.ts";
import { MEMBER_HEADER } from "../../../durable-objects/watch-party.ts";
import { ApiError, errorBodySchema } from "../../../lib/errors.ts";
import { base64UrlEncode } from "../../../lib/base64url.ts";
import { PARTY_LIMITS, REACTIONS } from "../../../lib/watch-party.ts";
import { partyIdSchema } from "../../../lib/watch-party-schema.ts";
import { shardForProfile } from "../../../lib/watch-shards/shards.ts";
import { requireAuth } from "../auth/require-auth.ts";
import { jsonBody, KB } from "../body-limits.ts";
import type { AppEnv } from "../env.ts";
import { chooseProfileId, decidePlay, loadPlayContext } from "../playback/start-checks.ts";
import { streamLeases } from "../playback/stream-leases.ts";
import { createRouter, errorDocs, json } from "../router.ts";
import { partyObject } from "./party-objects.ts";

const tags = ["parties"];
const security = [{ session: [] }];
const errors = errorDocs({
  400: "Invalid request",
  401: "Not signed in",
  403: "Not allowed: no plan, maturity, a locked profile (details.reason)",
  404: "No such title, episode or party (details.reason)",
  429: "RATE_LIMITED: more than 6 parties a minute from one account (Retry-After)",
  503: "The party could not be reached; retry after Retry-After",
});

const id = z.string().min(1).max(64);
const params = z.object({ partyId: partyIdSchema });

const createSchema = z
  .object({
    titleId: id,
    /** For a series: the episode to watch; without it, the one Play would choose for the host. */
    episodeId: id.optional(),
    /** Defaults to the profile entered on this device. */
    profileId: id.optional(),
  })
  .strict();

const partySchema = z
  .object({
    partyId: z.string(),
    titleId: z.string(),
    episodeId: z.string().nullable(),
    title: z.string(),
    durationSec: z.number(),
    hostId: z.string().nullable().openapi({ description: "The host's member id; null until someone has joined" }),
    hostName: z.string(),
    control: z.enum(["host", "everyone"]),
    waitForEveryone: z.boolean(),
    members: z.number().int(),
    full: z.boolean().openapi({ description: `${PARTY_LIMITS.maxMembers} members at most` }),
    expiresAt: z.string(),
  })
  .openapi("WatchParty");

const createdSchema = z
  .object({
    partyId: z.string(),
    inviteUrl: z.string().openapi({ description: "Send it to whoever should join: valid for the party's life, at most 24 hours" }),
    expiresAt: z.string(),
    party: partySchema,
  })
  .openapi("CreatedWatchParty");

const socketQuery = z.object({
  playbackSessionId: z.string().regex(/^pbs_[A-Za-z0-9_-]{16,60}$/, "a playback session id as this API gives them out"),
});

export const partyRoutes = createRouter();
partyRoutes.use("/v1/parties", requireAuth);
partyRoutes.use("/v1/parties/*", requireAuth);

partyRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/parties",
    tags,
    security,
    summary: "Start a watch party for a title: answers the invite link",
    request: { body: jsonBody(createSchema, 1 * KB) },
    responses: { 201: json(createdSchema, "Created: share inviteUrl"), 409: json(errorBodySchema, "CONFLICT: a live event is not watched in a party (details.reason live)"), ...errors },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const auth = c.get("auth");
    const profileId = chooseProfileId(auth, body.profileId);
    // Reserved before anything is made: each party is a Durable Object until it ends.
    if (!(await c.env.PARTY_RATE_LIMIT.limit({ key: `party:${auth.accountId}` })).success) {
      throw new ApiError("RATE_LIMITED", "Too many watch parties started from this account; try again in a minute.", { headers: { "Retry-After": "60" } });
    }
    const context = await loadPlayContext(c.env.DB, shardForProfile(c.env, profileId).db, auth.accountId, profileId, body.titleId);
    // The host must be able to play it now: the same checks as Play, without taking a screen.
    const plan = decidePlay(auth, body, context, new Date());
    if (plan.asset.live) throw new ApiError("CONFLICT", "A live event is watched together by being live: send the title's link instead.", { details: { reason: "live" } });
    const now = Date.now();
    const partyId = `pty_${base64UrlEncode(crypto.getRandomValues(new Uint8Array(16)))}`;
    const created = await partyObject(c.env, partyId, c.get("requestId")).create({
      partyId,
      titleId: plan.title.id,
      episodeId: plan.episode?.id ?? null,
      assetId: plan.asset.id,
      title: plan.displayName,
      durationSec: plan.asset.durationSec,
      creatorProfileId: plan.profile.id,
      creatorName: plan.profile.name,
      createdAtMs: now,
      expiresAtMs: now + PARTY_LIMITS.maxLifetimeMs,
    });
    // 128 random bits: a clash is as likely as guessing one.
    if (!created.ok) throw new ApiError("UNAVAILABLE", "Could not start a party; try again.", { headers: { "Retry-After": "1" } });
    const inviteUrl = `${new URL(c.req.url).origin}/party/${partyId}`;
    return c.json({ partyId, inviteUrl, expiresAt: created.party.expiresAt, party: created.party }, 201);
  },
);

partyRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/parties/{partyId}",
    tags,
    security,
    summary: "A party as an invitee sees it before joining (title, host, whether it is full)",
    request: { params },
    responses: { 200: json(partySchema, "The party"), ...errors },
  }),
  async (c) => {
    const party = await partyObject(c.env, c.req.valid("param").partyId, c.get("requestId")).info(Date.now());
    if (!party) throw new ApiError("NOT_FOUND", "This watch party has ended or never existed.", { details: { reason: "party_ended" } });
    return c.json(party, 200);
  },
);

partyRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/parties/{partyId}/socket",
    tags,
    security,
    summary: "Join: a WebSocket to the party (protocol in docs/watch-party.md). Needs your own playback session for the party's title.",
    description: `Messages are JSON, at most ${PARTY_LIMITS.maxMessageChars} characters, rate-limited per member; reactions are one of ${REACTIONS.join(" ")}.`,
    request: { params, query: socketQuery },
    responses: {
      101: { description: "Switching protocols: the socket is open and the first message is `welcome`" },
      409: json(errorBodySchema, "CONFLICT: the party is full (details.reason party_full)"),
      ...errors,
    },
  }),
  async (c) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      throw new ApiError("VALIDATION_FAILED", "Connect with a WebSocket (Upgrade: websocket).", { details: { reason: "upgrade_required" } });
    }
    // A page on another site may open a socket here with the member's cookie riding along
    // (cross-site WebSocket hijacking): a browser always says where the page came from.
    const origin = c.req.header("origin");
    if (origin !== undefined && origin !== new URL(c.req.url).origin) {
      throw new ApiError("FORBIDDEN", "Sockets open from this site's own pages only.", { details: { reason: "origin" } });
    }
    const auth = c.get("auth");
    const { partyId } = c.req.valid("param");
    const lease = await streamLeases(c.env, auth.accountId, c.get("requestId")).stream(c.req.valid("query").playbackSessionId, auth.sessionId);
    if (!lease) {
      throw new ApiError("FORBIDDEN", "Start playback of the party's title first: the socket needs your live playback session for it.", { details: { reason: "no_playback_session" } });
    }
    const profile = await c.env.DB.prepare("SELECT avatar FROM profiles WHERE id = ? AND account_id = ?").bind(lease.profileId, auth.accountId).first<{ avatar: string }>();
    if (!profile) throw new ApiError("NOT_FOUND", "No such profile on this account.", { details: { reason: "wrong_profile" } });
    const join: VerifiedJoin = {
      streamId: lease.id,
      accountId: auth.accountId,
      profileId: lease.profileId,
      name: lease.profileName,
      avatar: profile.avatar,
      titleId: lease.titleId,
      episodeId: lease.episodeId,
    };
    const response = await partyObject(c.env, partyId, c.get("requestId")).fetch("https://party.internal/socket", { headers: { upgrade: "websocket", [MEMBER_HEADER]: JSON.stringify(join) } });
    if (response.status === 101) return response;
    const refused = (await response.json()) as JoinRefusal;
    throw new ApiError(refused.code, refused.message, { details: { reason: refused.reason } });
  },
);
