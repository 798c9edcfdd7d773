// Playback tokens: what the api Worker mints when a stream starts and the media Worker
// checks on every request, with no I/O. An HMAC-SHA256 over the claims, with a key id so
// keys rotate: the first configured key signs, every configured key verifies.
import { z } from "zod";
import { base64UrlDecode, base64UrlEncode } from "./base64url.ts";
import { assetIdSchema } from "./media-index.ts";

export const playbackClaimsSchema = z.object({
  assetId: assetIdSchema,
  accountId: z.string().min(1).max(64),
  sessionId: z.string().min(1).max(64),
  /** The highest resolution class (short side of the picture) this stream may receive: the plan's limit. */
  maxHeight: z.number().int().positive().max(4320),
  /** Unix time, seconds. */
  expiresAt: z.number().int().positive(),
});

export type PlaybackClaims = z.infer<typeof playbackClaimsSchema>;

export type PlaybackKeys = {
  signing: { kid: string; key: CryptoKey };
  verifying: Map<string, CryptoKey>;
};

export type VerifyResult =
  | { ok: true; claims: PlaybackClaims }
  | { ok: false; reason: "malformed" | "unknown_key" | "bad_signature" | "expired" };

/** The wire form of the claims: short keys, since the token is in every media URL. */
const wireSchema = z.object({
  v: z.literal(1),
  k: z.string(),
  a: z.string(),
  u: z.string(),
  s: z.string(),
  h: z.number(),
  e: z.number(),
});

const KID = /^[A-Za-z0-9_-]{1,16}$/;
const MIN_KEY_BYTES = 32;

function importHmacKey(raw: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
}

/**
 * Parses `PLAYBACK_TOKEN_KEYS`: comma-separated `kid:base64url-key` pairs, each key at
 * least 32 bytes. Throws on a malformed value: a misconfigured Worker must fail loudly.
 */
export async function parsePlaybackKeys(spec: string): Promise<PlaybackKeys> {
  const verifying = new Map<string, CryptoKey>();
  let signing: PlaybackKeys["signing"] | undefined;
  for (const entry of spec.split(",").map((e) => e.trim()).filter(Boolean)) {
    const colon = entry.indexOf(":");
    const kid = entry.slice(0, colon);
    const raw = colon > 0 ? base64UrlDecode(entry.slice(colon + 1)) : null;
    if (!KID.test(kid) || !raw) throw new Error("PLAYBACK_TOKEN_KEYS must be comma-separated kid:base64url pairs");
    if (raw.byteLength < MIN_KEY_BYTES) throw new Error(`playback key ${kid} is shorter than ${MIN_KEY_BYTES} bytes`);
    if (verifying.has(kid)) throw new Error(`playback key id ${kid} appears twice`);
    const key = await importHmacKey(raw);
    verifying.set(kid, key);
    signing ??= { kid, key };
  }
  if (!signing) throw new Error("PLAYBACK_TOKEN_KEYS is empty");
  return { signing, verifying };
}

const encoder = new TextEncoder();

export async function signPlaybackToken(claims: PlaybackClaims, keys: PlaybackKeys): Promise<string> {
  const valid = playbackClaimsSchema.parse(claims);
  const wire: z.infer<typeof wireSchema> = {
    v: 1,
    k: keys.signing.kid,
    a: valid.assetId,
    u: valid.accountId,
    s: valid.sessionId,
    h: valid.maxHeight,
    e: valid.expiresAt,
  };
  const payload = base64UrlEncode(encoder.encode(JSON.stringify(wire)));
  const signature = new Uint8Array(await crypto.subtle.sign("HMAC", keys.signing.key, encoder.encode(payload)));
  return `${payload}.${base64UrlEncode(signature)}`;
}

/** Tokens longer than this are refused before any parsing or crypto. */
const MAX_TOKEN_LENGTH = 512;

export async function verifyPlaybackToken(token: string, keys: PlaybackKeys, nowSeconds: number): Promise<VerifyResult> {
  if (token.length > MAX_TOKEN_LENGTH) return { ok: false, reason: "malformed" };
  const [payload, sig, extra] = token.split(".");
  if (!payload || !sig || extra !== undefined) return { ok: false, reason: "malformed" };
  const payloadBytes = base64UrlDecode(payload);
  const signature = base64UrlDecode(sig);
  if (!payloadBytes || !signature) return { ok: false, reason: "malformed" };
  let wire: z.infer<typeof wireSchema>;
  try {
    wire = wireSchema.parse(JSON.parse(new TextDecoder().decode(payloadBytes)));
  } catch {
    return { ok: false, reason: "malformed" };
  }
  const key = keys.verifying.get(wire.k);
  if (!key) return { ok: false, reason: "unknown_key" };
  // WebCrypto's verify compares in constant time.
  if (!(await crypto.subtle.verify("HMAC", key, signature, encoder.encode(payload)))) {
    return { ok: false, reason: "bad_signature" };
  }
  const claims = playbackClaimsSchema.safeParse({
    assetId: wire.a,
    accountId: wire.u,
    sessionId: wire.s,
    maxHeight: wire.h,
    expiresAt: wire.e,
  });
  if (!claims.success) return { ok: false, reason: "malformed" };
  if (claims.data.expiresAt <= nowSeconds) return { ok: false, reason: "expired" };
  return { ok: true, claims: claims.data };
}
