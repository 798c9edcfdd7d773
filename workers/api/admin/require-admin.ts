// The guard of /v1/admin/*: `Authorization: Bearer <ADMIN_TOKEN>`, checked in constant time.
import type { MiddlewareHandler } from "hono";
import { constantTimeEqual } from "../../../lib/constant-time.ts";
import { ApiError } from "../../../lib/errors.ts";
import type { AppEnv } from "../env.ts";

/** Shorter configured tokens are refused outright: a weak admin token is a misconfiguration. */
const MIN_TOKEN_LENGTH = 24;

export const requireAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
  const presented = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "")?.[1];
  const configured = c.env.ADMIN_TOKEN ?? "";
  const ok = presented !== undefined && configured.length >= MIN_TOKEN_LENGTH && (await constantTimeEqual(presented, configured));
  if (!ok) {
    throw new ApiError("UNAUTHORIZED", "An admin token is required: Authorization: Bearer <ADMIN_TOKEN>.", {
      headers: { "WWW-Authenticate": 'Bearer realm="marquee-admin"' },
    });
  }
  await next();
};
