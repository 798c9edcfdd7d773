// Hashing and checking passwords and PINs with WebCrypto PBKDF2-SHA256, the slow hash the Workers runtime offers.
import { base64UrlDecode, base64UrlEncode } from "./base64url.ts";

/**
 * The Workers runtime refuses PBKDF2 with more than 100,000 iterations (deriveBits
 * throws), so this is both the cost and the ceiling. Local runtimes may not enforce the
 * cap, which is why a test pins this value: raising it would pass locally and break
 * every sign-in in production.
 */
export const PBKDF2_ITERATIONS = 100_000;

const SCHEME = "pbkdf2-sha256";
const SALT_BYTES = 16;
const HASH_BYTES = 32;
/** Longer than any string this module writes; anything longer is not ours. */
const MAX_STORED_LENGTH = 128;

const encoder = new TextEncoder();

async function derive(secret: string, salt: Uint8Array<ArrayBuffer>, iterations: number): Promise<ArrayBuffer> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), "PBKDF2", false, ["deriveBits"]);
  return crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, HASH_BYTES * 8);
}

/**
 * `pbkdf2-sha256$100000$<salt>$<hash>` (base64url, no padding). The scheme and count
 * travel with each hash so the cost can change later without breaking stored ones.
 */
export async function hashSecret(secret: string): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const hash = new Uint8Array(await derive(secret, salt, PBKDF2_ITERATIONS));
  return `${SCHEME}$${PBKDF2_ITERATIONS}$${base64UrlEncode(salt)}$${base64UrlEncode(hash)}`;
}

type Parsed = { salt: Uint8Array<ArrayBuffer>; hash: Uint8Array<ArrayBuffer> };

/**
 * Only hashes this module writes are accepted: the current scheme at exactly
 * PBKDF2_ITERATIONS. A higher count would throw in production (and is a cheap way to
 * burn our CPU if a row were tampered with); a lower one is a hash that is cheaper to
 * crack offline than ours, which nothing here ever wrote, so it is treated as corrupt
 * rather than silently trusted. When the cost changes, this is where old counts get
 * accepted (and rehashed on sign-in).
 */
function parse(stored: string): Parsed | null {
  if (stored.length > MAX_STORED_LENGTH) return null;
  const parts = stored.split("$");
  if (parts.length !== 4) return null;
  const [scheme, iterations, salt, hash] = parts as [string, string, string, string];
  if (scheme !== SCHEME || iterations !== String(PBKDF2_ITERATIONS)) return null;
  const saltBytes = base64UrlDecode(salt);
  const hashBytes = base64UrlDecode(hash);
  if (saltBytes?.byteLength !== SALT_BYTES || hashBytes?.byteLength !== HASH_BYTES) return null;
  return { salt: saltBytes, hash: hashBytes };
}

/** False for a wrong secret and for anything that is not a hash this module wrote; never throws. */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const parsed = parse(stored);
  if (!parsed) return false;
  try {
    const derived = await derive(secret, parsed.salt, PBKDF2_ITERATIONS);
    return crypto.subtle.timingSafeEqual(derived, parsed.hash);
  } catch {
    return false;
  }
}

/**
 * A valid hash of a random secret nobody knows. Sign-in verifies against it when the
 * email matches no account, so an unknown email costs one full PBKDF2 like a wrong
 * password does and response times do not reveal which emails have accounts.
 */
export const DUMMY_HASH = "pbkdf2-sha256$100000$hIf82AcHWAxCuq0w1-h2TA$wkq2eK9GRcS50w16yNIqhhWiwcTeTY7tG8upRvBuQ-A";
