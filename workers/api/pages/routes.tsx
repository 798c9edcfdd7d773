// The server-rendered pages of the web app (docs/web-app.md). Every page gets the
// security headers and the page session; member pages are guarded by `memberPage`. A
// failing dependency degrades a page to a notice, an unknown title is a 404 page, and
// neither is ever a 500. Page reads go through the request's D1 session (memberDb): a
// nearby replica, at least as new as the bookmark cookie a form post or script write left.
import { edgeCache } from "../../../lib/bindings/guard.ts";
import type { Context, MiddlewareHandler } from "hono";
import { Hono } from "hono";
import { log } from "../../../lib/log.ts";
import { listSessions } from "../auth/sessions.ts";
import { getSubscription } from "../billing/subscriptions.ts";
import { getTitle, listTitles } from "../catalog/browse.ts";
import { memberDb } from "../d1-sessions/member-db.ts";
import { asD1Database } from "../d1-sessions/queryable.ts";
import { searchTitles, type SearchHit } from "../catalog/search.ts";
import { homePage, type HomeDeps, type HomePage as HomeRows } from "../home/home-page.ts";
import { streamLeases } from "../playback/stream-leases.ts";
import { listProfiles } from "../profiles/profiles.ts";
import { AccountPage, type DeviceView, type StreamView, type SubscriptionView } from "./account.tsx";
import { addProfileByForm, playbackSettingsByForm, safeNext, signInByForm, signOutByForm } from "./form-posts.ts";
import { HomePage } from "./home.tsx";
import { LandingPage, type LandingPoster } from "./landing.tsx";
import { ErrorPage, NotFoundPage, UnavailablePage } from "./notice.tsx";
import { memberOf, memberPage, pageSession, readPageSession, SIGNED_OUT } from "./page-session.tsx";
import type { PageEnv } from "./page-types.ts";
import { PlansPage } from "./plans.tsx";
import { ProfilesPage } from "./profiles.tsx";
import { MAX_QUERY, SEARCH_LIMIT, SearchPage } from "./search.tsx";
import { securityHeaders, setSecurityHeaders } from "./security-headers.ts";
import { LoginPage, SignupPage } from "./sign-in.tsx";
import { TitlePage } from "./title.tsx";
import { titleState } from "./title-state.ts";
import { KB, limitBody } from "../body-limits.ts";

type PageContext = Context<PageEnv>;

/** Reads a dependency for a page; on failure logs it and answers null (the page shows a notice). */
async function degradable<T>(c: PageContext, dependency: "d1" | "cache" | "durable_object", read: () => Promise<T>): Promise<T | null> {
  try {
    return await read();
  } catch (err) {
    log("warn", { event: "dependency_failed", requestId: c.get("requestId"), dependency, message: `${c.req.path}: ${(err as Error)?.message ?? err}` });
    return null;
  }
}

const countryOf = (c: PageContext) => {
  const country = (c.req.raw as Request & { cf?: { country?: string } }).cf?.country ?? "";
  return /^[A-Z]{2}$/.test(country) ? country : "XX";
};

const homeDeps = (c: PageContext): HomeDeps => ({
  db: memberDb(c),
  env: c.env,
  accountId: c.get("page").member?.accountId ?? "",
  cache: edgeCache(c.env),
  origin: new URL(c.req.url).origin,
  waitUntil: (p) => c.executionCtx.waitUntil(p),
  requestId: c.get("requestId"),
});

/** The signed-out front page shows this many of the most popular titles as a poster wall. */
const LANDING_POSTERS = 18;
/** ...chosen from titles for everyone up to teens: it is a shop window. */
const LANDING_LEVEL = 2;

export const pageRoutes = new Hono<PageEnv>();

/** The middleware of every page: headers first, so notices and redirects carry them too. */
const page = [securityHeaders, pageSession] as const;

pageRoutes.onError((err, c) => {
  log("error", { event: "unhandled_error", requestId: c.get("requestId") ?? "", method: c.req.method, path: c.req.path, message: err.message, stack: err.stack ?? "" });
  return c.html(<ErrorPage session={c.get("page") ?? SIGNED_OUT} requestId={c.get("requestId") ?? ""} />, 500);
});

