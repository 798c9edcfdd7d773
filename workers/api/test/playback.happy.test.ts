// Pressing Play as it should go: one call answers the media URLs (playable through the
// media Worker), the resume point, heartbeats, trick-play, subtitles and the next
// episode; heartbeats keep a stream alive, stopping frees its screen at once.
import { env } from "cloudflare:workers";
import { drizzle } from "drizzle-orm/d1";
import { describe, expect, it } from "vitest";
import { watchProgress } from "../../../d1/watch-schema.ts";
import { base64UrlDecode } from "../../../lib/base64url.ts";
import { START_BANDWIDTH_BPS } from "../../../lib/hls-start.ts";
import { TOKEN_GRACE_SEC } from "../playback/policy.ts";
import { call } from "./auth-client.ts";
import { anotherDevice, heartbeat, memberOn, seedPlayableCatalog, startPlayback, started, stopPlayback } from "./playback-client.ts";
import { shardDbOf } from "./events-client.ts";

await seedPlayableCatalog();

/** The claims inside a playback URL's token (no verification: the media Worker does that). */
function tokenClaims(url: string) {
  const token = new URL(url).pathname.split("/")[2]!;
  return JSON.parse(new TextDecoder().decode(base64UrlDecode(token.split(".")[0]!)!)) as { a: string; s: string; h: number; e: number };
}

const fetchMedia = (url: string) => call(new URL(url).pathname);

async function progressAt(profileId: string, titleId: string, episodeId: string | null, positionSec: number, durationSec = 6) {
  const at = new Date();
  await drizzle(shardDbOf(profileId))
    .insert(watchProgress)
    .values({ profileId, titleId, episodeId, positionSec, durationSec, eventAt: at, updatedAt: at })
    .onConflictDoUpdate({ target: [watchProgress.profileId, watchProgress.titleId], set: { episodeId, positionSec, durationSec, eventAt: at } });
}

