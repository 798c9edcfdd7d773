// base64url without padding (RFC 4648 §5), decoded strictly: only the canonical encoding of some bytes is accepted.
//
// Why strict: the last character of an encoding whose length is not a multiple of 4
// carries bits that belong to no byte (2 of them for a 32-byte HMAC, 4 for a 16-byte
// salt). A lenient decoder maps up to 16 different strings to the same bytes, so a
// signed token would have several spellings that all verify: a cache key, a log line or
// a "tampered" test that changes that character could not tell them apart. Decoding
// then re-encoding and comparing refuses every sibling but the one we would write.

const ALPHABET = /^[A-Za-z0-9_-]*$/;

export function base64UrlEncode(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The bytes `text` is the canonical encoding of, or null (other alphabet, padding, a length of 4n+1, unused bits set). */
export function base64UrlDecode(text: string): Uint8Array<ArrayBuffer> | null {
  if (text.length % 4 === 1 || !ALPHABET.test(text)) return null;
  let binary: string;
  try {
    binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  } catch {
    return null;
  }
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return base64UrlEncode(bytes) === text ? bytes : null;
}
