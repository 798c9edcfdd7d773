// /v1/auth/*, /v1/me: signing up, in and out (here and everywhere), the account's
// sessions, and who the caller is. Sessions are made, listed and ended through the
// request's D1 session (memberDb), so the answer's bookmark covers them; the account and
// password reads of sign-up and sign-in stay on the primary (accounts.ts).
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { ApiError, errorBodySchema } from "../../../lib/errors.ts";
import { memberDb } from "../d1-sessions/member-db.ts";
import type { AppEnv } from "../env.ts";
import { createRouter, errorDocs, json } from "../router.ts";
import { signIn, signUp } from "./accounts.ts";
import { deviceLabel } from "./device-label.ts";
import { describeAccount } from "./me.ts";
import { refuseKidsProfile, requireAuth } from "./require-auth.ts";
import { clearSessionCookie, writeSessionCookie } from "./session-cookie.ts";
import { csrfTokenFor } from "./session-tokens.ts";
import { createSession, endAllSessions, endSession, listSessions } from "./sessions.ts";
import { jsonBody, KB } from "../body-limits.ts";

const tags = ["auth"];
const security = [{ session: [] }];
const errors = errorDocs({ 400: "Invalid request", 401: "Not signed in, or wrong email or password", 403: "Not allowed (CSRF token missing, kids profile)" });

const credentials = z.object({
  email: z.string().trim().email().max(254),
  password: z.string().min(1).max(1024),
  /** "web": a session cookie (and a CSRF token); "device": a bearer token in the body. */
  client: z.enum(["web", "device"]).default("device"),
  deviceName: z.string().trim().min(1).max(80).optional(),
});

const signedIn = z
  .object({
    accountId: z.string(),
    /** Devices only: send it as `Authorization: Bearer <token>`. */
    token: z.string().optional(),
    /** Web only: send it as `X-CSRF-Token` on every state-changing request. */
    csrfToken: z.string().optional(),
    expiresAt: z.string(),
  })
  .openapi("SignedIn");

/** A short device label from the client or its User-Agent, for the list of devices. */
function deviceName(c: Context<AppEnv>, given: string | undefined): string {
  return given || deviceLabel(c.req.header("user-agent") ?? "");
}

/** A new session for the account: a cookie (web) or a token in the body (devices). */
async function startSession(c: Context<AppEnv>, accountId: string, body: z.infer<typeof credentials>): Promise<z.infer<typeof signedIn>> {
  const session = await createSession(memberDb(c), accountId, body.client, deviceName(c, body.deviceName), new Date());
  const expiresAt = session.expiresAt.toISOString();
  if (body.client === "device") return { accountId, token: session.token, expiresAt };
  writeSessionCookie(c, session.token, session.expiresAt);
  return { accountId, csrfToken: await csrfTokenFor(session.token), expiresAt };
}

export const authRoutes = createRouter();

authRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/auth/signup",
    tags,
    summary: "Create an account (with a first profile) and sign in",
    request: { body: jsonBody(credentials, 4 * KB) },
    responses: { 201: json(signedIn, "Signed up and signed in"), 409: json(errorBodySchema, "The email is taken"), 429: json(errorBodySchema, "Too many sign-ups from this client (see Retry-After)"), ...errors },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const { accountId } = await signUp(c.env, body.email, body.password, c.req.header("cf-connecting-ip"), new Date());
    return c.json(await startSession(c, accountId, body), 201);
  },
);

authRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/auth/login",
    tags,
    summary: "Sign in: a new session (and token) every time",
    request: { body: jsonBody(credentials, 4 * KB) },
    responses: { 200: json(signedIn, "Signed in"), 429: json(errorBodySchema, "Too many attempts (see Retry-After)"), ...errors },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const { accountId } = await signIn(c.env, body.email, body.password, c.req.header("cf-connecting-ip"), new Date());
    return c.json(await startSession(c, accountId, body), 200);
  },
);

authRoutes.use("/v1/auth/logout", requireAuth);
authRoutes.openapi(
  createRoute({ method: "post", path: "/v1/auth/logout", tags, security, summary: "End this session", responses: { 204: { description: "Signed out" }, ...errors } }),
  async (c) => {
    const { accountId, sessionId } = c.get("auth");
    await endSession(memberDb(c), accountId, sessionId);
    clearSessionCookie(c);
    return c.body(null, 204);
  },
);

authRoutes.use("/v1/auth/logout-all", requireAuth, refuseKidsProfile);
authRoutes.openapi(
  createRoute({ method: "post", path: "/v1/auth/logout-all", tags, security, summary: "End every session of the account", responses: { 204: { description: "Signed out everywhere" }, ...errors } }),
  async (c) => {
    await endAllSessions(memberDb(c), c.get("auth").accountId);
    clearSessionCookie(c);
    return c.body(null, 204);
  },
);

const sessionSchema = z
  .object({ id: z.string(), kind: z.enum(["web", "device"]), deviceName: z.string(), profileId: z.string().nullable(), createdAt: z.string(), lastSeenAt: z.string(), current: z.boolean() })
  .openapi("Session");

authRoutes.use("/v1/auth/sessions", requireAuth);
authRoutes.openapi(
  createRoute({ method: "get", path: "/v1/auth/sessions", tags, security, summary: "The account's signed-in devices", responses: { 200: json(z.object({ sessions: z.array(sessionSchema) }), "Sessions"), ...errors } }),
  async (c) => {
    const { accountId, sessionId } = c.get("auth");
    const list = await listSessions(memberDb(c), accountId, new Date());
    return c.json(
      { sessions: list.map((s) => ({ ...s, createdAt: s.createdAt.toISOString(), lastSeenAt: s.lastSeenAt.toISOString(), current: s.id === sessionId })) },
      200,
    );
  },
);

authRoutes.use("/v1/auth/sessions/:id", requireAuth, refuseKidsProfile);
authRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/v1/auth/sessions/{id}",
    tags,
    security,
    summary: "End one session of the account (sign a device out)",
    request: { params: z.object({ id: z.string().regex(/^[0-9a-f]{64}$/) }) },
    responses: { 204: { description: "Ended" }, 404: json(errorBodySchema, "No such session on this account"), ...errors },
  }),
  async (c) => {
    if (!(await endSession(memberDb(c), c.get("auth").accountId, c.req.valid("param").id))) throw new ApiError("NOT_FOUND", "No such session.");
    return c.body(null, 204);
  },
);

authRoutes.use("/v1/me", requireAuth);
authRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/me",
    tags,
    security,
    summary: "The account, its plan and subscription, and its profiles",
    responses: { 200: json(z.record(z.string(), z.unknown()), "The account"), ...errors },
  }),
  async (c) => c.json(await describeAccount(memberDb(c), c.get("auth")), 200),
);
