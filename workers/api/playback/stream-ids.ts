// Playback session (stream) ids, signed: `pbs_` + a nonce + a MAC over (nonce, account,
// profile, title, episode), so a watch event can prove it belongs to a stream the server
// started for that profile and title with no D1 read and no Durable Object call.
import { base64UrlDecode, base64UrlEncode } from "../../../lib/base64url.ts";
import type { PlaybackKeys } from "../../../lib/playback-token.ts";

const NONCE_BYTES = 12;
/** 128 bits of HMAC-SHA256: forging one is 2^128 guesses, each an online request. */
const MAC_BYTES = 16;
const NONCE_CHARS = 16; // base64url of 12 bytes
const MAC_CHARS = 22; // base64url of 16 bytes
const ID = /^pbs_([A-Za-z0-9_-]{16})([A-Za-z0-9_-]{22})$/;

/** What a stream id vouches for: the stream was started by this account, for this profile and title. */
export type StreamScope = { accountId: string; profileId: string; titleId: string; episodeId: string | null };

const encoder = new TextEncoder();
const encode = (text: string) => encoder.encode(text) as Uint8Array<ArrayBuffer>;

/**
 * The MAC's input. Its own prefix and NUL separators keep it apart from a playback
 * token's (a base64url payload has no NUL), so the one key never signs the same bytes
 * for two purposes, and no field can run into the next.
 */
function signed(nonce: string, scope: StreamScope): Uint8Array<ArrayBuffer> {
  return encode(["marquee-stream-id", nonce, scope.accountId, scope.profileId, scope.titleId, scope.episodeId ?? ""].join("\0"));
}

async function mac(key: CryptoKey, bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, bytes)).subarray(0, MAC_BYTES);
}

/**
 * A new stream id. With `clientSessionId` (a retried Play) the nonce is derived from it
 * and the device, so the same device retrying gets the same id — the lease's idempotency
 * — and no other device can claim it; otherwise the nonce is random.
 */
export async function newStreamId(keys: PlaybackKeys, scope: StreamScope, retry: { deviceSessionId: string; clientSessionId: string | undefined }): Promise<string> {
  const nonceBytes = retry.clientSessionId
    ? (await mac(keys.signing.key, encode(["marquee-stream-nonce", retry.deviceSessionId, retry.clientSessionId].join("\0")))).subarray(0, NONCE_BYTES)
    : crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  const nonce = base64UrlEncode(nonceBytes);
  return `pbs_${nonce}${base64UrlEncode(await mac(keys.signing.key, signed(nonce, scope)))}`;
}

/** Whether `id` is a stream id this server made for `scope`, under any configured key (so rotation works). */
export async function verifyStreamId(keys: PlaybackKeys, id: string, scope: StreamScope): Promise<boolean> {
  const match = ID.exec(id);
  if (!match) return false;
  const [, nonce, tag] = match as unknown as [string, string, string];
  const given = base64UrlDecode(tag);
  if (nonce.length !== NONCE_CHARS || tag.length !== MAC_CHARS || !base64UrlDecode(nonce) || given?.byteLength !== MAC_BYTES) return false;
  for (const key of keys.verifying.values()) {
    const expected = await mac(key, signed(nonce, scope));
    // crypto.subtle.timingSafeEqual compares in constant time.
    if (crypto.subtle.timingSafeEqual(expected, given)) return true;
  }
  return false;
}