pageRoutes.get("/", ...page, async (c) => {
  const session = c.get("page");
  if (session.unavailable) return c.html(<UnavailablePage session={session} />, 503, { "Retry-After": "30" });
  const member = session.member;
  if (!member) {
    const posters = await degradable(c, "d1", async () => {
      const { titles } = await listTitles(memberDb(c), { maturityLevel: LANDING_LEVEL }, { sort: "popularity", limit: LANDING_POSTERS }, new Date());
      return titles.map((t): LandingPoster => ({ id: t.id, name: t.name, posterPath: t.posterPath }));
    });
    return c.html(<LandingPage session={session} posters={posters ?? []} />);
  }
  const checkout = c.req.query("checkout");
  if (!member.plan) return c.redirect(checkout === "success" ? "/plans?checkout=pending" : checkout === "canceled" ? "/plans?checkout=canceled" : "/plans", 303);
  if (!member.profile) return c.redirect("/profiles", 303);
  const profileId = member.profile.id;
  // homePage degrades by itself (stale page, popular rows, nothing); this is for the unexpected.
  const home =
    (await degradable(c, "d1", async () => (await homePage(homeDeps(c), profileId, countryOf(c), Date.now())).page)) ??
    ({ profileId, generatedAt: new Date().toISOString(), degraded: ["unavailable"], rows: [] } satisfies HomeRows);
  return c.html(<HomePage session={session} home={home} checkout={checkout === "success" ? "success" : null} />);
});

/** The pages' forms (sign up, sign in, sign out, add a profile) are a few hundred bytes. */
const formBody = limitBody(4 * KB);

for (const mode of ["signup", "login"] as const) {
  const Form = mode === "signup" ? SignupPage : LoginPage;
  // Signing in from a page that needed it (the player's /login?next=/watch/…) goes back there.
  const nextOf = (c: PageContext) => (mode === "login" ? safeNext(c.req.query("next")) : null);
  pageRoutes.get(`/${mode}`, ...page, (c) => {
    if (c.get("page").member) return c.redirect(nextOf(c) ?? "/", 303);
    return c.html(<Form session={c.get("page")} next={nextOf(c)} />);
  });
  pageRoutes.post(`/${mode}`, formBody, ...page, async (c) => {
    if (c.get("page").member) return c.redirect("/", 303);
    const outcome = await signInByForm(c, mode);
    if (outcome.ok) return c.redirect(outcome.next ?? "/", 303);
    return c.html(<Form session={c.get("page")} error={outcome.message} email={outcome.email} next={nextOf(c)} />, outcome.status);
  });
}

pageRoutes.post("/logout", formBody, ...page, async (c) => {
  await signOutByForm(c, c.get("page").member);
  return c.redirect("/", 303);
});

pageRoutes.get("/plans", ...page, memberPage(), (c) => {
  const checkout = c.req.query("checkout");
  return c.html(<PlansPage session={c.get("page")} member={memberOf(c)} checkout={checkout === "pending" || checkout === "canceled" ? checkout : null} />);
});

async function profilesPage(c: PageContext, error: string | null, status: 200 | 400 | 401 | 403 | 409 | 429 | 503 = 200) {
  const member = memberOf(c);
  const profiles = await degradable(c, "d1", () => listProfiles(memberDb(c), member.accountId));
  if (!profiles) return c.html(<UnavailablePage session={c.get("page")} />, 503, { "Retry-After": "30" });
  return c.html(<ProfilesPage session={c.get("page")} member={member} profiles={profiles} error={error} />, status);
}

pageRoutes.get("/profiles", ...page, memberPage(), (c) => profilesPage(c, null));

pageRoutes.post("/profiles", formBody, ...page, memberPage(), async (c) => {
  const outcome = await addProfileByForm(c, memberOf(c));
  if (outcome.ok) return c.redirect("/profiles", 303);
  return profilesPage(c, outcome.message, outcome.status);
});

