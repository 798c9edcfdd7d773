// Read replication (d1-sessions/): a write answers with a bookmark, a read sent with it
// (header, or the web app's cookie) opens its D1 session from it and sees the write, a
// hostile bookmark is ignored, and the session check asks the primary when a replica has
// not got the session yet. Miniflare has no replicas, so what reaches `withSession` is
// watched through a spy on the binding, and a lagging replica is a real D1 session that
// reads a real snapshot of `sessions` taken before the sign-in it must not know yet.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../app.ts";
import { checkSession } from "../auth/sessions.ts";
import { newSessionToken } from "../auth/session-tokens.ts";
import { canonicalBookmark } from "../d1-sessions/bookmark.ts";
import { readOrPrimary } from "../d1-sessions/member-db.ts";
import { newClientAddress, signUp } from "./auth-client.ts";
import { api, webMember } from "./pages-client.ts";
import { seedPlayableCatalog } from "./playback-client.ts";

const ORIGIN = "https://marquee.test";
const COOKIE = "__Host-marquee_d1_bookmark";
const CONSTRAINTS = new Set(["first-unconstrained", "first-primary"]);
/** The test's own judge of a canonical D1 bookmark, independent of the code under test. */
const CANONICAL = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/;

beforeAll(async () => {
  await seedPlayableCatalog();
});

/** The real binding, remembering what each `withSession` was opened with. */
function spyOn(db: D1Database) {
  const opened: string[] = [];
  const spy = new Proxy(db, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (prop === "withSession") {
        return (from: string) => {
          opened.push(from);
          return target.withSession(from);
        };
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { db: spy, opened };
}

/** A request through a fresh app on `db` instead of the test's binding. */
async function through(db: D1Database, path: string, init: RequestInit = {}, host = ORIGIN) {
  const ctx = createExecutionContext();
  const res = await createApp().request(`${host}${path}`, init, { ...env, DB: db }, ctx);
  const body = await res.text();
  await waitOnExecutionContext(ctx);
  return { res, body };
}

const fetchApi = (path: string, init: RequestInit = {}) => exports.default.fetch(`${ORIGIN}${path}`, init);

function bookmarkOf(res: Response): string {
  const bookmark = res.headers.get("x-d1-bookmark");
  expect(bookmark, "x-d1-bookmark").toMatch(CANONICAL);
  return bookmark!;
}

/** The bookmark cookie a response sets, with its attributes, or null. */
function bookmarkCookieOf(res: Response): string | null {
  return res.headers.getSetCookie().find((c) => c.startsWith(`${COOKIE}=`)) ?? null;
}

describe("the bookmark format", () => {
  it("is what Miniflare's getBookmark() returns, and the docs' example", async () => {
    const session = env.DB.withSession("first-primary");
    await session.prepare("SELECT 1").first();
    const real = session.getBookmark()!;
    expect(canonicalBookmark(real)).toBe(real);
    expect(canonicalBookmark("00000085-0000024c-00004c6d-8e61117bf38d7adb71b934ebbf891683")).toBe("00000085-0000024c-00004c6d-8e61117bf38d7adb71b934ebbf891683");
    for (const near of [
      real.toUpperCase().replace(/^0/, "A"),
      `${real}0`,
      real.slice(1),
      ` ${real}`,
      real.replaceAll("-", "_"),
      real.replace(/-/, ""),
      "first-primary",
      "first-unconstrained",
      "",
      "0".repeat(59),
      "g".repeat(8) + real.slice(8),
    ]) {
      expect(canonicalBookmark(near), near).toBeNull();
    }
    expect(canonicalBookmark(undefined)).toBeNull();
    expect(canonicalBookmark(null)).toBeNull();
  });

  it("accepts a string only when it is exactly a canonical bookmark", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 80 }), fc.stringMatching(/^[0-9a-fA-F-]{55,62}$/), fc.stringMatching(CANONICAL)), (s) => {
        expect(canonicalBookmark(s)).toBe(CANONICAL.test(s) ? s : null);
      }),
      { numRuns: 2_000 },
    );
  });
});

