// What a D1 bookmark looks like, and where a client sends one: the only code that knows
// the `x-d1-bookmark` header and the web app's bookmark cookie. A bookmark from a client
// is hostile input; only the one canonical spelling D1 produces is ever opened.

/** Request and response header: devices send back what the last response carried. */
export const BOOKMARK_HEADER = "x-d1-bookmark";

/**
 * The web app's cookie, `__Host-marquee_d1_bookmark` (Hono adds the prefix from
 * `prefix: "host"`): Secure, Path=/, no Domain, so no other host (a sibling subdomain)
 * can plant one; HttpOnly; SameSite=Lax. It lives only a few minutes: a bookmark matters
 * right after a write, until the replicas have caught up (seconds).
 */
export const BOOKMARK_COOKIE = "marquee_d1_bookmark";
export const BOOKMARK_COOKIE_MAX_AGE_SEC = 300;

/**
 * D1 bookmarks are four lowercase hex fields, `8-8-8-32` (what Miniflare's
 * getBookmark() returns, e.g. `00000000-00000002-00000000-000…0`, and the shape of the
 * examples in Cloudflare's docs: `00000085-0000024c-00004c6d-8e61117bf38d7adb71b934ebbf891683`).
 */
const LENGTH = 8 + 1 + 8 + 1 + 8 + 1 + 32;
// Fixed counts and literal separators, no alternation: nothing to backtrack, and the
// length is checked before it runs, so it never reads more than 59 characters.
const CANONICAL = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/;

/**
 * The bookmark, if `value` is one in D1's canonical spelling; otherwise null and the
 * caller reads as if none had been sent. Never passes anything else to withSession():
 * Miniflare accepts any string there (and hands "garbage" back from getBookmark() as the
 * session's bookmark), and what production D1 does with one is not ours to find out on a
 * member's request. "first-primary" from a client is not a bookmark either: a client may
 * not send its reads to the primary.
 */
export function canonicalBookmark(value: string | null | undefined): string | null {
  if (typeof value !== "string" || value.length !== LENGTH) return null;
  return CANONICAL.test(value) ? value : null;
}