pageRoutes.post("/profiles/playback", formBody, ...page, memberPage({ profile: true }), async (c) => {
  const outcome = await playbackSettingsByForm(c, memberOf(c));
  if (outcome.ok) return c.redirect("/profiles?saved=playback", 303);
  return profilesPage(c, outcome.message, outcome.status);
});

pageRoutes.get("/title/:id", ...page, memberPage({ profile: true }), async (c) => {
  const member = memberOf(c);
  const profile = member.profile!;
  const id = c.req.param("id");
  if (id.length > 80) return c.html(<NotFoundPage session={c.get("page")} what="title" />, 404);
  const loaded = await degradable(c, "d1", () =>
    Promise.all([getTitle(memberDb(c), { maturityLevel: profile.maturityLevel }, id, new Date()), titleState({ env: c.env, db: memberDb(c), accountId: member.accountId, requestId: c.get("requestId") }, profile.id, id)]),
  );
  if (!loaded) return c.html(<UnavailablePage session={c.get("page")} />, 503, { "Retry-After": "30" });
  const [title, state] = loaded;
  if (!title) return c.html(<NotFoundPage session={c.get("page")} what="title" />, 404);
  return c.html(<TitlePage session={c.get("page")} title={title} state={state} />);
});

pageRoutes.get("/search", ...page, memberPage({ profile: true }), async (c) => {
  const profile = memberOf(c).profile!;
  const q = (c.req.query("q") ?? "").trim().slice(0, MAX_QUERY);
  const results: SearchHit[] | null = q
    ? await degradable(c, "d1", () => searchTitles(asD1Database(memberDb(c)), q, { limit: SEARCH_LIMIT, now: new Date(), maxLevel: profile.maturityLevel }))
    : [];
  return c.html(<SearchPage session={c.get("page")} q={q} results={results} />);
});

pageRoutes.get("/account", ...page, memberPage(), async (c) => {
  const member = memberOf(c);
  const now = new Date();
  const [subscription, devices, streams] = await Promise.all([
    degradable(c, "d1", async (): Promise<SubscriptionView> => {
      const sub = await getSubscription(asD1Database(memberDb(c)), member.accountId);
      return sub ? { status: sub.status, provider: sub.provider, currentPeriodEnd: sub.currentPeriodEnd?.toISOString() ?? null } : null;
    }),
    degradable(c, "d1", async () =>
      (await listSessions(memberDb(c), member.accountId, now)).map(
        (s): DeviceView => ({ id: s.id, kind: s.kind, deviceName: s.deviceName, lastSeenAt: s.lastSeenAt.toISOString(), current: s.id === member.sessionId }),
      ),
    ),
    degradable(c, "durable_object", async () =>
      (await streamLeases(c.env, member.accountId, c.get("requestId")).list()).map(
        (s): StreamView => ({ id: s.id, deviceName: s.deviceName, profileName: s.profileName, titleName: s.titleName, since: new Date(s.startedAt).toISOString(), thisDevice: s.deviceSessionId === member.sessionId }),
      ),
    ),
  ]);
  return c.html(<AccountPage session={c.get("page")} member={member} subscription={subscription} devices={devices} streams={streams} />);
});

/** Paths that are never pages: the JSON API, media, health. */
const NOT_PAGES = /^\/(v1|p)(\/|$)|^\/healthz$/;

/**
 * Registered last, so it runs only when no route answered: a browser asking for a page
 * that does not exist gets the 404 page in the site's layout; API clients keep the JSON 404.
 */
export const pageNotFound: MiddlewareHandler<PageEnv> = async (c, next) => {
  await next();
  if (c.res.status !== 404 || (c.req.method !== "GET" && c.req.method !== "HEAD") || NOT_PAGES.test(c.req.path)) return;
  if (!(c.req.header("accept") ?? "").includes("text/html")) return;
  c.set("page", await readPageSession(c));
  const html = await c.html(<NotFoundPage session={c.get("page")} />, 404);
  // Replace the JSON answer outright (the setter would carry its headers over).
  c.res = undefined as unknown as Response;
  c.res = html;
  setSecurityHeaders(c);
};

pageRoutes.use("*", pageNotFound);