describe("POST /v1/playback/sessions", () => {
  it("answers everything the player needs in one response, and the URLs play through the media Worker", async () => {
    const m = await memberOn("standard");
    const res = await startPlayback(m.headers, { titleId: "first-light", profileId: m.profileId });
    // Where its time went, for the browser's resource timing (bench:playback prints it).
    expect(res.headers.get("server-timing")).toMatch(/^auth;dur=\d+\.\d, context;dur=\d+\.\d, lease;dur=\d+\.\d, playlists;dur=\d+\.\d$/);
    const s = await started(res);
    expect(s).toMatchObject({
      titleId: "first-light",
      episodeId: null,
      assetId: "asset-one",
      title: "First Light",
      durationSec: 6,
      resume: { positionSec: 0 },
      heartbeat: { url: `/v1/playback/sessions/${s.id}/heartbeat`, intervalSec: 30 },
      lease: { ttlSec: 90 },
      nextEpisode: null,
    });
    expect(s.id).toMatch(/^pbs_[A-Za-z0-9_-]{38}$/);
    expect(s.media.hlsUrl).toMatch(/^https:\/\/marquee\.test\/p\/[^/]+\/asset-one\/master\.m3u8$/);
    expect(s.media.dashUrl).toBe(s.media.hlsUrl.replace("master.m3u8", "manifest.mpd"));

    // The token: this asset, this stream, the plan's height, and never past the lease by more than the grace.
    const claims = tokenClaims(s.media.hlsUrl);
    expect(claims).toMatchObject({ a: "asset-one", s: s.id, h: 1080 });
    expect(claims.e * 1000).toBe(Date.parse(s.media.tokenExpiresAt));
    expect(claims.e - Date.parse(s.lease.expiresAt) / 1000).toBeLessThanOrEqual(TOKEN_GRACE_SEC);
    expect(claims.e - Date.parse(s.lease.expiresAt) / 1000).toBeGreaterThan(0);

    const master = await fetchMedia(s.media.hlsUrl);
    expect(master.status).toBe(200);
    const playlist = await master.text();
    expect(playlist).toContain("#EXTM3U");
    // The same playlist came inline, so a player can skip that request.
    expect(s.media.hlsMaster).toBe(playlist);
    expect(playlist).toContain("RESOLUTION=1920x1080");
    // And the media playlists a player starts on: the variant of the highest bandwidth within
    // the start bandwidth (hls.js's own default choice), and its default audio.
    const variants = [...playlist.matchAll(/BANDWIDTH=(\d+)[^\n]*\n([^\n]+)/g)].map((m) => ({ bandwidth: Number(m[1]), uri: m[2]! }));
    const start = variants.filter((v) => v.bandwidth <= START_BANDWIDTH_BPS).at(-1) ?? variants[0]!;
    expect(s.media.hlsStartVariant).toBe(variants.indexOf(start));
    expect(s.media.hlsPlaylists.map((p) => p.url)).toEqual([new URL(start.uri, s.media.hlsUrl).toString(), s.media.hlsUrl.replace("master.m3u8", "audio-en/playlist.m3u8")]);
    for (const inline of s.media.hlsPlaylists) expect(inline.text).toBe(await (await fetchMedia(inline.url)).text());
    // Their init segments too, byte for byte what their URLs answer: the player fetches only the first media segments.
    expect(s.media.hlsInitSegments.map((i) => i.url)).toEqual(s.media.hlsPlaylists.map((p) => p.url.replace(/playlist\.m3u8$/, "init.m4s")));
    for (const init of s.media.hlsInitSegments) expect(base64UrlDecode(init.data)).toEqual(new Uint8Array(await (await fetchMedia(init.url)).arrayBuffer()));
    // One pathway: no steering server to answer for.
    expect(s.media.hlsSteering).toBeNull();
    expect((await fetchMedia(s.media.dashUrl)).status).toBe(200);
    expect(s.trickPlayUrl).toBe(s.media.hlsUrl.replace("master.m3u8", "thumbs/thumbs.vtt"));
    expect(await (await fetchMedia(s.trickPlayUrl!)).text()).toContain("sprite.jpg#xywh=");
    expect(s.subtitles).toEqual([{ lang: "en", name: "English", default: false, url: s.media.hlsUrl.replace("master.m3u8", "subs/en.vtt") }]);
    expect(await (await fetchMedia(s.subtitles[0]!.url)).text()).toContain("WEBVTT");
    expect((await fetchMedia(s.posterUrl!)).headers.get("content-type")).toBe("image/jpeg");
  });

  it("scopes the token to the plan's height: Basic gets no 1080p rendition, even asked for directly", async () => {
    const m = await memberOn("basic");
    const s = await started(await startPlayback(m.headers, { titleId: "first-light", profileId: m.profileId }));
    expect(s.media.maxHeight).toBe(720);
    expect(tokenClaims(s.media.hlsUrl).h).toBe(720);
    const playlist = await (await fetchMedia(s.media.hlsUrl)).text();
    expect(playlist).toContain("RESOLUTION=1280x720");
    expect(playlist).not.toContain("1080");
    expect((await fetchMedia(s.media.hlsUrl.replace("master.m3u8", "1080p/1.m4s"))).status).toBe(403);
  });

  it("uses the profile entered on this device when none is named", async () => {
    const m = await memberOn("standard");
    expect((await call(`/v1/profiles/${m.profileId}/enter`, { headers: m.headers, json: {} })).status).toBe(200);
    const s = await started(await startPlayback(m.headers, { titleId: "first-light" }));
    const list = (await (await call("/v1/playback/sessions", { headers: m.headers })).json()) as { streams: { id: string; profileName: string; thisDevice: boolean }[] };
    expect(list.streams).toEqual([expect.objectContaining({ id: s.id, thisDevice: true })]);
  });

  it("plays a series: episode 1 first, the next episode named, an episode asked for, the last one with none after it", async () => {
    const m = await memberOn("premium");
    const first = await started(await startPlayback(m.headers, { titleId: "second-wind", profileId: m.profileId }));
    expect(first).toMatchObject({ episodeId: "second-wind-s1e1", title: "Second Wind: S1 E1 Pilot", nextEpisode: { id: "second-wind-s1e2", seasonNumber: 1, number: 2, name: "Relapse" } });
    const second = await started(await startPlayback(m.headers, { titleId: "second-wind", episodeId: "second-wind-s1e2", profileId: m.profileId }));
    expect(second.nextEpisode).toMatchObject({ id: "second-wind-s2e1", seasonNumber: 2, number: 1 });
    const last = await started(await startPlayback(m.headers, { titleId: "second-wind", episodeId: "second-wind-s2e1", profileId: m.profileId }));
    expect(last.nextEpisode).toBeNull();
  });

  it("resumes where the profile left off; a finished movie starts over; a finished episode moves on to the next", async () => {
    const m = await memberOn("premium");
    const play = async (json: Record<string, unknown>) => {
      const s = await started(await startPlayback(m.headers, { profileId: m.profileId, ...json }));
      expect((await stopPlayback(m.headers, s.id)).status).toBe(204);
      return s;
    };
    await progressAt(m.profileId, "first-light", null, 4.5);
    expect((await play({ titleId: "first-light" })).resume.positionSec).toBe(4.5);
    await progressAt(m.profileId, "first-light", null, 5.9);
    expect((await play({ titleId: "first-light" })).resume.positionSec).toBe(0);

    await progressAt(m.profileId, "second-wind", "second-wind-s1e2", 3);
    expect(await play({ titleId: "second-wind" })).toMatchObject({ episodeId: "second-wind-s1e2", resume: { positionSec: 3 } });
    // The position belongs to its episode: another episode starts at 0.
    expect((await play({ titleId: "second-wind", episodeId: "second-wind-s1e1" })).resume.positionSec).toBe(0);
    await progressAt(m.profileId, "second-wind", "second-wind-s1e2", 5.8);
    expect(await play({ titleId: "second-wind" })).toMatchObject({ episodeId: "second-wind-s2e1", resume: { positionSec: 0 } });
  });

  it("is idempotent on the client's session id: a retried start answers the same stream and takes no second screen", async () => {
    const m = await memberOn("basic");
    const clientSessionId = crypto.randomUUID();
    const first = await startPlayback(m.headers, { titleId: "first-light", profileId: m.profileId, clientSessionId });
    expect(first.status).toBe(201);
    const again = await startPlayback(m.headers, { titleId: "first-light", profileId: m.profileId, clientSessionId });
    expect(again.status).toBe(200);
    expect((await started(again)).id).toBe((await started(first)).id);
    const list = (await (await call("/v1/playback/sessions", { headers: m.headers })).json()) as { streams: unknown[] };
    expect(list.streams).toHaveLength(1);
    // The same client id for another title is another stream (stream ids are signed for
    // their title), here refused for the one screen, never an answer for the first title.
    const misused = await startPlayback(m.headers, { titleId: "second-wind", profileId: m.profileId, clientSessionId });
    expect(misused.status).toBe(409);
    expect(await misused.json()).toMatchObject({ error: { code: "TOO_MANY_STREAMS" } });
  });
});

