// What the media Worker writes to its logs, captured at the most talkative level (debug,
// where cache hits and R2 reads are logged too) through the Worker's own entry while a
// player fetches the master and a media playlist, a segment on a miss and then a hit, a
// range, and is refused (a bad, a tampered and an expired token, a file the index does not
// list): every request line carries its request id and a redacted path, and no line
// carries a playback token, its signature or claims part, or the signing keys.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { captureLogs } from "../../../test-support/capture-logs.ts";
import { seedSyntheticAsset } from "../../../test-support/synthetic-asset.ts";
import worker from "../index.ts";
import { ORIGIN, tokenFor } from "./helpers.ts";

await seedSyntheticAsset(env.MEDIA, "logs-asset", { heights: [240, 720] });

const lines = captureLogs();
const debugEnv = { ...env, LOG_LEVEL: "debug" };

async function request(path: string, init: RequestInit = {}) {
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(`${ORIGIN}${path}`, init) as Parameters<typeof worker.fetch>[0], debugEnv, ctx);
  // Read the body before waiting, so a streamed miss and its cache fill both finish.
  await res.arrayBuffer();
  await waitOnExecutionContext(ctx);
  return res;
}

describe("the media Worker's logs", () => {
  it("carry request ids and redacted paths, and none of the tokens or keys that passed through", async () => {
    const token = await tokenFor({ assetId: "logs-asset", maxHeight: 720 });
    const [payload, signature] = token.split(".") as [string, string];
    // A middle character: every one of its bits is part of the signature (the last one's low bits are not).
    const middle = signature.length >> 1;
    const tampered = `${payload}.${signature.slice(0, middle)}${signature[middle] === "A" ? "B" : "A"}${signature.slice(middle + 1)}`;
    const expired = await tokenFor({ assetId: "logs-asset", expiresAt: Math.floor(Date.now() / 1000) - 5 });
    const base = `/p/${token}/logs-asset`;

    const sent: [string, RequestInit, number][] = [
      [`${base}/master.m3u8`, {}, 200],
      [`${base}/manifest.mpd`, {}, 200],
      [`${base}/720p/playlist.m3u8`, {}, 200],
      [`${base}/720p/1.m4s`, {}, 200], // a miss: R2, then the cache fill
      [`${base}/720p/1.m4s`, {}, 200], // a hit: logged at debug only
      [`${base}/240p/2.m4s`, { headers: { range: "bytes=10-99" } }, 206],
      [`${base}/240p/2.m4s`, { headers: { range: "bytes=0-9" } }, 206],
      [`${base}/240p/3.m4s`, { method: "HEAD" }, 200],
      [`/p/not-a-token/logs-asset/master.m3u8`, {}, 403],
      [`/p/${tampered}/logs-asset/master.m3u8`, {}, 403],
      [`/p/${expired}/logs-asset/720p/2.m4s`, {}, 403],
      [`${base}/no-such-file.m4s`, {}, 404],
      [`${base}/720p/playlist.m3u8`, { method: "DELETE" }, 405],
      ["/healthz", {}, 200],
    ];
    for (const [path, init, status] of sent) expect((await request(path, init)).status, path).toBe(status);

    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const requestLines = parsed.filter((l) => l.event === "request");
    // Every request was logged once — the cache hit too, at debug — with its request id.
    expect(requestLines).toHaveLength(sent.length);
    for (const line of requestLines) {
      expect(line.requestId, JSON.stringify(line)).toMatch(/^[0-9a-f-]{36}$/);
      if (String(line.path).startsWith("/p/")) expect(line.path, JSON.stringify(line)).toMatch(/^\/p\/<token>\/logs-asset\//);
    }
    expect(new Set(requestLines.map((l) => l.requestId)).size).toBe(sent.length);
    // Debug lines were captured: the R2 reads of the misses, by key (no token in a key).
    expect(parsed.some((l) => l.event === "r2_read" && l.key === "assets/logs-asset/720p/1.m4s")).toBe(true);

    const all = lines.join("\n");
    const keyEntries = env.PLAYBACK_TOKEN_KEYS.split(",").map((e) => e.trim());
    const keyMaterial = keyEntries.map((e) => e.slice(e.indexOf(":") + 1));
    const secrets = [token, payload, signature, tampered, expired, ...expired.split("."), env.PLAYBACK_TOKEN_KEYS, ...keyEntries, ...keyMaterial];
    for (const secret of secrets) expect(all.includes(secret), `a log line contains ${secret.slice(0, 12)}…`).toBe(false);
  });
});

// Two ways a token once reached the logs: a truncated playback URL, and the path of an
// unexpected error's line.
describe("the playback token stays out of the logs", () => {
  it("a truncated playback URL (/p/{token}, /p/{token}/) is logged redacted", async () => {
    lines.length = 0;
    const token = await tokenFor({ assetId: "logs-asset" });
    await request(`/p/${token}`);
    await request(`/p/${token}/`);
    expect(lines.join("\n").includes(token)).toBe(false);
  });

  it("an unexpected error on a playback path is logged with a redacted path", async () => {
    lines.length = 0;
    const token = await tokenFor({ assetId: "logs-asset" });
    // A misconfigured key list makes every playback request throw (a 500).
    const ctx = createExecutionContext();
    const res = await worker.fetch(new Request(`${ORIGIN}/p/${token}/logs-asset/master.m3u8`) as Parameters<typeof worker.fetch>[0], { ...debugEnv, PLAYBACK_TOKEN_KEYS: "broken" }, ctx);
    await res.arrayBuffer();
    await waitOnExecutionContext(ctx);
    expect(lines.join("\n").includes(token)).toBe(false);
  });
});