describe("a write answers with a bookmark, and a read sent with it starts from it", () => {
  it("My List and thumbs, through the x-d1-bookmark header", async () => {
    const m = await signUp();
    const me = (await (await fetchApi("/v1/me", { headers: m.headers })).json()) as { profiles: { id: string }[] };
    const profileId = me.profiles[0]!.id;

    const added = await fetchApi(`/v1/profiles/${profileId}/list/first-light`, { method: "PUT", headers: m.headers });
    expect(added.status).toBe(201);
    const afterAdd = bookmarkOf(added);
    const spy = spyOn(env.DB);
    const listed = await through(spy.db, `/v1/profiles/${profileId}/list/first-light`, { headers: { ...m.headers, "x-d1-bookmark": afterAdd } });
    expect(listed.res.status).toBe(200);
    expect(JSON.parse(listed.body)).toMatchObject({ inList: true });
    // The session check and the read both ran in the one session opened from the bookmark.
    expect(spy.opened).toEqual([afterAdd]);
    expect(bookmarkOf(listed.res) >= afterAdd).toBe(true);

    const rated = await fetchApi(`/v1/profiles/${profileId}/ratings/first-light`, {
      method: "PUT",
      headers: { ...m.headers, "content-type": "application/json", "x-d1-bookmark": afterAdd },
      body: JSON.stringify({ rating: "up" }),
    });
    expect(rated.status).toBe(200);
    const afterRate = bookmarkOf(rated);
    // Miniflare's bookmarks are fixed-width hex counters: the write moved this one on.
    expect(afterRate > afterAdd).toBe(true);
    const rating = await fetchApi(`/v1/profiles/${profileId}/ratings/first-light`, { headers: { ...m.headers, "x-d1-bookmark": afterRate } });
    expect(await rating.json()).toEqual({ rating: "up" });

    const removed = await fetchApi(`/v1/profiles/${profileId}/list/first-light`, { method: "DELETE", headers: { ...m.headers, "x-d1-bookmark": afterRate } });
    expect(removed.status).toBe(204);
    const gone = await fetchApi(`/v1/profiles/${profileId}/list/first-light`, { headers: { ...m.headers, "x-d1-bookmark": bookmarkOf(removed) } });
    expect(await gone.json()).toMatchObject({ inList: false });
    // A device gets the header only: no cookie it did not ask for.
    expect(bookmarkCookieOf(removed)).toBeNull();
  });

  it("creating and renaming a profile, read back by /v1/profiles and /v1/me", async () => {
    const signup = await fetchApi("/v1/auth/signup", {
      method: "POST",
      headers: { "content-type": "application/json", "CF-Connecting-IP": newClientAddress() },
      body: JSON.stringify({ email: `replica-${Date.now()}@example.com`, password: "correct horse battery staple" }),
    });
    expect(signup.status).toBe(201);
    const headers = { Authorization: `Bearer ${((await signup.json()) as { token: string }).token}` };
    // Signing in made the session through the request's D1 session: its bookmark covers it.
    const afterSignUp = bookmarkOf(signup);

    const created = await fetchApi("/v1/profiles", {
      method: "POST",
      headers: { ...headers, "content-type": "application/json", "x-d1-bookmark": afterSignUp },
      body: JSON.stringify({ name: "Replica" }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const spy = spyOn(env.DB);
    const listed = await through(spy.db, "/v1/profiles", { headers: { ...headers, "x-d1-bookmark": bookmarkOf(created) } });
    expect(spy.opened).toEqual([bookmarkOf(created)]);
    expect((JSON.parse(listed.body) as { profiles: { id: string }[] }).profiles.map((p) => p.id)).toContain(id);

    const renamed = await fetchApi(`/v1/profiles/${id}`, {
      method: "PATCH",
      headers: { ...headers, "content-type": "application/json", "x-d1-bookmark": bookmarkOf(created) },
      body: JSON.stringify({ name: "Renamed" }),
    });
    expect(renamed.status).toBe(200);
    const me = await fetchApi("/v1/me", { headers: { ...headers, "x-d1-bookmark": bookmarkOf(renamed) } });
    expect(((await me.json()) as { profiles: { id: string; name: string }[] }).profiles.find((p) => p.id === id)?.name).toBe("Renamed");
  });

  it("without a bookmark: any replica (first-unconstrained), and a bookmark back", async () => {
    const m = await signUp();
    const spy = spyOn(env.DB);
    const res = await through(spy.db, "/v1/profiles", { headers: m.headers });
    expect(res.res.status).toBe(200);
    expect(spy.opened).toEqual(["first-unconstrained"]);
    bookmarkOf(res.res);
    // A route that never touches D1 opens no session and sends no bookmark.
    const plans = await through(spy.db, "/v1/plans");
    expect(plans.res.status).toBe(200);
    expect(plans.res.headers.get("x-d1-bookmark")).toBeNull();
    expect(spy.opened).toEqual(["first-unconstrained"]);
  });

  it("the catalog's cached reads use the same session: the client's bookmark in, the latest out", async () => {
    const first = await fetchApi("/v1/titles/first-light");
    expect(first.status).toBe(200);
    const bookmark = bookmarkOf(first);
    const spy = spyOn(env.DB);
    const again = await through(spy.db, "/v1/titles/first-light", { headers: { "x-d1-bookmark": bookmark } });
    expect(again.res.status).toBe(200);
    expect(spy.opened).toEqual([bookmark]);
    bookmarkOf(again.res);
  });

  it("a dev checkout, written on the primary, answers with a bookmark from the primary", async () => {
    const m = await signUp();
    const spy = spyOn(env.DB);
    const res = await through(spy.db, "/v1/billing/checkout", { method: "POST", headers: { ...m.headers, "content-type": "application/json" }, body: JSON.stringify({ planId: "basic" }) }, "https://localhost");
    expect(res.res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ status: "active", planId: "basic" });
    // The session check (any replica), then one read at the primary after the write.
    expect(spy.opened).toEqual(["first-unconstrained", "first-primary"]);
    const subscription = await fetchApi("/v1/billing/subscription", { headers: { ...m.headers, "x-d1-bookmark": bookmarkOf(res.res) } });
    expect(await subscription.json()).toMatchObject({ status: "active", planId: "basic" });
  });
});

describe("the web app: the bookmark cookie", () => {
  it("is set by a script's write (HttpOnly, Secure, SameSite=Lax, Path=/, five minutes), and a read sent with it starts from it", async () => {
    const member = await webMember({ plan: "basic" });
    const added = await api(member, "PUT", `/v1/profiles/${member.profileId}/list/first-light`);
    expect(added.status).toBe(201);
    const bookmark = bookmarkOf(added);
    const cookie = bookmarkCookieOf(added)!;
    expect(cookie).toMatch(new RegExp(`^${COOKIE}=${bookmark};`));
    for (const attribute of ["Max-Age=300", "Path=/", "HttpOnly", "Secure", "SameSite=Lax"]) expect(cookie).toContain(attribute);
    expect(cookie).not.toContain("Domain=");

    const spy = spyOn(env.DB);
    const read = await through(spy.db, `/v1/profiles/${member.profileId}/list/first-light`, { headers: { cookie: `${member.cookie}; ${COOKIE}=${bookmark}` } });
    expect(JSON.parse(read.body)).toMatchObject({ inList: true });
    expect(spy.opened).toEqual([bookmark]);
    // A read sets no cookie (the bookmark matters after writes); the header still comes.
    expect(bookmarkCookieOf(read.res)).toBeNull();
    bookmarkOf(read.res);
  });

  it("rides a form post's redirect, and the page it leads to reads the new profile", async () => {
    const member = await webMember({ plan: "basic" });
    const posted = await exports.default.fetch(`${ORIGIN}/profiles`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie: member.cookie, origin: ORIGIN, "content-type": "application/x-www-form-urlencoded", accept: "text/html" },
      body: new URLSearchParams({ name: "From a form", csrf: member.csrfToken }).toString(),
    });
    expect(posted.status).toBe(303);
    expect(posted.headers.get("location")).toBe("/profiles");
    const bookmark = bookmarkOf(posted);
    expect(bookmarkCookieOf(posted)).toMatch(new RegExp(`^${COOKIE}=${bookmark};`));

    const spy = spyOn(env.DB);
    const page = await through(spy.db, "/profiles", { headers: { cookie: `${member.cookie}; ${COOKIE}=${bookmark}`, accept: "text/html" } });
    expect(page.res.status).toBe(200);
    expect(page.body).toContain("From a form");
    expect(spy.opened).toEqual([bookmark]);
  });

  it("is set when a web sign-in starts a session, beside the session cookie", async () => {
    const res = await fetchApi("/v1/auth/signup", {
      method: "POST",
      headers: { "content-type": "application/json", "CF-Connecting-IP": newClientAddress() },
      body: JSON.stringify({ email: `web-replica-${Date.now()}@example.com`, password: "correct horse battery staple", client: "web" }),
    });
    expect(res.status).toBe(201);
    const cookies = res.headers.getSetCookie();
    expect(cookies[0]).toMatch(/^__Host-marquee_session=/);
    expect(cookies[1]).toMatch(new RegExp(`^${COOKIE}=${bookmarkOf(res)};`));
  });

  it("the header wins over the cookie when both are canonical", async () => {
    const member = await webMember();
    const a = bookmarkOf(await api(member, "PUT", `/v1/profiles/${member.profileId}/list/first-light`));
    const b = bookmarkOf(await api(member, "DELETE", `/v1/profiles/${member.profileId}/list/first-light`));
    const spy = spyOn(env.DB);
    await through(spy.db, "/v1/profiles", { headers: { cookie: `${member.cookie}; ${COOKIE}=${a}`, "x-d1-bookmark": b } });
    await through(spy.db, "/v1/profiles", { headers: { cookie: `${member.cookie}; ${COOKIE}=${a}`, "x-d1-bookmark": "not-a-bookmark" } });
    expect(spy.opened).toEqual([b, a]);
  });
});