describe("Play on intent (prepared)", () => {
  it("answers a prepared stream with a 20 s lease; Play again with its clientSessionId confirms it (200, the same stream, a full lease)", async () => {
    const m = await memberOn("basic");
    const clientSessionId = crypto.randomUUID();
    const before = Date.now();
    const prepared = await started(await startPlayback(m.headers, { titleId: "first-light", profileId: m.profileId, clientSessionId, prepared: true }));
    expect(prepared.lease.ttlSec).toBe(20);
    expect(Date.parse(prepared.lease.expiresAt) - before).toBeLessThanOrEqual(21_000);
    // Everything a player needs is there already: the token, the playlists it starts on.
    expect(prepared.media.hlsPlaylists.length).toBeGreaterThanOrEqual(1);
    const pressed = await startPlayback(m.headers, { titleId: "first-light", profileId: m.profileId, clientSessionId });
    expect(pressed.status).toBe(200);
    const confirmed = await started(pressed);
    expect(confirmed.id).toBe(prepared.id);
    expect(confirmed.lease.ttlSec).toBe(90);
    expect(Date.parse(confirmed.lease.expiresAt) - Date.now()).toBeGreaterThan(60_000);
  });

  it("refuses a prepared start like any other when every screen is in use, taking nothing", async () => {
    const m = await memberOn("basic");
    await started(await startPlayback(m.headers, { titleId: "first-light", profileId: m.profileId }));
    const refused = await startPlayback(m.headers, { titleId: "second-wind", profileId: m.profileId, prepared: true });
    expect(refused.status).toBe(409);
    const list = (await (await call("/v1/playback/sessions", { headers: m.headers })).json()) as { streams: unknown[] };
    expect(list.streams).toHaveLength(1);
  });

  it("refuses a `prepared` that is not a boolean, and a prepared start that would end another stream (400, nothing ended)", async () => {
    const m = await memberOn("basic");
    const res = await startPlayback(m.headers, { titleId: "first-light", profileId: m.profileId, prepared: "yes" });
    expect(res.status).toBe(400);
    const playing = await started(await startPlayback(m.headers, { titleId: "first-light", profileId: m.profileId }));
    const swap = await startPlayback(m.headers, { titleId: "second-wind", profileId: m.profileId, prepared: true, endStreamId: playing.id });
    expect(swap.status).toBe(400);
    expect(await swap.json()).toMatchObject({ error: { code: "VALIDATION_FAILED", details: [{ path: "endStreamId" }] } });
    const list = (await (await call("/v1/playback/sessions", { headers: m.headers })).json()) as { streams: { id: string }[] };
    expect(list.streams.map((s) => s.id)).toEqual([playing.id]);
  });
});

