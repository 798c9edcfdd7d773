// The api's authorization matrix: every route of `createApp()` (a route without a row
// fails the first test) against every kind of caller — anonymous, an expired session, a
// signed-out session, a garbage token, the admin token used as a session, a wrong admin
// token, another account, another profile of the owner's account (a device in a second
// adult profile, reaching for the owner's PIN-locked profile), a device in a kids profile
// reaching for the adult profile and R-rated titles, and another site riding on the
// owner's cookie without the CSRF token. Every cell is declared: the status (and for /v1
// refusals, the code and reason in the standard error body), the redirect of a page, the
// same answer as anonymous for public routes, or why a caller is not sent at all (it is
// allowed by the route's contract and would change state). The owner's data and the
// catalog are unchanged afterwards.
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { errorBodySchema, type ErrorCode } from "../../../lib/errors.ts";
import { createApp } from "../app.ts";
import { createSession } from "../auth/sessions.ts";
import { csrfTokenFor, sessionIdFor } from "../auth/session-tokens.ts";
import { call } from "./auth-client.ts";
import { memberOn, seedPlayableCatalog, startPlayback, started } from "./playback-client.ts";

const ORIGIN = "https://marquee.test";
const PIN = "4321";

// ---------------------------------------------------------------------------------------
// The owner: premium, its first profile locked with a PIN (entered with it on the owner's
// device), a kids profile and a guest profile, one stream playing, a title in My List, a
// thumbs up, a finished title in the history and one in Continue Watching.
// ---------------------------------------------------------------------------------------

await seedPlayableCatalog();