describe("a hostile bookmark", () => {
  const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((n) => String.fromCharCode(n)), maxLength: 120 });
  const nearMisses = (real: string) =>
    fc.oneof(
      printable,
      fc.stringMatching(/^[0-9a-fA-F-]{50,70}$/),
      fc.tuple(fc.nat(real.length - 1), fc.integer({ min: 0x20, max: 0x7e })).map(([i, ch]) => real.slice(0, i) + String.fromCharCode(ch) + real.slice(i + 1)),
      fc.nat(real.length - 1).map((i) => real.slice(0, i) + real.slice(i + 1)),
      fc.constantFrom(real.toUpperCase(), `${real},${real}`, `${real}0`, "first-primary", "first-unconstrained", "x".repeat(8_192), `${real}${" ".repeat(4_000)}x`),
    ).filter((s) => !CANONICAL.test(s));

  it("is ignored, as header or cookie, on member, catalog and page reads: a normal answer, never a 4xx or 5xx", async () => {
    const device = await signUp();
    const member = await webMember({ plan: "basic", enter: true });
    const probe = env.DB.withSession("first-primary");
    await probe.prepare("SELECT 1").first();
    const real = probe.getBookmark()!;
    const spy = spyOn(env.DB);
    await fc.assert(
      fc.asyncProperty(nearMisses(real), fc.constantFrom("header", "cookie"), fc.constantFrom("/v1/profiles", "/v1/me", "/v1/titles/first-light", "/profiles", "/title/first-light"), async (bookmark, carrier, path) => {
        const page = !path.startsWith("/v1/");
        const auth = page ? { cookie: member.cookie } : carrier === "cookie" ? { cookie: member.cookie } : device.headers;
        const headers: Record<string, string> = { ...auth, accept: page ? "text/html" : "application/json" };
        if (carrier === "header") headers["x-d1-bookmark"] = bookmark;
        else headers.cookie = `${headers.cookie ?? ""}; ${COOKIE}=${bookmark}`.replace(/^; /, "");
        const before = spy.opened.length;
        const { res } = await through(spy.db, path, { headers });
        expect(res.status, `${path} with ${carrier} ${JSON.stringify(bookmark.slice(0, 80))}`).toBe(200);
        // Never opened from the client's string: only D1's own constraints.
        expect(spy.opened.slice(before).every((from) => CONSTRAINTS.has(from))).toBe(true);
        bookmarkOf(res);
      }),
      { numRuns: 150 },
    );
  }, 60_000);
});

