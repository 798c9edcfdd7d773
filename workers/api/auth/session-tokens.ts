// Session tokens: 256 random bits, handed to the client once; the server keeps only their
// SHA-256, so a leaked database holds no usable session.
import { base64UrlDecode, base64UrlEncode } from "../../../lib/base64url.ts";

const encoder = new TextEncoder();

export function newSessionToken(): string {
  return base64UrlEncode(crypto.getRandomValues(new Uint8Array(32)));
}

/**
 * A string that could be a token we made: the canonical base64url of 32 bytes. Anything
 * else is refused before it is hashed or looked up, so a token has exactly one spelling
 * and junk costs no D1 read.
 */
export function isSessionToken(text: string): boolean {
  return text.length === 43 && base64UrlDecode(text)?.byteLength === 32;
}

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

/** The session's id in D1. */
export async function sessionIdFor(token: string): Promise<string> {
  return [...(await sha256(token))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The CSRF token of a cookie session, derived from the session token so nothing more is
 * stored: a page of ours can be given it, another site can neither read the HttpOnly
 * cookie nor compute it.
 */
export async function csrfTokenFor(token: string): Promise<string> {
  return base64UrlEncode(await sha256(`csrf\0${token}`));
}
