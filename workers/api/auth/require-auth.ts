// The guard of every member route: a session from `Authorization: Bearer` (devices) or the
// session cookie (the web app, which must also send its CSRF token on state-changing
// requests). Sets `c.get("auth")`; one D1 query per request, on a read replica
// (request-session.ts), two when the replica has not got the session yet.
import type { Context, MiddlewareHandler } from "hono";
import { constantTimeEqual } from "../../../lib/constant-time.ts";
import { ApiError } from "../../../lib/errors.ts";
import type { AppEnv } from "../env.ts";
import { readSessionCookie } from "./session-cookie.ts";
import { checkRequestSession } from "./request-session.ts";
import { authOf } from "./sessions.ts";
import { csrfTokenFor } from "./session-tokens.ts";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

function unauthorized(): ApiError {
  return new ApiError("UNAUTHORIZED", "Sign in to continue.", { headers: { "WWW-Authenticate": 'Bearer realm="marquee"' } });
}

export const requireAuth: MiddlewareHandler<AppEnv> = async (c, next) => {
  await authenticate(c, c.req.header("x-csrf-token"));
  await next();
};

/**
 * What requireAuth does, for a route that reads the CSRF token from elsewhere than the
 * header: `POST /v1/qoe` takes it from its body, since navigator.sendBeacon cannot set
 * headers. Sets `c.get("auth")` or throws 401/403.
 */
export async function authenticate(c: Context<AppEnv>, csrfSent: string | undefined): Promise<void> {
  // Routers guard their own paths, and two routers' guards may cover one path
  // (`/v1/profiles/*` and a route under it): the session is checked once.
  if (c.get("auth")) return;
  const bearer = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "")?.[1];
  const cookie = bearer ? undefined : readSessionCookie(c);
  const token = bearer ?? cookie;
  if (!token) throw unauthorized();
  if (cookie && !SAFE_METHODS.has(c.req.method)) {
    // A cookie rides along on requests other sites make; the CSRF token cannot.
    if (!(await constantTimeEqual(csrfSent ?? "", await csrfTokenFor(cookie)))) {
      throw new ApiError("FORBIDDEN", "This request needs the X-CSRF-Token header of your session.", { details: { reason: "csrf" } });
    }
  }
  const session = await checkRequestSession(c, token, new Date());
  if (!session) throw unauthorized();
  c.set("auth", authOf(session));
}

/** For routes a kids profile may not use: profiles, the plan, the account. */
export const refuseKidsProfile: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.get("auth").isKidsProfile) {
    throw new ApiError("FORBIDDEN", "A kids profile cannot change profiles or the account.", { details: { reason: "kids_profile" } });
  }
  await next();
};
