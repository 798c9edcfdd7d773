// GET /party/:partyId: the invite link. A signed-in member lands in the party's player
// (`/watch/{title}?episode=…&party=…`), where Play starts their own playback session and
// the player joins the party's socket; a signed-out one signs in first and comes back here.
// An invite that never existed, or whose party is over, is the site's 404 page.
import { Hono } from "hono";
import { isPartyId } from "../../../lib/watch-party.ts";
import { checkRequestSession } from "../auth/request-session.ts";
import { readSessionCookie } from "../auth/session-cookie.ts";
import type { AppEnv } from "../env.ts";
import { partyObject } from "./party-objects.ts";

export const inviteRoutes = new Hono<AppEnv>().get("/party/:partyId", async (c) => {
  const partyId = c.req.param("partyId");
  if (!isPartyId(partyId)) return c.notFound();
  const cookie = readSessionCookie(c);
  const session = cookie ? await checkRequestSession(c, cookie, new Date()) : null;
  if (!session) return c.redirect(`/login?next=${encodeURIComponent(`/party/${partyId}`)}`, 303);
  const party = await partyObject(c.env, partyId, c.get("requestId")).info(Date.now());
  if (!party) return c.notFound();
  const query = new URLSearchParams();
  if (party.episodeId) query.set("episode", party.episodeId);
  query.set("party", partyId);
  return c.redirect(`/watch/${encodeURIComponent(party.titleId)}?${query}`, 303);
});
