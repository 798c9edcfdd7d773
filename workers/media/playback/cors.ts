// CORS for the player origins configured in PLAYER_ORIGINS (comma-separated origins, or
// `*`): players on another origin read manifests and segments, and their timings.
import type { MiddlewareHandler } from "hono";

export function allowedOrigin(configured: string | undefined, origin: string | undefined): string | null {
  if (!origin || !configured) return null;
  const list = configured.split(",").map((o) => o.trim()).filter(Boolean);
  if (list.includes("*")) return "*";
  return list.includes(origin) ? origin : null;
}

export const cors: MiddlewareHandler<{ Bindings: { PLAYER_ORIGINS?: string } }> = async (c, next) => {
  const allow = allowedOrigin(c.env.PLAYER_ORIGINS, c.req.header("origin"));
  if (c.req.method === "OPTIONS") {
    if (!allow) return new Response(null, { status: 204 });
    return new Response(null, {
      status: 204,
      headers: {
        "Access-Control-Allow-Origin": allow,
        "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
        "Access-Control-Allow-Headers": "Range, If-None-Match, CMCD-Request, CMCD-Object, CMCD-Status, CMCD-Session",
        "Access-Control-Max-Age": "86400",
        Vary: "Origin",
      },
    });
  }
  await next();
  c.res.headers.append("Vary", "Origin");
  if (allow) {
    c.res.headers.set("Access-Control-Allow-Origin", allow);
    c.res.headers.set("Access-Control-Expose-Headers", "Content-Length, Content-Range, ETag, X-Cache, X-Request-Id");
    c.res.headers.set("Timing-Allow-Origin", allow);
  }
};
