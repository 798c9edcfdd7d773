// lib/base64url.ts: only canonical base64url decodes, so a signed value has exactly one spelling.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { base64UrlDecode, base64UrlEncode } from "../../../lib/base64url.ts";
import { parsePlaybackKeys, signPlaybackToken, verifyPlaybackToken, type PlaybackClaims } from "../../../lib/playback-token.ts";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** Every string that differs from `text` only in its last character. */
const lastCharVariants = (text: string) => [...ALPHABET].filter((c) => c !== text.at(-1)).map((c) => text.slice(0, -1) + c);

describe("base64url", () => {
  it("round-trips any bytes", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
      expect([...(base64UrlDecode(base64UrlEncode(bytes)) ?? [-1])]).toEqual([...bytes]);
    }));
  });

  it("refuses every non-canonical sibling: a last character whose unused bits are set", () => {
    // 32 bytes (an HMAC-SHA256) leave 2 unused bits, 16 bytes (a salt) 4, 31 bytes 4 as well.
    fc.assert(
      fc.property(fc.constantFrom(16, 31, 32), fc.integer({ min: 0, max: 2 ** 31 }), (length, seed) => {
        const bytes = Uint8Array.from({ length }, (_, i) => (seed * (i + 7) + i * 13) & 0xff);
        const text = base64UrlEncode(bytes);
        const decodingToSame = lastCharVariants(text).filter((v) => {
          const decoded = base64UrlDecode(v);
          return decoded !== null && decoded.every((b, i) => b === bytes[i]);
        });
        expect(decodingToSame).toEqual([]);
      }),
    );
  });

  it("refuses padding, the standard alphabet, whitespace and impossible lengths", () => {
    const text = base64UrlEncode(new Uint8Array([250, 251, 252, 253]));
    expect(text).toBe("-vv8_Q");
    for (const bad of [`${text}==`, "+vv8/Q", " -vv8_Q", "-vv8_Q\n", "-vv8_", "A", "AAAAA", "-vv8_R"]) expect(base64UrlDecode(bad), bad).toBeNull();
    expect(base64UrlDecode("")).toEqual(new Uint8Array());
  });
});

describe("playback tokens have one spelling", () => {
  const now = 1_800_000_000;
  const claims: PlaybackClaims = { assetId: "demo-aurora", accountId: "acc_1", sessionId: "ps_1", maxHeight: 720, expiresAt: now + 3600 };

  it("refuse the canonical siblings of a valid token's signature and payload as malformed", async () => {
    const keys = await parsePlaybackKeys(`k1:${base64UrlEncode(new Uint8Array(32).fill(1))}`);
    for (let n = 0; n < 20; n++) {
      const [payload, signature] = (await signPlaybackToken({ ...claims, sessionId: `ps_${n}` }, keys)).split(".") as [string, string];
      expect((await verifyPlaybackToken(`${payload}.${signature}`, keys, now)).ok).toBe(true);
      for (const sibling of lastCharVariants(signature)) {
        const verdict = await verifyPlaybackToken(`${payload}.${sibling}`, keys, now);
        expect(verdict.ok, sibling).toBe(false);
      }
      // The 2 unused bits: three of the 63 variants would decode to the same signature under a lenient decoder.
      const siblings = lastCharVariants(signature).filter((v) => (ALPHABET.indexOf(v.at(-1)!) >> 2) === (ALPHABET.indexOf(signature.at(-1)!) >> 2));
      expect(siblings).toHaveLength(3);
      for (const sibling of siblings) expect(await verifyPlaybackToken(`${payload}.${sibling}`, keys, now)).toEqual({ ok: false, reason: "malformed" });
    }
  });
});
