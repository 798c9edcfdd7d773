// The security headers of every page: a Content-Security-Policy with no 'unsafe-inline'
// (scripts and styles come only from our hashed assets), HSTS, no framing, no sniffing.
import type { Context, MiddlewareHandler } from "hono";
import type { PageEnv } from "./page-types.ts";

/** The media Worker's origin when it has a hostname of its own (docs/media-origin.md); null for "this origin". */
export function mediaOriginOf(value: string | undefined): string | null {
  if (!value) return null;
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:" ? url.origin : null;
  } catch {
    return null;
  }
}

export function contentSecurityPolicy(mediaOrigin: string | null): string {
  const media = mediaOrigin ? ` ${mediaOrigin}` : "";
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    // Posters and trick-play sprites; blob: and data: for what the player draws.
    `img-src 'self' data: blob:${media}`,
    // MSE hands the video element a blob: URL. No data: — hls.js's own text tracks are
    // <track src="data:,WEBVTT">, so the player draws subtitle cues on tracks of its own.
    `media-src 'self' blob:${media}`,
    // The ESM hls.js we bundle runs without a worker; a build that makes one uses blob:.
    "worker-src 'self' blob:",
    `connect-src 'self'${media}`,
    "font-src 'self'",
    "object-src 'none'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
  ].join("; ");
}

export function securityHeaderValues(mediaOrigin: string | null): Record<string, string> {
  return {
    "Content-Security-Policy": contentSecurityPolicy(mediaOrigin),
    // Not includeSubDomains: an operator's other subdomains may not all speak HTTPS yet.
    "Strict-Transport-Security": "max-age=31536000",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    // frame-ancestors for browsers that predate it.
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    // Pages carry the member's CSRF token: never kept by a shared cache, nor shown from it.
    "Cache-Control": "private, no-store",
    Vary: "Cookie",
  };
}

/** Sets the headers on the context's response, copying it first if its headers are immutable. */
export function setSecurityHeaders(c: Context<PageEnv>): void {
  const values = securityHeaderValues(mediaOriginOf(c.env.MEDIA_ORIGIN));
  try {
    for (const [name, value] of Object.entries(values)) c.res.headers.set(name, value);
  } catch {
    const copy = new Response(c.res.body, c.res);
    for (const [name, value] of Object.entries(values)) copy.headers.set(name, value);
    c.res = undefined as unknown as Response;
    c.res = copy;
  }
}

/** On whatever the page answered: the page, a redirect, a notice, an error page. */
export const securityHeaders: MiddlewareHandler<PageEnv> = async (c, next) => {
  await next();
  setSecurityHeaders(c);
};
