// The web app's session cookie `__Host-marquee_session`: Secure, Path=/, no Domain (this
// exact origin only), HttpOnly (no script can read it), SameSite=Lax (not sent on
// cross-site POSTs).
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";

/** Hono adds the `__Host-` prefix (and enforces its rules) from `prefix: "host"`. */
const NAME = "marquee_session";

export function readSessionCookie(c: Context): string | undefined {
  return getCookie(c, NAME, "host");
}

export function writeSessionCookie(c: Context, token: string, expiresAt: Date): void {
  setCookie(c, NAME, token, { path: "/", secure: true, httpOnly: true, sameSite: "Lax", expires: expiresAt, prefix: "host" });
}

export function clearSessionCookie(c: Context): void {
  deleteCookie(c, NAME, { path: "/", secure: true, prefix: "host" });
}
