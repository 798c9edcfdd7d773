// GET /watch/:titleId[?episode=]: the player page. Needs a signed-in web session (the
// cookie); otherwise a 303 to /login?next=… that comes back here. The page itself makes
// no D1 query beyond the session check: the player's one POST /v1/playback/sessions
// decides everything else (plan, profile, maturity, screens) and its refusals become the
// player's error screens.
import { Hono } from "hono";
import type { Context } from "hono";
import { readSessionCookie } from "../auth/session-cookie.ts";
import { csrfTokenFor } from "../auth/session-tokens.ts";
import { checkRequestSession } from "../auth/request-session.ts";
import type { AppEnv } from "../env.ts";
import { contentSecurityPolicy, mediaOriginOf, securityHeaderValues } from "./security-headers.ts";
import { WatchPage } from "./watch.tsx";

/** The watch page's Content-Security-Policy: the one every page has (pages/security-headers.ts). */
export function watchPageCsp(mediaOrigin: string | undefined): string {
  return contentSecurityPolicy(mediaOriginOf(mediaOrigin));
}

/** The security headers of every page, set on the watch page itself so it never goes out without them. */
export function setWatchPageHeaders(c: Context<AppEnv>): void {
  for (const [name, value] of Object.entries(securityHeaderValues(mediaOriginOf(c.env.MEDIA_ORIGIN)))) c.header(name, value);
}

const MAX_ID_LENGTH = 64;

export const watchRoutes = new Hono<AppEnv>().get("/watch/:titleId", async (c) => {
  const url = new URL(c.req.url);
  const titleId = c.req.param("titleId");
  const episodeId = c.req.query("episode") || null;
  if (titleId.length > MAX_ID_LENGTH || (episodeId !== null && episodeId.length > MAX_ID_LENGTH)) return c.notFound();

  const cookie = readSessionCookie(c);
  const session = cookie ? await checkRequestSession(c, cookie, new Date()) : null;
  if (!cookie || !session) {
    setWatchPageHeaders(c);
    return c.redirect(`/login?next=${encodeURIComponent(url.pathname + url.search)}`, 303);
  }

  setWatchPageHeaders(c);
  const page = <WatchPage titleId={titleId} episodeId={episodeId} csrfToken={await csrfTokenFor(cookie)} profileId={session.profileId} />;
  return c.html("<!doctype html>" + (await page.toString()));
});
