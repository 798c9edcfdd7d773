// One D1 session per request for member reads and writes: opened lazily from the
// bookmark the client sent (header, or the web app's cookie) so a member reads at least
// what they wrote, from a nearby read replica when replication is on; the session's
// latest bookmark goes back on the response. docs/read-replication.md lists which routes
// read through it and which stay on the primary.
import type { Context, MiddlewareHandler } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { BOOKMARK_COOKIE, BOOKMARK_COOKIE_MAX_AGE_SEC, BOOKMARK_HEADER, canonicalBookmark } from "./bookmark.ts";
import type { D1Queryable } from "./queryable.ts";

/** A request's D1 sessions: the one in use last; earlier ones only for their bookmarks. */
export type MemberDbState = { sessions: D1DatabaseSession[]; from: string | null };

/** What memberDb needs of a Hono env: the D1 binding, and a variable to keep the session in. */
export type MemberDbEnv = { Bindings: { DB: D1Database }; Variables: { d1Session: MemberDbState } };

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** The client's bookmark, if it sent one in D1's canonical spelling: the header first, else the cookie. */
function sentBookmark(c: Context): string | null {
  return canonicalBookmark(c.req.header(BOOKMARK_HEADER)) ?? canonicalBookmark(getCookie(c, BOOKMARK_COOKIE, "host"));
}

function stateOf<E extends MemberDbEnv>(c: Context<E>): MemberDbState {
  const ctx = c as unknown as Context<MemberDbEnv>;
  let state = ctx.get("d1Session") as MemberDbState | undefined;
  if (!state) {
    state = { sessions: [], from: sentBookmark(ctx) };
    ctx.set("d1Session", state);
  }
  return state;
}

function open(db: D1Database, from: string): D1DatabaseSession {
  try {
    return db.withSession(from);
  } catch {
    // The bookmark is canonical but this D1 refuses it: read as if none had been sent.
    return db.withSession("first-unconstrained");
  }
}

/**
 * The request's D1 session, for every member read and write: reads go to a replica at
 * least as new as the client's bookmark (or any replica, "first-unconstrained", without
 * one); writes go to the primary and move the session's bookmark past them. Created on
 * first use, so a request that never touches D1 opens none. `d1Sessions` (registered once
 * in app.ts) sends the bookmark back; called outside it, it still works but nothing is sent.
 */
export function memberDb<E extends MemberDbEnv>(c: Context<E>): D1DatabaseSession {
  const state = stateOf(c);
  const current = state.sessions.at(-1);
  if (current) return current;
  const session = open(c.env.DB, state.from ?? "first-unconstrained");
  state.sessions.push(session);
  return session;
}

/**
 * Makes the request's session start again at the primary ("first-primary"): its next
 * query reads the primary, and every later one a copy at least that new. For a read that
 * missed on a replica which may simply not have the row yet (a session signed in a moment
 * ago, elsewhere), and for what follows it in the same request.
 */
export function memberDbFromPrimary<E extends MemberDbEnv>(c: Context<E>): D1DatabaseSession {
  const session = c.env.DB.withSession("first-primary");
  stateOf(c).sessions.push(session);
  return session;
}

/**
 * After a write made on the primary outside the session (`c.env.DB`, e.g. the dev
 * checkout): one read at the primary, so the bookmark this response carries covers that
 * write and the member's next request sees it. Best effort: a failure here costs only
 * read-your-writes, never the write's answer.
 */
export async function bookmarkFromPrimary<E extends MemberDbEnv>(c: Context<E>): Promise<void> {
  try {
    await memberDbFromPrimary(c).prepare("SELECT 1").first();
  } catch {
    // The write happened; the next read may lag behind it for a few seconds.
  }
}

/**
 * A read that must find what the caller itself made, bookmark or not: asked of `near`
 * (the request's session, a nearby replica) and, when that finds nothing, of `primary`
 * — a replica may be a moment behind. Two round trips only for a miss.
 */
export async function readOrPrimary<T>(near: D1Queryable, primary: (() => D1Queryable) | undefined, read: (db: D1Queryable) => Promise<T | null>): Promise<T | null> {
  const found = await read(near);
  if (found !== null || !primary) return found;
  return read(primary());
}

/** The latest bookmark of the request's sessions, newest session first. */
function latestBookmark(state: MemberDbState): string | null {
  for (let i = state.sessions.length - 1; i >= 0; i--) {
    const bookmark = state.sessions[i]!.getBookmark();
    if (bookmark) return bookmark;
  }
  return null;
}

/**
 * Registered once, before every route (app.ts): after the handler, a request that used
 * its D1 session answers with the session's bookmark in `x-d1-bookmark`, and a browser's
 * state-changing request (it sent or was given cookies) also gets it in the bookmark
 * cookie, so the page it is redirected to, and the scripts' next calls, read the write.
 * Only a canonical bookmark is sent: one the client could not send back is no use.
 */
export function d1Sessions(): MiddlewareHandler<MemberDbEnv> {
  return async (c, next) => {
    await next();
    const state = c.get("d1Session") as MemberDbState | undefined;
    if (!state || state.sessions.length === 0) return;
    const bookmark = canonicalBookmark(latestBookmark(state));
    if (!bookmark) return;
    c.header(BOOKMARK_HEADER, bookmark);
    const browser = c.req.header("cookie") !== undefined || c.res.headers.has("set-cookie");
    if (browser && !SAFE_METHODS.has(c.req.method)) {
      setCookie(c, BOOKMARK_COOKIE, bookmark, { path: "/", secure: true, httpOnly: true, sameSite: "Lax", maxAge: BOOKMARK_COOKIE_MAX_AGE_SEC, prefix: "host" });
    }
  };
}