async function ok(res: Response | Promise<Response>, status: number, what: string): Promise<any> {
  const r = await res;
  const text = await r.text();
  if (r.status !== status) throw new Error(`setup ${what}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

const owner = await memberOn("premium");
const ownerProfileId = owner.profileId;
await ok(call(`/v1/profiles/${ownerProfileId}`, { method: "PATCH", headers: owner.headers, json: { pin: PIN } }), 200, "set the owner's PIN");
await ok(call(`/v1/profiles/${ownerProfileId}/enter`, { headers: owner.headers, json: { pin: PIN } }), 200, "enter the owner's profile");
const kidsProfileId = (await ok(call("/v1/profiles", { headers: owner.headers, json: { name: "Kid", isKids: true } }), 201, "kids profile")).id as string;
const guestProfileId = (await ok(call("/v1/profiles", { headers: owner.headers, json: { name: "Guest" } }), 201, "guest profile")).id as string;
const stream = await started(await startPlayback(owner.headers, { titleId: "first-light", profileId: ownerProfileId }));
await ok(call(`/v1/profiles/${ownerProfileId}/list/first-light`, { method: "PUT", headers: owner.headers }), 201, "My List");
await ok(call(`/v1/profiles/${ownerProfileId}/ratings/first-light`, { method: "PUT", headers: owner.headers, json: { rating: "up" } }), 200, "thumbs up");
const nowMs = Date.now();
await env.DB.batch([
  env.DB.prepare("INSERT INTO watch_history (profile_id, title_id, episode_key, episode_id, finished_at) VALUES (?, 'first-light', '', NULL, ?)").bind(ownerProfileId, nowMs - 60_000),
  env.DB.prepare(
    "INSERT INTO watch_progress (profile_id, title_id, episode_id, position_sec, duration_sec, completed, event_at, updated_at) VALUES (?, 'late-night', NULL, 2, 6, 0, ?, ?)",
  ).bind(ownerProfileId, nowMs, nowMs),
]);
const ownerSessionId = await sessionIdFor(owner.token);
const party = (await ok(call("/v1/parties", { headers: owner.headers, json: { titleId: "first-light", profileId: ownerProfileId } }), 201, "the owner's watch party")) as { partyId: string };

/** Another signed-in device of the owner's account, optionally inside a profile. */
async function ownerDevice(name: string, profileId?: string): Promise<string> {
  const { token } = await createSession(env.DB, owner.accountId, "device", name, new Date());
  if (profileId) await ok(call(`/v1/profiles/${profileId}/enter`, { headers: { Authorization: `Bearer ${token}` }, json: {} }), 200, `enter on ${name}`);
  return token;
}

const kidsToken = await ownerDevice("Kids tablet", kidsProfileId);
const guestToken = await ownerDevice("Guest phone", guestProfileId);
const expiredToken = await ownerDevice("Forgotten tablet");
await env.DB.prepare("UPDATE sessions SET expires_at = ? WHERE id = ?").bind(Date.now() - 1000, await sessionIdFor(expiredToken)).run();
const signedOutToken = await ownerDevice("Old phone");
await ok(call("/v1/auth/logout", { method: "POST", headers: { Authorization: `Bearer ${signedOutToken}` } }), 204, "sign the old phone out");

const stranger = await memberOn("premium");
await ok(call(`/v1/profiles/${stranger.profileId}/enter`, { headers: stranger.headers, json: {} }), 200, "stranger enters its profile");

/** What no answer to another account may contain. */
const OWNER_SECRETS = [owner.accountId, owner.email, ownerProfileId, kidsProfileId, guestProfileId, ownerSessionId, stream.id];

// ---------------------------------------------------------------------------------------
// The callers.
// ---------------------------------------------------------------------------------------

const CALLERS = ["anonymous", "expired", "signedOut", "garbage", "adminToken", "wrongAdminToken", "otherAccount", "otherProfile", "kids", "crossSite"] as const;
type CallerName = (typeof CALLERS)[number];

type Caller = { label: string; token: string | null; csrf: string | null; crossSite?: true };

const wrongAdmin = env.ADMIN_TOKEN.slice(0, -1) + (env.ADMIN_TOKEN.endsWith("0") ? "1" : "0");

const callers: Record<CallerName, Caller> = {
  anonymous: { label: "anonymous", token: null, csrf: null },
  expired: { label: "an expired session", token: expiredToken, csrf: await csrfTokenFor(expiredToken) },
  signedOut: { label: "a signed-out session", token: signedOutToken, csrf: await csrfTokenFor(signedOutToken) },
  garbage: { label: "a garbage token", token: "not-a-session-token", csrf: null },
  adminToken: { label: "the admin token", token: env.ADMIN_TOKEN, csrf: null },
  wrongAdminToken: { label: "a wrong admin token", token: wrongAdmin, csrf: null },
  otherAccount: { label: "another account", token: stranger.token, csrf: await csrfTokenFor(stranger.token) },
  otherProfile: { label: "another profile's device (guest)", token: guestToken, csrf: await csrfTokenFor(guestToken) },
  kids: { label: "a kids profile's device", token: kidsToken, csrf: await csrfTokenFor(kidsToken) },
  crossSite: { label: "another site with the owner's cookie", token: owner.token, csrf: null, crossSite: true },
};

// ---------------------------------------------------------------------------------------
// Cells and rows.
// ---------------------------------------------------------------------------------------

/** A refusal in the standard error body (JSON API). */
type Refused = { refused: 400 | 401 | 403 | 404 | 409; code: ErrorCode; reason?: string; challenge?: string };
/** An answer: a status, for pages the redirect, what must (not) be in the body. */
type Answer = { status: number; location?: string; html?: true; shows?: string[]; hides?: string[]; why?: string };
/** The same status and body (request ids aside) as the anonymous caller's. */
type Same = { same: true };
/** Not sent: allowed by the route's contract, and it would change what it may change. */
type Skip = { skip: string };
type Cell = Refused | Answer | Same | Skip;

type Req = {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  json?: unknown;
  form?: (who: Caller) => Record<string, string>;
  body?: string;
  contentType?: string;
  /** A WebSocket handshake (Upgrade: websocket), which a browser sends with the page's Origin, also cross-site. */
  upgrade?: true;
};

type Row = { route: string; name: string; transport: "bearer" | "cookie"; req: Req; cells: Record<CallerName, Cell> };

const STALE = ["anonymous", "expired", "signedOut", "garbage", "adminToken", "wrongAdminToken"] as const;
const unauthorized: Refused = { refused: 401, code: "UNAUTHORIZED", challenge: 'Bearer realm="marquee"' };
const csrf: Refused = { refused: 403, code: "FORBIDDEN", reason: "csrf" };
const kidsRefused: Refused = { refused: 403, code: "FORBIDDEN", reason: "kids_profile" };
const notFound: Refused = { refused: 404, code: "NOT_FOUND" };
const cookieRead: Answer = { status: 200, why: "the owner's own cookie: reads need no CSRF token; another site cannot read the answer" };
const ownAnswer = (why: string): Answer => ({ status: 200, hides: OWNER_SECRETS, why });
const sameAccountRead = (why: string): Answer => ({ status: 200, why });
/** A PIN-locked profile is reached only from a device that entered it (auth-context.ts `refuseLockedProfile`). */
const locked: Cell = { refused: 403, code: "FORBIDDEN", reason: "profile_locked" };

const fill = (cell: Cell) => Object.fromEntries(STALE.map((c) => [c, cell])) as Record<(typeof STALE)[number], Cell>;

/** A /v1 route that needs a session: the stale callers are 401; writes by another site 403 (csrf). */
function member(route: string, name: string, req: Req, cells: Pick<Record<CallerName, Cell>, "otherAccount" | "otherProfile" | "kids"> & Partial<Record<CallerName, Cell>>): Row {
  return { route, name, transport: "bearer", req, cells: { ...fill(unauthorized), crossSite: req.method === "GET" ? cookieRead : csrf, ...cells } };
}

/** A /v1 admin route: only the admin token, which this matrix does not send (admin-*.test.ts). */
function admin(route: string, name: string, req: Req): Row {
  const refused: Refused = { refused: 401, code: "UNAUTHORIZED", challenge: 'Bearer realm="marquee-admin"' };
  const cells = Object.fromEntries(CALLERS.map((c) => [c, refused])) as Record<CallerName, Cell>;
  return { route, name, transport: "bearer", req, cells: { ...cells, adminToken: { skip: "the admin: admin-catalog, admin-catalog-import and admin-ingest tests" } } };
}

/** A live ingest route: only the event's ingest token, which no caller here has, not even the admin (live.test.ts sends it). */
function ingest(route: string, name: string, req: Req): Row {
  const refused: Refused = { refused: 401, code: "UNAUTHORIZED", challenge: 'Bearer realm="marquee-live-ingest"' };
  const cells = Object.fromEntries(CALLERS.map((c) => [c, refused])) as Record<CallerName, Cell>;
  return { route, name, transport: "bearer", req, cells };
}

/** An operators' page: HTTP Basic with the admin token, which no member caller has; the browser is asked for it. */
function adminPage(route: string, name: string, req: Req): Row {
  const asked: Answer = { status: 401, why: "a Basic challenge (WWW-Authenticate) makes the browser ask for the admin token" };
  const cells = Object.fromEntries(CALLERS.map((c) => [c, asked])) as Record<CallerName, Cell>;
  return { route, name, transport: "cookie", req, cells: { ...cells, adminToken: { skip: "the admin: qoe.test.ts (Basic and Bearer)" } } };
}

/** A public route: anonymous gets `anonymous`, everyone else the very same answer unless overridden. */
function open(route: string, name: string, req: Req, anonymous: Cell, overrides: Partial<Record<CallerName, Cell>> = {}, transport: Row["transport"] = "bearer"): Row {
  const cells = Object.fromEntries(CALLERS.map((c) => [c, { same: true }])) as Record<CallerName, Cell>;
  return { route, name, transport, req, cells: { ...cells, anonymous, ...overrides } };
}

/** A member page: the stale callers go to /login. */
function memberPage(route: string, name: string, req: Req, cells: Pick<Record<CallerName, Cell>, "otherAccount" | "otherProfile" | "kids" | "crossSite">, login = "/login"): Row {
  return { route, name, transport: "cookie", req, cells: { ...fill({ status: 303, location: login }), ...cells } };
}

const get = (path: string): Req => ({ method: "GET", path });
const ownerProfile = `/v1/profiles/${ownerProfileId}`;
const watchEvent = { id: "evt-matrix-000001", type: "heartbeat", playbackSessionId: stream.id, profileId: ownerProfileId, titleId: "first-light", positionSec: 1, durationSec: 6, clientTime: Date.now() };
const qoeReport = {
  id: "qoe-matrix-000001",
  playbackSessionId: stream.id,
  profileId: ownerProfileId,
  titleId: "first-light",
  seq: 0,
  clientTime: Date.now(),
  planHeight: 2160,
  playingMs: 1000,
  stalls: 0,
  stallMs: 0,
  switches: 0,
  heightMs: { "720": 1000 },
  kbpsMs: 1_000_000,
  droppedFrames: 0,
  fatalErrors: 0,
  recoveredErrors: 0,
};
const page200 = (why?: string, extra: Partial<Answer> = {}): Answer => ({ status: 200, html: true, ...(why ? { why } : {}), ...extra });
const toHome: Answer = { status: 303, location: "/", why: "already signed in" };

const rows: Row[] = [
  // --- operations, documents, plans: public -------------------------------------------
  open("GET /healthz", "health", get("/healthz"), { status: 200, shows: ['"ok":true'] }),
  open("GET /v1/openapi.json", "the OpenAPI document", get("/v1/openapi.json"), { status: 200, shows: ['"openapi":"3.1.0"'] }),
  open("GET /v1/plans", "the plans", get("/v1/plans"), { status: 200, shows: ['"premium"'] }),

  // --- accounts and sessions ----------------------------------------------------------
  open("POST /v1/auth/signup", "sign up with the owner's email", { method: "POST", path: "/v1/auth/signup", json: { email: owner.email, password: "another long passphrase 4417" } }, { refused: 409, code: "CONFLICT" }),
  open("POST /v1/auth/login", "sign in with a malformed email", { method: "POST", path: "/v1/auth/login", json: { email: "not an email", password: "x" } }, { refused: 400, code: "VALIDATION_FAILED" }),
  member("POST /v1/auth/logout", "sign out", { method: "POST", path: "/v1/auth/logout" }, {
    otherAccount: { skip: "ends its own session only (auth.security tests)" },
    otherProfile: { skip: "ends its own session only" },
    kids: { skip: "ends its own session only" },
  }),
  member("POST /v1/auth/logout-all", "sign out everywhere", { method: "POST", path: "/v1/auth/logout-all" }, {
    otherAccount: { skip: "signs out its own account only" },
    otherProfile: { skip: "any adult device of the account may (docs/accounts.md)" },
    kids: kidsRefused,
  }),
  member("GET /v1/auth/sessions", "the account's devices", get("/v1/auth/sessions"), {
    otherAccount: ownAnswer("its own devices"),
    otherProfile: sameAccountRead("a device of the account"),
    kids: sameAccountRead("a kids device may list the account's devices (docs/accounts.md)"),
  }),
  member("DELETE /v1/auth/sessions/:id", "sign the owner's device out", { method: "DELETE", path: `/v1/auth/sessions/${ownerSessionId}` }, {
    otherAccount: notFound,
    otherProfile: { skip: "any adult device may sign out another device of the account (docs/accounts.md)" },
    kids: kidsRefused,
  }),
  member("GET /v1/me", "who am I", get("/v1/me"), {
    otherAccount: ownAnswer("its own account"),
    otherProfile: sameAccountRead("a device of the account"),
    kids: sameAccountRead("a kids device may read the account"),
  }),

  // --- profiles -------------------------------------------------------------------------
  member("GET /v1/profiles", "the account's profiles", get("/v1/profiles"), {
    otherAccount: ownAnswer("its own profiles"),
    otherProfile: sameAccountRead("a device of the account"),
    kids: sameAccountRead("a kids device may list the profiles (to switch)"),
  }),
  member("POST /v1/profiles", "add a profile", { method: "POST", path: "/v1/profiles", json: { name: "Intruder" } }, {
    otherAccount: { skip: "adds to its own account" },
    otherProfile: { skip: "any adult device of the account may (docs/accounts.md)" },
    kids: kidsRefused,
  }),
  member("PATCH /v1/profiles/:id", "remove the owner's PIN", { method: "PATCH", path: ownerProfile, json: { pin: null } }, {
    otherAccount: notFound,
    otherProfile: locked,
    kids: kidsRefused,
  }),
  member("PATCH /v1/profiles/:id", "remove the owner's PIN with a wrong account password", { method: "PATCH", path: ownerProfile, json: { pin: null, password: "not the owner's password" } }, {
    otherAccount: notFound,
    otherProfile: { refused: 403, code: "FORBIDDEN", reason: "wrong_password" },
    kids: kidsRefused,
  }),
  member("DELETE /v1/profiles/:id", "delete the owner's profile", { method: "DELETE", path: ownerProfile }, {
    otherAccount: notFound,
    otherProfile: locked,
    kids: kidsRefused,
  }),
  member("POST /v1/profiles/:id/enter", "enter the owner's PIN-locked profile without its PIN", { method: "POST", path: `${ownerProfile}/enter`, json: {} }, {
    otherAccount: notFound,
    otherProfile: { refused: 403, code: "FORBIDDEN", reason: "wrong_pin" },
    kids: { refused: 403, code: "FORBIDDEN", reason: "wrong_pin" },
  }),

  // --- billing ----------------------------------------------------------------------------
  member("POST /v1/billing/checkout", "change the plan", { method: "POST", path: "/v1/billing/checkout", json: { planId: "basic" } }, {
    otherAccount: { skip: "its own account's plan" },
    otherProfile: { skip: "an adult device may choose the plan" },
    kids: kidsRefused,
  }),
  member("GET /v1/billing/subscription", "the subscription", get("/v1/billing/subscription"), {
    otherAccount: ownAnswer("its own subscription"),
    otherProfile: sameAccountRead("a device of the account"),
    kids: sameAccountRead("a kids device may read the subscription"),
  }),
  open("POST /v1/billing/webhook", "Stripe's webhook without a signature", { method: "POST", path: "/v1/billing/webhook", body: "{}", contentType: "application/json" }, { refused: 400, code: "BAD_REQUEST" }),

  // --- the catalog: public, a kids device sees no R-rated title --------------------------
  open("GET /v1/titles", "browse", get("/v1/titles?limit=50"), { status: 200, shows: ['"late-night"', '"first-light"'] }, {
    kids: { status: 200, shows: ['"first-light"'], hides: ["late-night"] },
  }),
  open("GET /v1/titles/:id", "an R-rated title", get("/v1/titles/late-night"), { status: 200, shows: ['"late-night"'] }, {
    kids: { refused: 404, code: "NOT_FOUND" },
  }),
  open("GET /v1/search", "search for an R-rated title", get("/v1/search?q=late"), { status: 200, shows: ['"late-night"'] }, {
    kids: { status: 200, hides: ["late-night"] },
  }),

  // --- playback -----------------------------------------------------------------------------
  member("POST /v1/playback/sessions", "play as the owner's PIN-locked profile", { method: "POST", path: "/v1/playback/sessions", json: { titleId: "first-light", profileId: ownerProfileId } }, {
    otherAccount: { refused: 404, code: "NOT_FOUND", reason: "wrong_profile" },
    otherProfile: { refused: 403, code: "FORBIDDEN", reason: "profile_locked" },
    kids: { refused: 403, code: "FORBIDDEN", reason: "kids_profile" },
  }),
  member("POST /v1/playback/sessions", "play an R-rated title as the kids profile", { method: "POST", path: "/v1/playback/sessions", json: { titleId: "late-night", profileId: kidsProfileId } }, {
    otherAccount: { refused: 404, code: "NOT_FOUND", reason: "wrong_profile" },
    otherProfile: { refused: 403, code: "FORBIDDEN", reason: "maturity" },
    kids: { refused: 403, code: "FORBIDDEN", reason: "maturity" },
  }),
  member("POST /v1/playback/sessions", "play as the kids profile, ending the owner's stream (endStreamId)", { method: "POST", path: "/v1/playback/sessions", json: { titleId: "first-light", profileId: kidsProfileId, endStreamId: stream.id } }, {
    otherAccount: { refused: 404, code: "NOT_FOUND", reason: "wrong_profile" },
    otherProfile: { skip: "an adult profile may end another profile's stream (docs/playback-sessions.md)" },
    kids: { refused: 403, code: "FORBIDDEN", reason: "kids_profile" },
  }),
  member("GET /v1/playback/sessions", "the account's streams", get("/v1/playback/sessions"), {
    otherAccount: { status: 200, shows: ['"streams":[]'], hides: OWNER_SECRETS, why: "its own (empty) list" },
    otherProfile: sameAccountRead("a device of the account sees what plays on it"),
    kids: sameAccountRead("a kids device sees what plays on its account"),
  }),
  member("POST /v1/playback/sessions/:id/heartbeat", "beat the owner's stream", { method: "POST", path: `/v1/playback/sessions/${stream.id}/heartbeat`, json: { positionSec: 1 } }, {
    otherAccount: { refused: 409, code: "STREAM_ENDED", reason: "unknown" },
    otherProfile: { refused: 404, code: "NOT_FOUND", reason: "other_device" },
    kids: { refused: 404, code: "NOT_FOUND", reason: "other_device" },
  }),
  member("DELETE /v1/playback/sessions/:id", "stop the owner's stream", { method: "DELETE", path: `/v1/playback/sessions/${stream.id}` }, {
    otherAccount: notFound,
    otherProfile: { skip: "an adult profile may end another profile's stream (docs/playback-sessions.md)" },
    kids: kidsRefused,
  }),

  // --- watch parties: the invite is the capability; joining needs one's own playback session ---
  member("POST /v1/parties", "start a party as the owner's PIN-locked profile", { method: "POST", path: "/v1/parties", json: { titleId: "first-light", profileId: ownerProfileId } }, {
    otherAccount: { refused: 404, code: "NOT_FOUND", reason: "wrong_profile" },
    otherProfile: { refused: 403, code: "FORBIDDEN", reason: "profile_locked" },
    kids: { refused: 403, code: "FORBIDDEN", reason: "kids_profile" },
  }),
  member("POST /v1/parties", "start a party of an R-rated title as the kids profile", { method: "POST", path: "/v1/parties", json: { titleId: "late-night", profileId: kidsProfileId } }, {
    otherAccount: { refused: 404, code: "NOT_FOUND", reason: "wrong_profile" },
    otherProfile: { refused: 403, code: "FORBIDDEN", reason: "maturity" },
    kids: { refused: 403, code: "FORBIDDEN", reason: "maturity" },
  }),
  member("GET /v1/parties/:partyId", "the owner's party, before joining", get(`/v1/parties/${party.partyId}`), {
    otherAccount: ownAnswer("anyone holding the invite may look before joining: the title and the host's profile name, no ids of the owner"),
    otherProfile: ownAnswer("anyone holding the invite may look before joining"),
    kids: ownAnswer("anyone holding the invite may look before joining (Play decides maturity)"),
  }),
  member("GET /v1/parties/:partyId/socket", "join the owner's party with the owner's playback session", { method: "GET", path: `/v1/parties/${party.partyId}/socket?playbackSessionId=${stream.id}`, upgrade: true }, {
    otherAccount: { refused: 403, code: "FORBIDDEN", reason: "no_playback_session" },
    otherProfile: { refused: 403, code: "FORBIDDEN", reason: "no_playback_session" },
    kids: { refused: 403, code: "FORBIDDEN", reason: "no_playback_session" },
    crossSite: { refused: 403, code: "FORBIDDEN", reason: "origin" },
  }),

  // --- watch events and viewing ---------------------------------------------------------
  member("POST /v1/events", "report for the owner's profile", { method: "POST", path: "/v1/events", json: { events: [watchEvent] } }, {
    otherAccount: { refused: 403, code: "FORBIDDEN", reason: "wrong_profile" },
    otherProfile: locked,
    kids: kidsRefused,
  }),
  member("POST /v1/qoe", "report QoE of the owner's stream", { method: "POST", path: "/v1/qoe", json: { reports: [qoeReport] } }, {
    otherAccount: { refused: 403, code: "FORBIDDEN", reason: "wrong_profile" },
    otherProfile: locked,
    kids: kidsRefused,
  }),
  member("POST /v1/events", "report a completion for the kids profile on a stream nobody started", { method: "POST", path: "/v1/events", json: { events: [{ ...watchEvent, id: "evt-matrix-000002", type: "complete", profileId: kidsProfileId, playbackSessionId: "pbs_0123456789abcdef0123" }] } }, {
    otherAccount: { refused: 403, code: "FORBIDDEN", reason: "wrong_profile" },
    otherProfile: { refused: 403, code: "FORBIDDEN", reason: "unknown_playback_session" },
    kids: { refused: 403, code: "FORBIDDEN", reason: "unknown_playback_session" },
  }),
  member("GET /v1/profiles/:id/continue-watching", "the owner's Continue Watching", get(`${ownerProfile}/continue-watching`), {
    otherAccount: notFound,
    otherProfile: locked,
    kids: kidsRefused,
  }),
  member("GET /v1/profiles/:id/history", "the owner's history", get(`${ownerProfile}/history`), {
    otherAccount: notFound,
    otherProfile: locked,
    kids: kidsRefused,
  }),
  member("DELETE /v1/profiles/:id/history/:titleId", "remove from the owner's history", { method: "DELETE", path: `${ownerProfile}/history/first-light` }, {
    otherAccount: notFound,
    otherProfile: locked,
    kids: kidsRefused,
  }),

  // --- home rows, My List, thumbs ---------------------------------------------------------
  member("GET /v1/home", "the owner's home", get(`/v1/home?profile=${ownerProfileId}`), {
    otherAccount: notFound,
    otherProfile: locked,
    kids: kidsRefused,
  }),
  member("GET /v1/profiles/:id/list/:titleId", "is it in the owner's My List", get(`${ownerProfile}/list/first-light`), {
    otherAccount: notFound,
    otherProfile: locked,
    kids: kidsRefused,
  }),
  member("PUT /v1/profiles/:id/list/:titleId", "add to the owner's My List", { method: "PUT", path: `${ownerProfile}/list/second-wind` }, {
    otherAccount: notFound,
    otherProfile: locked,
    kids: kidsRefused,
  }),
  member("DELETE /v1/profiles/:id/list/:titleId", "remove from the owner's My List", { method: "DELETE", path: `${ownerProfile}/list/first-light` }, {
    otherAccount: notFound,
    otherProfile: locked,
    kids: kidsRefused,
  }),
  member("GET /v1/profiles/:id/ratings/:titleId", "the owner's thumbs", get(`${ownerProfile}/ratings/first-light`), {
    otherAccount: notFound,
    otherProfile: locked,
    kids: kidsRefused,
  }),
  member("PUT /v1/profiles/:id/ratings/:titleId", "rate for the owner", { method: "PUT", path: `${ownerProfile}/ratings/first-light`, json: { rating: "down" } }, {
    otherAccount: notFound,
    otherProfile: locked,
    kids: kidsRefused,
  }),

  // --- admin: the admin token only ----------------------------------------------------------
  admin("GET /v1/admin/qoe", "QoE rollups", get("/v1/admin/qoe?groupBy=country")),
  admin("GET /v1/admin/steering", "the steering policy", get("/v1/admin/steering")),
  admin("PUT /v1/admin/steering", "set the steering policy", { method: "PUT", path: "/v1/admin/steering", json: { priority: ["p2", "p"], note: "intruder" } }),
  admin("GET /v1/admin/qoe/sessions/:sid", "one CMCD session's timeline", get(`/v1/admin/qoe/sessions/${stream.id}`)),
  adminPage("GET /admin/qoe", "the QoE dashboard", get("/admin/qoe")),
  admin("POST /v1/admin/live", "create a live event", { method: "POST", path: "/v1/admin/live", json: { name: "Intruder live" } }),
  admin("GET /v1/admin/live/:liveId", "a live event's status", get("/v1/admin/live/live-000000000000000000000000")),
  admin("DELETE /v1/admin/live/:liveId", "end a live event", { method: "DELETE", path: "/v1/admin/live/live-000000000000000000000000" }),
  ingest("PUT /v1/live/:liveId/ingest/:rendition/:file", "a broadcaster's upload", { method: "PUT", path: "/v1/live/live-000000000000000000000000/ingest/720p/0.m4s", body: "bytes", contentType: "application/octet-stream" }),
  ingest("PUT /v1/live/:liveId/ingest/:file", "ffmpeg's master playlist", { method: "PUT", path: "/v1/live/live-000000000000000000000000/ingest/master.m3u8", body: "#EXTM3U", contentType: "application/octet-stream" }),
  admin("GET /v1/admin/titles/:id/seasons/:season/episodes/:episode/segments", "an episode's skip segments", get("/v1/admin/titles/second-wind/seasons/1/episodes/1/segments")),
  admin("PUT /v1/admin/titles/:id/seasons/:season/episodes/:episode/segments", "replace an episode's skip segments", { method: "PUT", path: "/v1/admin/titles/second-wind/seasons/1/episodes/1/segments", json: { segments: [] } }),
  admin("GET /v1/admin/titles/:id/segments", "a film's skip segments", get("/v1/admin/titles/first-light/segments")),
  admin("PUT /v1/admin/titles/:id/segments", "replace a film's skip segments", { method: "PUT", path: "/v1/admin/titles/first-light/segments", json: { segments: [] } }),
  admin("PUT /v1/admin/assets/:assetId/analysis", "store an asset's analysis", { method: "PUT", path: "/v1/admin/assets/asset-one/analysis", json: { version: 1 } }),
  admin("GET /v1/admin/assets/:assetId/analysis", "an asset's analysis", get("/v1/admin/assets/asset-one/analysis")),
  admin("PUT /v1/admin/assets/:assetId", "start an upload", { method: "PUT", path: "/v1/admin/assets/asset-one", json: { assetId: "asset-one" } }),
  admin("GET /v1/admin/assets/:assetId", "an upload's status", get("/v1/admin/assets/asset-one")),
  admin("PUT /v1/admin/assets/:assetId/files/:path", "upload a file", { method: "PUT", path: "/v1/admin/assets/asset-one/files/240p%2F1.m4s", body: "bytes", contentType: "application/octet-stream" }),
  admin("POST /v1/admin/assets/:assetId/multipart", "start a multipart upload", { method: "POST", path: "/v1/admin/assets/asset-one/multipart", json: { path: "240p/1.m4s" } }),
  admin("PUT /v1/admin/assets/:assetId/multipart/part", "upload a part", { method: "PUT", path: "/v1/admin/assets/asset-one/multipart/part?path=240p%2F1.m4s&uploadId=u1&partNumber=1", body: "bytes", contentType: "application/octet-stream" }),
  admin("POST /v1/admin/assets/:assetId/multipart/complete", "complete a multipart upload", { method: "POST", path: "/v1/admin/assets/asset-one/multipart/complete", json: { path: "240p/1.m4s", uploadId: "u1", parts: [{ partNumber: 1, etag: "e" }] } }),
  admin("POST /v1/admin/assets/:assetId/multipart/abort", "abort a multipart upload", { method: "POST", path: "/v1/admin/assets/asset-one/multipart/abort", json: { path: "240p/1.m4s", uploadId: "u1" } }),
  admin("POST /v1/admin/assets/:assetId/publish", "publish an asset", { method: "POST", path: "/v1/admin/assets/asset-pending/publish", json: { titleId: "coming-soon" } }),
  admin("POST /v1/admin/titles", "create a title", { method: "POST", path: "/v1/admin/titles", json: { id: "intruder", kind: "movie", name: "Intruder" } }),
  admin("GET /v1/admin/titles/:id", "read a title as stored", get("/v1/admin/titles/first-light")),
  admin("PATCH /v1/admin/titles/:id", "change a title", { method: "PATCH", path: "/v1/admin/titles/first-light", json: { maturityRating: "G" } }),
  admin("DELETE /v1/admin/titles/:id", "delete a title", { method: "DELETE", path: "/v1/admin/titles/first-light" }),
  admin("POST /v1/admin/titles/:id/seasons", "add a season", { method: "POST", path: "/v1/admin/titles/second-wind/seasons", json: { number: 9 } }),
  admin("PATCH /v1/admin/titles/:id/seasons/:number", "rename a season", { method: "PATCH", path: "/v1/admin/titles/second-wind/seasons/1", json: { name: "Owned" } }),
  admin("DELETE /v1/admin/titles/:id/seasons/:number", "delete a season", { method: "DELETE", path: "/v1/admin/titles/second-wind/seasons/1" }),
  admin("POST /v1/admin/titles/:id/seasons/:season/episodes", "add an episode", { method: "POST", path: "/v1/admin/titles/second-wind/seasons/1/episodes", json: { number: 9, name: "Owned" } }),
  admin("PATCH /v1/admin/titles/:id/seasons/:season/episodes/:number", "change an episode", { method: "PATCH", path: "/v1/admin/titles/second-wind/seasons/1/episodes/1", json: { name: "Owned" } }),
  admin("DELETE /v1/admin/titles/:id/seasons/:season/episodes/:number", "delete an episode", { method: "DELETE", path: "/v1/admin/titles/second-wind/seasons/1/episodes/1" }),
  admin("PUT /v1/admin/genres/:id", "rename a genre", { method: "PUT", path: "/v1/admin/genres/drama", json: { name: "Owned" } }),
  admin("DELETE /v1/admin/genres/:id", "delete a genre", { method: "DELETE", path: "/v1/admin/genres/drama" }),
  admin("POST /v1/admin/catalog/import", "bulk import", { method: "POST", path: "/v1/admin/catalog/import", body: '{"id":"intruder","kind":"movie","name":"Intruder"}\n', contentType: "application/x-ndjson" }),

  // --- pages --------------------------------------------------------------------------------
  open("GET /", "the front page", get("/"), page200(undefined, { shows: ['href="/signup"'] }), {
    otherAccount: page200("its own home", { hides: OWNER_SECRETS }),
    otherProfile: page200("the guest's home"),
    kids: page200("the kids home, no R-rated title", { hides: ["late-night"] }),
    crossSite: page200("the owner's own home (a GET)"),
  }, "cookie"),
  open("GET /signup", "the sign-up form", get("/signup"), page200(undefined, { shows: ['id="signup-form"'] }), { otherAccount: toHome, otherProfile: toHome, kids: toHome, crossSite: toHome }, "cookie"),
  open("GET /login", "the sign-in form", get("/login"), page200(undefined, { shows: ['id="login-form"'] }), { otherAccount: toHome, otherProfile: toHome, kids: toHome, crossSite: toHome }, "cookie"),
  open("POST /signup", "the sign-up form post, empty", { method: "POST", path: "/signup", form: () => ({}) }, { status: 400, html: true }, { otherAccount: toHome, otherProfile: toHome, kids: toHome, crossSite: toHome }, "cookie"),
  open("POST /login", "the sign-in form post, empty", { method: "POST", path: "/login", form: () => ({}) }, { status: 400, html: true }, { otherAccount: toHome, otherProfile: toHome, kids: toHome, crossSite: toHome }, "cookie"),
  open("POST /logout", "the sign-out form post without the page's CSRF token", { method: "POST", path: "/logout", form: () => ({}) }, { status: 303, location: "/" }, {
    // Answered like everyone (back to /), but nobody is signed out: the sessions are checked afterwards.
    otherAccount: { status: 303, location: "/", why: "no CSRF token: not signed out" },
    otherProfile: { status: 303, location: "/", why: "no CSRF token: not signed out" },
    kids: { status: 303, location: "/", why: "no CSRF token: not signed out" },
    crossSite: { status: 303, location: "/", why: "no CSRF token: the owner is not signed out" },
  }, "cookie"),
  memberPage("GET /plans", "the plans page", get("/plans"), {
    otherAccount: page200("its own plan", { hides: OWNER_SECRETS }),
    otherProfile: page200("a device of the account"),
    kids: page200("shown, with the choice disabled; checkout is refused (row above)"),
    crossSite: page200("the owner's own page (a GET)"),
  }),
  memberPage("GET /profiles", "who's watching", get("/profiles"), {
    otherAccount: page200("its own profiles", { hides: OWNER_SECRETS }),
    otherProfile: page200("a device of the account"),
    kids: page200("a kids device may switch profiles"),
    crossSite: page200("the owner's own page (a GET)"),
  }),
  memberPage("POST /profiles", "add a profile by form", { method: "POST", path: "/profiles", form: (who) => ({ name: "Intruder", ...(who.csrf ? { csrf: who.csrf } : {}) }) }, {
    otherAccount: { skip: "adds to its own account" },
    otherProfile: { skip: "an adult device of the account may" },
    kids: { status: 403, html: true, why: "a kids profile cannot add profiles" },
    crossSite: { status: 403, html: true, why: "another site's post: wrong Origin, no CSRF token" },
  }),
  memberPage("POST /profiles/playback", "the entered profile's playback settings by form", { method: "POST", path: "/profiles/playback", form: (who) => ({ autoSkipIntros: "true", ...(who.csrf ? { csrf: who.csrf } : {}) }) }, {
    otherAccount: { skip: "changes the profile its own device is in" },
    otherProfile: { skip: "changes the profile this device is in" },
    kids: { skip: "a kids profile may set its own playback preference (it changes nothing anyone else sees)" },
    crossSite: { status: 403, html: true, why: "another site's post: wrong Origin, no CSRF token" },
  }),
  memberPage("GET /title/:id", "an R-rated title's page", get("/title/late-night"), {
    otherAccount: page200("the public title, for its adult profile", { hides: OWNER_SECRETS }),
    otherProfile: page200("an adult profile"),
    kids: { status: 404, html: true, why: "above the kids profile's level: no such title" },
    crossSite: page200("the owner's own page (a GET)"),
  }),
  memberPage("GET /search", "search for an R-rated title", get("/search?q=late"), {
    otherAccount: page200("its own search", { hides: OWNER_SECRETS }),
    otherProfile: page200("an adult profile", { shows: ["late-night"] }),
    kids: page200("no R-rated title for a kids profile", { hides: ["late-night"] }),
    crossSite: page200("the owner's own page (a GET)"),
  }),
  memberPage("GET /account", "the account page", get("/account"), {
    otherAccount: page200("its own account", { hides: OWNER_SECRETS }),
    otherProfile: page200("a device of the account"),
    kids: page200("shown without the account's controls (pages.security tests)"),
    crossSite: page200("the owner's own page (a GET)"),
  }),
  memberPage("GET /party/:partyId", "the owner's invite link", get(`/party/${party.partyId}`), {
    otherAccount: { status: 303, location: `/watch/first-light?party=${party.partyId}`, why: "the invite is for anyone: they join on their own account" },
    otherProfile: { status: 303, location: `/watch/first-light?party=${party.partyId}`, why: "the invite is for anyone" },
    kids: { status: 303, location: `/watch/first-light?party=${party.partyId}`, why: "the invite is for anyone; Play decides maturity" },
    crossSite: { status: 303, location: `/watch/first-light?party=${party.partyId}`, why: "a link, followed like any other (a GET)" },
  }, `/login?next=${encodeURIComponent(`/party/${party.partyId}`)}`),
  memberPage("GET /watch/:titleId", "the player page", get("/watch/first-light"), {
    otherAccount: page200("the shell; its Play call decides (the playback rows)", { hides: OWNER_SECRETS }),
    otherProfile: page200("the shell; its Play call decides"),
    kids: page200("the shell; its Play call decides"),
    crossSite: page200("the owner's own page (a GET)"),
  }, "/login?next=%2Fwatch%2Ffirst-light"),
];

// ---------------------------------------------------------------------------------------
// Running a cell.
// ---------------------------------------------------------------------------------------

async function send(row: Row, who: Caller): Promise<Response> {
  const headers: Record<string, string> = {};
  if (who.token) {
    if (row.transport === "cookie" || who.crossSite) headers.cookie = `__Host-marquee_session=${who.token}`;
    else headers.authorization = `Bearer ${who.token}`;
  }
  if (row.transport === "cookie") headers.accept = "text/html,application/xhtml+xml";
  const { req } = row;
  if (req.method !== "GET" || req.upgrade) headers.origin = who.crossSite ? "https://evil.example" : ORIGIN;
  if (req.upgrade) headers.upgrade = "websocket";
  let body: string | undefined;
  if (req.json !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(req.json);
  } else if (req.form) {
    headers["content-type"] = "application/x-www-form-urlencoded";
    body = new URLSearchParams(req.form(who)).toString();
  } else if (req.body !== undefined) {
    headers["content-type"] = req.contentType ?? "application/octet-stream";
    body = req.body;
  }
  return exports.default.fetch(`${ORIGIN}${req.path}`, { method: req.method, headers, body, redirect: "manual" });
}

/** The body with its request ids blanked, to compare two callers' answers. */
const comparable = (text: string) => text.replace(/"requestId":"[^"]*"/g, '"requestId":""');

/** What is wrong with an answer, or null. */
async function judge(cell: Exclude<Cell, Skip>, res: Response, text: string, baseline: { status: number; text: string } | null): Promise<string | null> {
  if ("same" in cell) {
    if (!baseline) return "no anonymous answer to compare with";
    if (res.status !== baseline.status) return `status ${res.status}, anonymous got ${baseline.status}`;
    if (comparable(text) !== comparable(baseline.text)) return "a different body from anonymous's";
    return null;
  }
  if ("refused" in cell) {
    if (res.status !== cell.refused) return `status ${res.status}, expected ${cell.refused}`;
    let parsed;
    try {
      parsed = errorBodySchema.safeParse(JSON.parse(text));
    } catch {
      return "not JSON";
    }
    if (!parsed.success) return "not the standard error body";
    const { code, requestId, details } = parsed.data.error;
    if (code !== cell.code) return `code ${code}, expected ${cell.code}`;
    if (requestId === "" || requestId !== res.headers.get("x-request-id")) return `requestId ${requestId} is not X-Request-Id`;
    if (cell.reason !== undefined && (details as { reason?: string } | undefined)?.reason !== cell.reason) {
      return `details.reason ${JSON.stringify((details as { reason?: string } | undefined)?.reason)}, expected ${cell.reason}`;
    }
    if (cell.challenge !== undefined && res.headers.get("www-authenticate") !== cell.challenge) return `WWW-Authenticate ${res.headers.get("www-authenticate")}`;
    return null;
  }
  if (res.status !== cell.status) return `status ${res.status}, expected ${cell.status}`;
  if (cell.location !== undefined && res.headers.get("location") !== cell.location) return `Location ${res.headers.get("location")}, expected ${cell.location}`;
  if (cell.html && !(res.headers.get("content-type") ?? "").includes("text/html")) return `content-type ${res.headers.get("content-type")}`;
  for (const s of cell.shows ?? []) if (!text.includes(s)) return `the body lacks ${s}`;
  for (const s of cell.hides ?? []) if (text.includes(s)) return `the body contains ${s}`;
  return null;
}

/** The owner's data (and the catalog) that no refused cell may change. */
async function ownerState() {
  const rows = async (sql: string, ...binds: unknown[]) => (await env.DB.prepare(sql).bind(...binds).all()).results;
  const profileIds = [ownerProfileId, kidsProfileId, guestProfileId];
  const inProfiles = `(${profileIds.map(() => "?").join(",")})`;
  const streams = ((await (await call("/v1/playback/sessions", { headers: owner.headers })).json()) as { streams: { id: string; positionSec: number; deviceName: string }[] }).streams;
  const r2 = await env.MEDIA.list({ prefix: "assets/" });
  return {
    accounts: await rows("SELECT COUNT(*) AS n FROM accounts"),
    profiles: await rows("SELECT id, name, is_kids, maturity_level, pin_hash FROM profiles WHERE account_id = ? ORDER BY id", owner.accountId),
    sessions: await rows("SELECT id, profile_id, expires_at FROM sessions WHERE account_id = ? ORDER BY id", owner.accountId),
    subscription: await rows("SELECT plan_id, status, provider FROM subscriptions WHERE account_id = ?", owner.accountId),
    list: await rows(`SELECT profile_id, title_id FROM profile_list WHERE profile_id IN ${inProfiles} ORDER BY 1, 2`, ...profileIds),
    ratings: await rows(`SELECT profile_id, title_id, rating FROM profile_ratings WHERE profile_id IN ${inProfiles} ORDER BY 1, 2`, ...profileIds),
    progress: await rows(`SELECT profile_id, title_id, position_sec FROM watch_progress WHERE profile_id IN ${inProfiles} ORDER BY 1, 2`, ...profileIds),
    history: await rows(`SELECT profile_id, title_id FROM watch_history WHERE profile_id IN ${inProfiles} ORDER BY 1, 2`, ...profileIds),
    streams: streams.map((s) => ({ id: s.id, positionSec: s.positionSec, deviceName: s.deviceName })),
    titles: await rows("SELECT id, name, maturity_rating, asset_id, updated_at FROM titles ORDER BY id"),
    genres: await rows("SELECT * FROM genres ORDER BY id"),
    seasons: await rows("SELECT id, title_id, number, name FROM seasons ORDER BY id"),
    episodes: await rows("SELECT id, season_id, number, name, asset_id FROM episodes ORDER BY id"),
    assets: await rows("SELECT id, status FROM assets ORDER BY id"),
    r2: r2.objects.map((o) => `${o.key}:${o.etag}`).sort(),
  };
}

const before = await ownerState();

/** `/v1/titles/:id` as a whole-path pattern. */
const patternOf = (route: string) => new RegExp(`^${route.split(" ")[1]!.replace(/:[A-Za-z]+/g, "[^/]+")}$`);

describe("the api's authorization matrix", () => {
  it("has a row for every route of the api, and every row is one of its routes", () => {
    const enumerated = [...new Set(createApp().routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path}`))].sort();
    const covered = new Set(rows.map((r) => r.route));
    expect(enumerated.filter((r) => !covered.has(r)), "routes without a row in the matrix").toEqual([]);
    expect([...covered].filter((r) => !enumerated.includes(r)), "rows for routes that do not exist").toEqual([]);
    for (const row of rows) {
      expect(row.route.split(" ")[0], row.name).toBe(row.req.method);
      expect(row.req.path.split("?")[0], `${row.route}: ${row.name}`).toMatch(patternOf(row.route));
      expect(Object.keys(row.cells).sort(), `${row.route}: every caller is declared`).toEqual([...CALLERS].sort());
    }
    expect(enumerated.length).toBeGreaterThanOrEqual(69);
  });

  for (const row of rows) {
    it(`${row.route} — ${row.name}`, async () => {
      const wrong: string[] = [];
      let baseline: { status: number; text: string } | null = null;
      for (const name of CALLERS) {
        const cell = row.cells[name];
        if ("skip" in cell) continue;
        const res = await send(row, callers[name]);
        const text = await res.text();
        if (name === "anonymous") baseline = { status: res.status, text };
        const problem = await judge(cell, res, text, baseline);
        if (problem) wrong.push(`${callers[name].label}: ${problem} — ${res.status} ${text.slice(0, 200)}`);
      }
      expect(wrong).toEqual([]);
    });
  }

  it("left the owner's profiles, sessions, plan, viewing, My List, thumbs and stream, and the catalog, as they were", async () => {
    expect(await ownerState()).toEqual(before);
    // And the owner's device still works: its session, its profile, its stream.
    expect((await call("/v1/me", { headers: owner.headers })).status).toBe(200);
    expect((await call(`/v1/playback/sessions/${stream.id}/heartbeat`, { headers: owner.headers, json: { positionSec: 2 } })).status).toBe(200);
  });
});
