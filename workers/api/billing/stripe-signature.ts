// Stripe's webhook signatures (`Stripe-Signature: t=…,v1=…`): checking that an event came from Stripe, and making valid headers for tests and dev tools.
import { constantTimeEqual } from "../../../lib/constant-time.ts";

export type SignatureCheck = { ok: true; timestamp: number } | { ok: false; reason: "missing" | "malformed" | "stale" | "mismatch" };

const encoder = new TextEncoder();

async function hmacSha256Hex(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(message)));
  return [...mac].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Stripe signs `${t}.${payload}`: the timestamp is inside the MAC, so it cannot be moved to replay an old event. */
const signedContent = (payload: string, timestamp: number) => `${timestamp}.${payload}`;

type ParsedHeader = { timestamp: number; v1: string[] };

/**
 * Reads `t` and every `v1` (Stripe sends several while a secret is being rolled); other
 * schemes such as `v0` are Stripe's test scheme and must never be accepted.
 */
function parseHeader(header: string): ParsedHeader | null {
  let timestamp: number | null = null;
  const v1: string[] = [];
  for (const item of header.split(",")) {
    const eq = item.indexOf("=");
    if (eq <= 0) return null;
    const key = item.slice(0, eq).trim();
    const value = item.slice(eq + 1).trim();
    if (key === "t") {
      if (timestamp !== null || !/^\d{1,12}$/.test(value)) return null;
      timestamp = Number(value);
    } else if (key === "v1" && value !== "") {
      v1.push(value);
    }
  }
  return timestamp === null || v1.length === 0 ? null : { timestamp, v1 };
}

async function anyMatches(candidates: string[], expected: string): Promise<boolean> {
  // Every candidate is compared, so the time taken does not tell which one (if any) was close.
  const results = await Promise.all(candidates.map((candidate) => constantTimeEqual(candidate.toLowerCase(), expected)));
  return results.includes(true);
}

export async function verifyStripeSignature(
  payload: string,
  header: string | undefined,
  secret: string,
  nowSec: number,
  toleranceSec = 300,
): Promise<SignatureCheck> {
  if (header === undefined || header.trim() === "") return { ok: false, reason: "missing" };
  const parsed = parseHeader(header);
  if (!parsed) return { ok: false, reason: "malformed" };
  const expected = await hmacSha256Hex(secret, signedContent(payload, parsed.timestamp));
  if (!(await anyMatches(parsed.v1, expected))) return { ok: false, reason: "mismatch" };
  // Both directions: a timestamp far in the future would otherwise stay replayable for as long.
  if (Math.abs(nowSec - parsed.timestamp) > toleranceSec) return { ok: false, reason: "stale" };
  return { ok: true, timestamp: parsed.timestamp };
}

/** A `Stripe-Signature` header value for `payload`, exactly as Stripe would send it at time `t` (unix seconds). */
export async function signStripePayload(payload: string, secret: string, t: number): Promise<string> {
  return `t=${t},v1=${await hmacSha256Hex(secret, signedContent(payload, t))}`;
}
