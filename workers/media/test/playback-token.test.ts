import { describe, expect, it } from "vitest";
import { parsePlaybackKeys, signPlaybackToken, verifyPlaybackToken, type PlaybackClaims } from "../../../lib/playback-token.ts";
import { base64UrlDecode, base64UrlEncode } from "../../../lib/base64url.ts";

const key = (fill: number) => base64UrlEncode(new Uint8Array(32).fill(fill));
const now = 1_800_000_000;
const claims: PlaybackClaims = { assetId: "demo-aurora", accountId: "acc_1", sessionId: "ps_1", maxHeight: 720, expiresAt: now + 3600 };

describe("playback tokens", () => {
  it("verify what they sign, returning the claims", async () => {
    const keys = await parsePlaybackKeys(`k1:${key(1)}`);
    const token = await signPlaybackToken(claims, keys);
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(await verifyPlaybackToken(token, keys, now)).toEqual({ ok: true, claims });
  });

  it("rotate: the first key signs, every listed key verifies, a removed key stops verifying", async () => {
    const before = await parsePlaybackKeys(`old:${key(1)}`);
    const during = await parsePlaybackKeys(`new:${key(2)},old:${key(1)}`);
    const after = await parsePlaybackKeys(`new:${key(2)}`);
    const oldToken = await signPlaybackToken(claims, before);
    const newToken = await signPlaybackToken(claims, during);
    expect((await verifyPlaybackToken(oldToken, during, now)).ok).toBe(true);
    expect((await verifyPlaybackToken(newToken, after, now)).ok).toBe(true);
    expect(await verifyPlaybackToken(oldToken, after, now)).toEqual({ ok: false, reason: "unknown_key" });
  });

  it("expire at expiresAt", async () => {
    const keys = await parsePlaybackKeys(`k1:${key(1)}`);
    const token = await signPlaybackToken(claims, keys);
    expect((await verifyPlaybackToken(token, keys, claims.expiresAt - 1)).ok).toBe(true);
    expect(await verifyPlaybackToken(token, keys, claims.expiresAt)).toEqual({ ok: false, reason: "expired" });
  });

  it("refuse a token signed with another key under the same key id", async () => {
    const mine = await parsePlaybackKeys(`k1:${key(1)}`);
    const forged = await signPlaybackToken(claims, await parsePlaybackKeys(`k1:${key(9)}`));
    expect(await verifyPlaybackToken(forged, mine, now)).toEqual({ ok: false, reason: "bad_signature" });
  });

  it("refuse any change to the claims", async () => {
    const keys = await parsePlaybackKeys(`k1:${key(1)}`);
    const [payload, sig] = (await signPlaybackToken(claims, keys)).split(".");
    const wire = JSON.parse(new TextDecoder().decode(base64UrlDecode(payload!)!));
    for (const change of [{ h: 2160 }, { a: "other-asset" }, { e: now + 999_999 }, { u: "acc_2" }]) {
      const tampered = base64UrlEncode(new TextEncoder().encode(JSON.stringify({ ...wire, ...change })));
      expect(await verifyPlaybackToken(`${tampered}.${sig}`, keys, now), JSON.stringify(change)).toEqual({ ok: false, reason: "bad_signature" });
    }
    // A flipped signature bit.
    const bytes = base64UrlDecode(sig!)!;
    bytes[0]! ^= 1;
    expect(await verifyPlaybackToken(`${payload}.${base64UrlEncode(bytes)}`, keys, now)).toEqual({ ok: false, reason: "bad_signature" });
  });

  it.each(["", ".", "abc", "a.b.c", "!!!.???", "x".repeat(600), "eyJ2IjoxfQ.AAAA"])("call %j malformed", async (token) => {
    const keys = await parsePlaybackKeys(`k1:${key(1)}`);
    expect(await verifyPlaybackToken(token, keys, now)).toEqual({ ok: false, reason: "malformed" });
  });

  it("refuse misconfigured keys loudly", async () => {
    await expect(parsePlaybackKeys("")).rejects.toThrow(/empty/);
    await expect(parsePlaybackKeys("k1")).rejects.toThrow(/kid:base64url/);
    await expect(parsePlaybackKeys(`k1:${base64UrlEncode(new Uint8Array(8))}`)).rejects.toThrow(/shorter than 32/);
    await expect(parsePlaybackKeys(`k1:${key(1)},k1:${key(2)}`)).rejects.toThrow(/twice/);
  });

  it("refuse to sign invalid claims", async () => {
    const keys = await parsePlaybackKeys(`k1:${key(1)}`);
    await expect(signPlaybackToken({ ...claims, assetId: "../etc" }, keys)).rejects.toThrow();
  });
});
