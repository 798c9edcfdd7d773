// The guard of /v1/admin/*: `Authorization: Bearer <ADMIN_TOKEN>`, checked in constant time.
// The operators' pages (/admin/*) take the same token as HTTP Basic credentials (any user
// name, the token as password), so a browser asks for it with its own dialog.
import type { MiddlewareHandler } from "hono";
import { constantTimeEqual } from "../../../lib/constant-time.ts";
import { ApiError } from "../../../lib/errors.ts";
import type { AppEnv } from "../env.ts";

/** Shorter configured tokens are refused outright: a weak admin token is a misconfiguration. */
const MIN_TOKEN_LENGTH = 24;
/** Longer Authorization headers are not read at all. */
const MAX_AUTHORIZATION_CHARS = 512;

async function isAdminToken(presented: string | undefined, configured: string | undefined): Promise<boolean> {
  const token = configured ?? "";
  return presented !== undefined && token.length >= MIN_TOKEN_LENGTH && (await constantTimeEqual(presented, token));
}

export const requireAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
  const presented = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "")?.[1];
  if (!(await isAdminToken(presented, c.env.ADMIN_TOKEN))) {
    throw new ApiError("UNAUTHORIZED", "An admin token is required: Authorization: Bearer <ADMIN_TOKEN>.", {
      headers: { "WWW-Authenticate": 'Bearer realm="marquee-admin"' },
    });
  }
  await next();
};

/** The token from `Basic base64(user:token)` or `Bearer token`; undefined for anything else. */
export function presentedAdminToken(header: string | undefined): string | undefined {
  if (!header || header.length > MAX_AUTHORIZATION_CHARS) return undefined;
  const bearer = /^Bearer ([!-~]+)$/.exec(header)?.[1];
  if (bearer) return bearer;
  const basic = /^Basic ([A-Za-z0-9+/]+={0,2})$/.exec(header)?.[1];
  if (!basic) return undefined;
  let text: string;
  try {
    text = atob(basic);
  } catch {
    return undefined;
  }
  // Canonical base64 only (the token is ASCII, so a byte string is its text).
  if (btoa(text) !== basic) return undefined;
  const colon = text.indexOf(":");
  return colon >= 0 ? text.slice(colon + 1) : undefined;
}

/** For the operators' HTML pages: a 401 with a Basic challenge makes the browser ask. */
export const requireAdminPage: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!(await isAdminToken(presentedAdminToken(c.req.header("authorization")), c.env.ADMIN_TOKEN))) {
    return c.text("The admin token is required (user name: anything, password: ADMIN_TOKEN).", 401, {
      "WWW-Authenticate": 'Basic realm="marquee-admin", charset="UTF-8"',
      "Cache-Control": "no-store",
    });
  }
  await next();
};
