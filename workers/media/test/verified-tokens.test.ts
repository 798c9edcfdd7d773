import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { base64UrlEncode } from "../../../lib/base64url.ts";
import { seedSyntheticAsset } from "../../../test-support/synthetic-asset.ts";
import { VerifiedTokens } from "../playback/verified-tokens.ts";
import { mediaClient, tokenFor } from "./helpers.ts";

const claims = { assetId: "a1", accountId: "u", sessionId: "s", maxHeight: 720, expiresAt: 1000 };

describe("VerifiedTokens", () => {
  it("returns remembered claims until they expire", () => {
    const memo = new VerifiedTokens();
    expect(memo.get("k", "t", 10)).toBeUndefined();
    memo.remember("k", "t", claims);
    expect(memo.get("k", "t", 999)).toEqual({ ok: true, claims });
    expect(memo.get("k", "t", 1000)).toEqual({ ok: false, reason: "expired" });
  });

  it("forgets a token when the key configuration changes", () => {
    const memo = new VerifiedTokens();
    memo.remember("old-keys", "t", claims);
    expect(memo.get("new-keys", "t", 10)).toBeUndefined();
  });
});

describe("the media Worker", () => {
  it("stops accepting a remembered token as soon as its key is removed", async () => {
    await seedSyntheticAsset(env.MEDIA, "memo-rotation");
    const oldKey = `old:${base64UrlEncode(new Uint8Array(32).fill(3))}`;
    const newKey = `new:${base64UrlEncode(new Uint8Array(32).fill(4))}`;
    const token = await tokenFor({ assetId: "memo-rotation" }, oldKey);
    const app = mediaClient();
    const path = `/p/${token}/memo-rotation/master.m3u8`;
    expect((await app(path, {}, { PLAYBACK_TOKEN_KEYS: `${newKey},${oldKey}` })).res.status).toBe(200);
    expect((await app(path, {}, { PLAYBACK_TOKEN_KEYS: newKey })).res.status).toBe(403);
  });
});