describe("heartbeats and stopping", () => {
  it("a heartbeat extends the lease, records the position and hands out a fresh token", async () => {
    const m = await memberOn("standard");
    const s = await started(await startPlayback(m.headers, { titleId: "first-light", profileId: m.profileId }));
    await new Promise((r) => setTimeout(r, 1100)); // token expiries are in whole seconds
    const res = await heartbeat(m.headers, s.id, 3.25);
    expect(res.status).toBe(200);
    const beat = (await res.json()) as { id: string; media: { hlsUrl: string; tokenExpiresAt: string }; lease: { expiresAt: string } };
    expect(beat.id).toBe(s.id);
    expect(Date.parse(beat.lease.expiresAt)).toBeGreaterThan(Date.parse(s.lease.expiresAt));
    expect(Date.parse(beat.media.tokenExpiresAt)).toBeGreaterThan(Date.parse(s.media.tokenExpiresAt));
    expect(beat.media.hlsUrl).not.toBe(s.media.hlsUrl);
    expect((await fetchMedia(beat.media.hlsUrl)).status).toBe(200);
    const list = (await (await call("/v1/playback/sessions", { headers: m.headers })).json()) as { streams: { positionSec: number }[] };
    expect(list.streams[0]!.positionSec).toBe(3.25);
  });

  it("DELETE frees the screen at once, and the stopped stream's next heartbeat is a 409 that stops its player", async () => {
    const m = await memberOn("basic");
    const tv = await anotherDevice(m.accountId, "Living-room TV");
    const s = await started(await startPlayback(m.headers, { titleId: "first-light", profileId: m.profileId }));
    expect((await startPlayback(tv, { titleId: "first-light", profileId: m.profileId })).status).toBe(409);
    expect((await stopPlayback(m.headers, s.id)).status).toBe(204);
    expect((await startPlayback(tv, { titleId: "first-light", profileId: m.profileId })).status).toBe(201);
    const beat = await heartbeat(m.headers, s.id);
    expect(beat.status).toBe(409);
    expect(await beat.json()).toMatchObject({ error: { code: "STREAM_ENDED", details: { reason: "released" } } });
    expect((await stopPlayback(m.headers, s.id)).status).toBe(404);
  });
});