// ---- A replica behind the primary -------------------------------------------------

const SNAPSHOT = "replica_sessions";

/** The replica's copy of `sessions`, as it was at this moment (a real table, really lacking later rows). */
async function snapshotSessions(): Promise<void> {
  await env.DB.batch([env.DB.prepare(`DROP TABLE IF EXISTS ${SNAPSHOT}`), env.DB.prepare(`CREATE TABLE ${SNAPSHOT} AS SELECT * FROM sessions`)]);
}

/** A real D1 session whose reads of `sessions` see the snapshot: a replica that has not caught up. */
function behind(session: D1DatabaseSession): D1DatabaseSession {
  return {
    prepare: (sql: string) => session.prepare(/^\s*select/i.test(sql) ? sql.replace(/\bsessions\b/g, SNAPSHOT) : sql),
    batch: (statements: D1PreparedStatement[]) => session.batch(statements),
    getBookmark: () => session.getBookmark(),
  } as D1DatabaseSession;
}

/** The binding with replicas behind it: every session but a "first-primary" one reads the snapshot. */
function laggingReplicas(db: D1Database) {
  const opened: string[] = [];
  /** Statements prepared on the binding itself (the primary, outside any session). */
  const onPrimary: string[] = [];
  const lagging = new Proxy(db, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (prop === "withSession") {
        return (from: string) => {
          opened.push(from);
          const session = target.withSession(from);
          return from === "first-primary" ? session : behind(session);
        };
      }
      if (prop === "prepare") {
        return (sql: string) => {
          onPrimary.push(sql);
          return target.prepare(sql);
        };
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { db: lagging, opened, onPrimary };
}

describe("the session check on a replica that is behind", () => {
  it("finds a session the replica has on the replica, in one read", async () => {
    const known = await signUp();
    await snapshotSessions();
    const replicas = laggingReplicas(env.DB);
    const res = await through(replicas.db, "/v1/profiles", { headers: known.headers });
    expect(res.res.status).toBe(200);
    expect(replicas.opened).toEqual(["first-unconstrained"]);
  });

  it("asks the primary for a session the replica has not got yet, and the rest of the request reads there too", async () => {
    await snapshotSessions();
    const fresh = await signUp();
    const replicas = laggingReplicas(env.DB);
    const res = await through(replicas.db, "/v1/profiles", { headers: fresh.headers });
    expect(res.res.status).toBe(200);
    expect((JSON.parse(res.body) as { profiles: unknown[] }).profiles).toHaveLength(1);
    expect(replicas.opened).toEqual(["first-unconstrained", "first-primary"]);

    const unknown = await through(replicas.db, "/v1/profiles", { headers: { Authorization: `Bearer ${newSessionToken()}` } });
    expect(unknown.res.status).toBe(401);
    // It looked at the primary before saying 401.
    expect(replicas.opened.slice(2)).toEqual(["first-unconstrained", "first-primary"]);
  });

  it("works for the pages too: a brand-new web session is signed in, not sent to /login", async () => {
    await snapshotSessions();
    const member = await webMember({ plan: "basic", enter: true });
    const replicas = laggingReplicas(env.DB);
    const res = await through(replicas.db, "/profiles", { headers: { cookie: member.cookie, accept: "text/html" } });
    expect(res.res.status).toBe(200);
    expect(res.body).toContain(member.csrfToken);
    expect(res.res.headers.get("set-cookie")).toBeNull();
  });

  it("writes lastSeenAt on the primary binding, not through the request's session", async () => {
    const m = await signUp();
    await env.DB.prepare("UPDATE sessions SET last_seen_at = ? WHERE account_id = ?").bind(Date.now() - 2 * 3_600_000, m.accountId).run();
    await snapshotSessions();
    const replicas = laggingReplicas(env.DB);
    const before = Date.now();
    expect((await through(replicas.db, "/v1/profiles", { headers: m.headers })).res.status).toBe(200);
    expect(replicas.onPrimary.some((sql) => /^update "sessions" set "last_seen_at"/i.test(sql))).toBe(true);
    const row = await env.DB.prepare("SELECT last_seen_at FROM sessions WHERE account_id = ?").bind(m.accountId).first<{ last_seen_at: number }>();
    expect(row!.last_seen_at).toBeGreaterThanOrEqual(before);
  });

  it("lets a session ended a moment ago through on a lagging replica — the revocation lag docs/threat-model.md states", async () => {
    const m = await signUp();
    await snapshotSessions();
    expect((await fetchApi("/v1/auth/logout", { method: "POST", headers: m.headers })).status).toBe(204);
    // The primary knows at once...
    expect((await fetchApi("/v1/profiles", { headers: m.headers })).status).toBe(401);
    // ...a replica that still has the row lets it in until it catches up.
    const replicas = laggingReplicas(env.DB);
    expect((await through(replicas.db, "/v1/profiles", { headers: m.headers })).res.status).toBe(200);
    expect(replicas.opened).toEqual(["first-unconstrained"]);
  });

  it("checkSession and readOrPrimary: a real session lacking the row, then one that has it", async () => {
    await snapshotSessions();
    const m = await signUp();
    const now = new Date();
    const replica = () => behind(env.DB.withSession("first-unconstrained"));
    expect(await checkSession(replica(), m.token, now)).toBeNull();
    let asked = 0;
    const primary = () => (asked++, env.DB.withSession("first-primary"));
    expect((await checkSession(replica(), m.token, now, { primary }))?.accountId).toBe(m.accountId);
    expect(asked).toBe(1);

    const id = (await env.DB.prepare("SELECT id FROM sessions WHERE account_id = ?").bind(m.accountId).first<{ id: string }>())!.id;
    const read = (db: Pick<D1Database, "prepare">) => db.prepare("SELECT id FROM sessions WHERE id = ?").bind(id).first<{ id: string }>();
    expect(await readOrPrimary(replica(), primary, read)).toEqual({ id });
    expect(asked).toBe(2);
    // Found near: the primary is not asked.
    expect(await readOrPrimary(env.DB.withSession("first-unconstrained"), primary, read)).toEqual({ id });
    expect(asked).toBe(2);
    expect(await readOrPrimary(replica(), undefined, read)).toBeNull();
  });
});
