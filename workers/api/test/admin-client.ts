// Calling the api Worker's admin routes from tests, and checking what a viewer would see.
import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";
import { parsePlaybackKeys, signPlaybackToken } from "../../../lib/playback-token.ts";
import type { SyntheticAsset } from "../../../test-support/synthetic-asset.ts";

export const ADMIN = { Authorization: `Bearer ${env.ADMIN_TOKEN}` };

export const api = (path: string, init: RequestInit = {}, headers: Record<string, string> = ADMIN) =>
  exports.default.fetch(`https://marquee.test${path}`, { ...init, headers: { ...headers, ...(init.headers as Record<string, string>) } });

export const putJson = (path: string, body: unknown, method = "PUT") =>
  api(path, { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

export async function uploadAll(asset: SyntheticAsset, skip = new Set<string>()) {
  for (const [path, bytes] of asset.files) {
    if (skip.has(path)) continue;
    const res = await api(`/v1/admin/assets/${asset.index.assetId}/files/${encodeURIComponent(path)}`, { method: "PUT", body: bytes });
    expect(res.status, path).toBe(204);
  }
}

/** What a viewer's player gets for the asset's master playlist, through the media Worker. */
export async function viewerStatus(assetId: string): Promise<number> {
  const keys = await parsePlaybackKeys(env.PLAYBACK_TOKEN_KEYS);
  const token = await signPlaybackToken({ assetId, accountId: "a", sessionId: "s", maxHeight: 2160, expiresAt: Math.floor(Date.now() / 1000) + 60 }, keys);
  const res = await exports.default.fetch(`https://marquee.test/p/${token}/${assetId}/master.m3u8`);
  await res.body?.cancel();
  return res.status;
}