describe("too many streams", () => {
  it("refuses the plan's next screen with who is watching what, and lets one be ended — by DELETE or in the same start", async () => {
    const m = await memberOn("standard");
    const phone = await anotherDevice(m.accountId, "Ada's phone");
    const tv = await anotherDevice(m.accountId, "Living-room TV");
    const laptop = await anotherDevice(m.accountId, "Laptop");
    const onPhone = await started(await startPlayback(phone, { titleId: "first-light", profileId: m.profileId }));
    const onTv = await started(await startPlayback(tv, { titleId: "second-wind", episodeId: "second-wind-s1e2", profileId: m.profileId }));

    const refused = await startPlayback(laptop, { titleId: "first-light", profileId: m.profileId });
    expect(refused.status).toBe(409);
    const body = (await refused.json()) as { error: { code: string; message: string; details: { limit: number; plan: string; streams: Record<string, unknown>[] } } };
    expect(body.error).toMatchObject({ code: "TOO_MANY_STREAMS", message: "Too many people are using your account right now.", details: { limit: 2, plan: "standard" } });
    expect(body.error.details.streams).toEqual([
      expect.objectContaining({ id: onPhone.id, deviceName: "Ada's phone", profileName: expect.any(String), titleName: "First Light", thisDevice: false }),
      expect.objectContaining({ id: onTv.id, deviceName: "Living-room TV", titleName: "Second Wind: S1 E2 Relapse", thisDevice: false }),
    ]);
    expect(Date.parse(body.error.details.streams[0]!.since as string)).toBeLessThanOrEqual(Date.now());

    // Swap in one call: the phone's stream ends and the laptop's starts.
    const swapped = await startPlayback(laptop, { titleId: "first-light", profileId: m.profileId, endStreamId: onPhone.id });
    expect(swapped.status).toBe(201);
    const phoneBeat = await heartbeat(phone, onPhone.id);
    expect(phoneBeat.status).toBe(409);
    expect(await phoneBeat.json()).toMatchObject({ error: { code: "STREAM_ENDED", details: { reason: "ended_by_other_device" } } });

    // Or end one from any device of the account.
    expect((await stopPlayback(laptop, onTv.id)).status).toBe(204);
    expect(await (await heartbeat(tv, onTv.id)).json()).toMatchObject({ error: { code: "STREAM_ENDED", details: { reason: "ended_by_other_device" } } });
    expect((await startPlayback(phone, { titleId: "first-light", profileId: m.profileId })).status).toBe(201);
  });

  it("reads the plan at each start and holds playing streams to it: a downgrade seen at Play ends the newest streams past the limit and lowers the height", async () => {
    const { activateDevPlan } = await import("../billing/subscriptions.ts");
    const m = await memberOn("premium");
    const devices = await Promise.all(["A", "B", "C"].map((n) => anotherDevice(m.accountId, n)));
    const streams = [];
    for (const d of devices.slice(0, 2)) streams.push(await started(await startPlayback(d, { titleId: "first-light", profileId: m.profileId })));
    // Changed in D1 only (no push): the next Play hands the new plan to the streams object.
    await activateDevPlan(env.DB, m.accountId, "basic", new Date(Date.now() + 1));
    expect(await (await startPlayback(devices[2]!, { titleId: "first-light", profileId: m.profileId })).json()).toMatchObject({ error: { code: "TOO_MANY_STREAMS", details: { limit: 1, plan: "basic" } } });
    const oldest = await heartbeat(devices[0]!, streams[0]!.id);
    expect(oldest.status).toBe(200);
    expect(((await oldest.json()) as { media: { maxHeight: number } }).media.maxHeight).toBe(720);
    expect(await (await heartbeat(devices[1]!, streams[1]!.id)).json()).toMatchObject({ error: { code: "STREAM_ENDED", details: { reason: "plan_limit" } } });
    // New streams on the new plan get its height.
    await stopPlayback(devices[0]!, streams[0]!.id);
    const onBasic = await started(await startPlayback(devices[2]!, { titleId: "first-light", profileId: m.profileId }));
    expect(onBasic.media.maxHeight).toBe(720);
    await activateDevPlan(env.DB, m.accountId, "standard", new Date(Date.now() + 2));
    expect((await startPlayback(devices[0]!, { titleId: "first-light", profileId: m.profileId })).status).toBe(201);
    expect((await startPlayback(devices[1]!, { titleId: "first-light", profileId: m.profileId })).status).toBe(409);
  });
});
