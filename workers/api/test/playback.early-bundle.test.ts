// The start bundle is fetched while the lease is taken (playback-urls.ts: provisionalGrant,
// startInline): under a provisional token for the stream about to start, which never
// reaches a player. Played through the real media Worker behind a stand-in that records
// each request it is sent.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { HLS_START_FILE } from "../../../lib/hls-start.ts";
import { parsePlaybackKeys, verifyPlaybackToken, type PlaybackClaims } from "../../../lib/playback-token.ts";
import { createApp } from "../app.ts";
import { anotherDevice, memberOn, seedPlayableCatalog, type Started } from "./playback-client.ts";

await seedPlayableCatalog();

const keys = await parsePlaybackKeys(env.PLAYBACK_TOKEN_KEYS);
const tokenIn = (url: string) => /\/p\/([^/]+)\//.exec(url)![1]!;

async function claimsOf(token: string): Promise<PlaybackClaims> {
  const verified = await verifyPlaybackToken(token, keys, Math.floor(Date.now() / 1000));
  if (!verified.ok) throw new Error(`token not valid: ${verified.reason}`);
  return verified.claims;
}

/** The real media Worker, recording the start bundle requests it is sent; each instance keeps its own bundles. */
function recordingMediaWorker() {
  const bundleTokens: string[] = [];
  const binding = {
    fetch: (input: RequestInfo | URL, init?: RequestInit) => {
      const url = new Request(input, init).url;
      if (url.endsWith(`/${HLS_START_FILE}`)) bundleTokens.push(tokenIn(url));
      return env.MEDIA_WORKER.fetch(input, init);
    },
    connect: () => {
      throw new Error("no");
    },
  } as unknown as Fetcher;
  return { binding, bundleTokens };
}

async function play(media: Fetcher, headers: Record<string, string>, json: Record<string, unknown>) {
  const ctx = createExecutionContext();
  const res = await createApp().request(
    "https://marquee.test/v1/playback/sessions",
    { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify(json) },
    { ...env, MEDIA_WORKER: media },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

describe("the start bundle, fetched while the lease is taken", () => {
  it("under a provisional token for the same stream, asset and height, good for seconds; the answer carries only the lease's token", async () => {
    const m = await memberOn("standard");
    const media = recordingMediaWorker();
    const before = Math.floor(Date.now() / 1000);
    const res = await play(media.binding, m.headers, { titleId: "first-light", profileId: m.profileId });
    const text = await res.text();
    expect(res.status, text).toBe(201);
    const started = JSON.parse(text) as Started;
    expect(started.media.hlsMaster).toContain("#EXT-X-STREAM-INF");
    expect(started.media.hlsPlaylists?.length).toBe(2);

    expect(media.bundleTokens).toHaveLength(1);
    const provisional = media.bundleTokens[0]!;
    const token = tokenIn(started.media.hlsUrl);
    expect(provisional).not.toBe(token);
    // Nothing the player is handed names the provisional token: the master, the playlists, any URL.
    expect(text).not.toContain(provisional);
    const [p, mine] = [await claimsOf(provisional), await claimsOf(token)];
    expect(p).toMatchObject({ sessionId: started.id, assetId: started.assetId, accountId: m.accountId, maxHeight: started.media.maxHeight });
    expect(mine.sessionId).toBe(started.id);
    expect(p.expiresAt).toBeGreaterThanOrEqual(before + 10);
    expect(p.expiresAt).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 10);
    expect(p.expiresAt).toBeLessThan(mine.expiresAt);
  });

  it("a refused Play (every screen in use) fetches the bundle too, keeps it for the next Play, and hands out no token", async () => {
    const m = await memberOn("basic");
    expect((await play(env.MEDIA_WORKER, m.headers, { titleId: "first-light", profileId: m.profileId })).status).toBe(201);
    // Bundles are kept per binding: this one has none yet.
    const media = recordingMediaWorker();
    const other = await anotherDevice(m.accountId, "Second TV");
    const refused = await play(media.binding, other, { titleId: "first-light", profileId: m.profileId });
    const text = await refused.text();
    expect(refused.status, text).toBe(409);
    const body = JSON.parse(text) as { error: { code: string; details: { streams: { id: string }[] } } };
    expect(body.error.code).toBe("TOO_MANY_STREAMS");
    expect(media.bundleTokens).toHaveLength(1);
    expect(text).not.toContain(media.bundleTokens[0]!);
    expect(text).not.toMatch(/\/p\/[^/"]+\//);
    // The refused Play's bundle is kept: the press that swaps the other stream out a moment
    // later makes no request of its own, and gets its own token written in.
    const swapped = await play(media.binding, other, { titleId: "first-light", profileId: m.profileId, endStreamId: body.error.details.streams[0]!.id });
    const next = JSON.parse(await swapped.text()) as Started;
    expect(swapped.status).toBe(201);
    expect(next.media.hlsPlaylists?.length).toBe(2);
    expect(media.bundleTokens).toHaveLength(1);
    expect(JSON.stringify(next)).not.toContain(media.bundleTokens[0]!);
  });

  it("a retry answered with a stream the device already had, at another height: the bundle is fetched again for it", async () => {
    const m = await memberOn("basic");
    const clientSessionId = crypto.randomUUID();
    const first = JSON.parse(await (await play(env.MEDIA_WORKER, m.headers, { titleId: "first-light", profileId: m.profileId, clientSessionId })).text()) as Started;
    // The plan goes up between the Play and its retry: the stream keeps the height it was granted.
    await env.DB.prepare("UPDATE subscriptions SET plan_id = 'premium' WHERE account_id = ?").bind(m.accountId).run();
    const media = recordingMediaWorker();
    const res = await play(media.binding, m.headers, { titleId: "first-light", profileId: m.profileId, clientSessionId });
    const text = await res.text();
    const again = JSON.parse(text) as Started;
    expect(res.status, text).toBe(200);
    expect(again.id).toBe(first.id);
    expect(again.media.maxHeight).toBe(first.media.maxHeight);
    expect(media.bundleTokens).toHaveLength(2);
    const [provisional, refetched] = await Promise.all(media.bundleTokens.map(claimsOf));
    expect(first.media.maxHeight).toBe(720);
    expect(provisional!.maxHeight).toBe(2160);
    expect(refetched!.maxHeight).toBe(720);
    expect(media.bundleTokens[1]).toBe(tokenIn(again.media.hlsUrl));
    expect(again.media.hlsPlaylists?.length).toBe(2);
  });
});
