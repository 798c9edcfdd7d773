// Who is looking at a page: the session cookie, if any, read once per page (never a
// redirect by itself). Pages read `c.get("page")`: the signed-in member (account, entered
// profile, plan) and the CSRF token for <meta name="csrf-token">. `memberPage` is the
// guard of pages that need more: signed in (else /login), a plan (else /plans), an
// entered profile (else /profiles).
import type { Context, MiddlewareHandler } from "hono";
import { log } from "../../../lib/log.ts";
import { planById } from "../../../lib/plans.ts";
import { clearSessionCookie, readSessionCookie } from "../auth/session-cookie.ts";
import { checkRequestSession } from "../auth/request-session.ts";
import { authOf } from "../auth/sessions.ts";
import { csrfTokenFor, sessionIdFor } from "../auth/session-tokens.ts";
import { memberDb, memberDbFromPrimary } from "../d1-sessions/member-db.ts";
import { memberDetails } from "./member-details.ts";
import type { PageEnv, PageMember, PageSession } from "./page-types.ts";
import { PLAYING_STATUSES } from "../playback/start-checks.ts";
import { UnavailablePage } from "./notice.tsx";


export const SIGNED_OUT: PageSession = { member: null, unavailable: false };

export async function readPageSession(c: Context<PageEnv>): Promise<PageSession> {
  const token = readSessionCookie(c);
  if (!token) return SIGNED_OUT;
  try {
    const now = new Date();
    const id = await sessionIdFor(token);
    const near = memberDb(c);
    const [session, nearDetails] = await Promise.all([checkRequestSession(c, token, now), memberDetails(near, id)]);
    // The session was there (perhaps only at the primary) but the replica's copy of it was
    // not: read the details where the session was found to be.
    const details = nearDetails ?? (session ? await memberDetails(memberDbFromPrimary(c), id) : null);
    if (!session || !details) {
      // Expired or signed out elsewhere: forget the cookie, show the signed-out page.
      clearSessionCookie(c);
      return SIGNED_OUT;
    }
    const plan = session.planId && session.subscriptionStatus && PLAYING_STATUSES.has(session.subscriptionStatus) ? (planById(session.planId) ?? null) : null;
    return {
      unavailable: false,
      member: {
        accountId: session.accountId,
        email: details.email,
        sessionId: session.sessionId,
        csrfToken: await csrfTokenFor(token),
        profile: session.profileId ? details.profile : null,
        plan,
        subscriptionStatus: session.subscriptionStatus,
        auth: authOf(session),
      },
    };
  } catch (err) {
    log("warn", { event: "dependency_failed", requestId: c.get("requestId"), dependency: "d1", message: `page session: ${String(err)}` });
    return { member: null, unavailable: true };
  }
}

export const pageSession: MiddlewareHandler<PageEnv> = async (c, next) => {
  c.set("page", await readPageSession(c));
  await next();
};

export type PageNeeds = { plan?: boolean; profile?: boolean };

/** The guard of member pages; runs after `pageSession`. */
export function memberPage(needs: PageNeeds = {}): MiddlewareHandler<PageEnv> {
  return async (c, next) => {
    const session = c.get("page");
    if (session.unavailable) return c.html(<UnavailablePage session={session} />, 503, { "Retry-After": "30" });
    const member = session.member;
    if (!member) return c.redirect("/login", 303);
    if (needs.plan && !member.plan) return c.redirect("/plans", 303);
    if (needs.profile && !member.profile) return c.redirect("/profiles", 303);
    await next();
  };
}

/** The member of a page behind `memberPage`. */
export function memberOf(c: Context<PageEnv>): PageMember {
  const member = c.get("page").member;
  if (!member) throw new Error("memberOf: the page has no memberPage guard");
  return member;
}
