// Who is browsing the catalog, for what they may see: signed in with an entered profile,
// that profile's maturity level; otherwise (signed out, or no profile yet) every level.
// Browsing never requires a session, so a missing or stale one is not an error here.
import type { Context } from "hono";
import { readSessionCookie } from "../auth/session-cookie.ts";
import { checkSession } from "../auth/sessions.ts";
import type { AppEnv } from "../env.ts";

export type Viewer = { maturityLevel: number };

const EVERYONE: Viewer = { maturityLevel: 3 };

export async function catalogViewer(c: Context<AppEnv>): Promise<Viewer> {
  const token = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "")?.[1] ?? readSessionCookie(c);
  if (!token) return EVERYONE;
  const session = await checkSession(c.env.DB, token, new Date());
  if (session?.touch) c.executionCtx.waitUntil(session.touch);
  return session?.maturityLevel == null ? EVERYONE : { maturityLevel: session.maturityLevel };
}
