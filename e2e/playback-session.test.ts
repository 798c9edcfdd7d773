// Pressing Play in a real browser, as the web player does: a web sign-up (cookie + CSRF
// token), the Basic plan, POST /v1/playback/sessions, hls.js on the answered URL with every
// media request moved to the newest token the heartbeats hand out, the plan's one screen
// refused to a second device, and the stream ended from there stopping the first player.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launchBrowser } from "./browser.ts";
import { demoMovieId, installPlayFlow, startFlow, waitForFirstFrame, waitForState, type FlowState, type StartedSession } from "./play-flow.ts";

const baseUrl = inject("baseUrl");
const HEARTBEAT_MS = 1500;
const password = "a long and unusual passphrase";
const email = `e2e-playback-${Date.now()}@example.com`;

async function api(page: Page, method: string, url: string, headers: Record<string, string>, body?: unknown) {
  return page.evaluate(
    async ({ method, url, headers, body }) => {
      const res = await fetch(url, {
        method,
        headers: body === undefined ? headers : { ...headers, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, body: text ? (JSON.parse(text) as Record<string, any>) : null };
    },
    { method, url, headers, body },
  );
}

/** From Node, as a TV app would: no cookie, a bearer token. */
async function deviceCall(method: string, url: string, token: string | null, body?: unknown) {
  const res = await fetch(baseUrl + url, {
    method,
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, any>) : null };
}

const segmentNumber = (url: string) => Number(/\/(\d+)\.m4s$/.exec(new URL(url).pathname)?.[1] ?? NaN);

let browser: Browser;
let page: Page;
const pageFailures: string[] = [];
/** Every media response the first page got: URL and status. */
const mediaResponses: { url: string; status: number }[] = [];

let titleId: string;
let csrfToken: string;
let profileId: string;
let session: StartedSession;
let deviceToken: string;

beforeAll(async () => {
  titleId = await demoMovieId();
  browser = await launchBrowser();
  // The harness injects hls.js into the page, which the pages' CSP (script-src 'self') would refuse.
  page = await browser.newPage({ bypassCSP: true });
  page.on("pageerror", (err) => pageFailures.push(`page error: ${err.message}`));
  page.on("response", (res) => {
    if (new URL(res.url()).pathname.startsWith("/p/")) mediaResponses.push({ url: res.url(), status: res.status() });
  });
});

afterAll(async () => {
  await browser?.close();
});

describe("a playback session in Chromium (web client, Basic plan)", () => {
  it("signs up on the web, takes the Basic plan, presses Play and shows a first frame", async () => {
    await page.goto(baseUrl);
    const signup = await api(page, "POST", "/v1/auth/signup", {}, { email, password, client: "web" });
    expect(signup.status).toBe(201);
    expect(signup.body?.token).toBeUndefined();
    csrfToken = signup.body!.csrfToken;
    expect(csrfToken).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    // The cookie is HttpOnly: the page cannot read it, yet it authenticates.
    expect(await page.evaluate(() => document.cookie)).toBe("");
    expect((await api(page, "POST", "/v1/billing/checkout", {}, { planId: "basic" })).status).toBe(403);
    const checkout = await api(page, "POST", "/v1/billing/checkout", { "x-csrf-token": csrfToken }, { planId: "basic" });
    expect(checkout).toEqual({ status: 200, body: { status: "active", planId: "basic" } });
    const me = await api(page, "GET", "/v1/me", {});
    expect(me.status).toBe(200);
    expect(me.body!.plan).toMatchObject({ id: "basic", maxStreams: 1, maxHeight: 720 });
    profileId = me.body!.profiles[0].id;

    await installPlayFlow(page);
    const started = await startFlow(page, {
      kind: "session",
      body: { titleId, profileId },
      headers: { "x-csrf-token": csrfToken },
      heartbeatMs: HEARTBEAT_MS,
      maxHeartbeats: 40,
      // Small buffer goals: hls.js keeps fetching as it plays, so later requests need later tokens.
      maxBufferLength: 2,
      maxMaxBufferLength: 4,
    });
    expect(started.startError).toBeNull();
    expect(started.startStatus).toBe(201);
    session = started.session!;
    expect(session).toMatchObject({
      titleId,
      episodeId: null,
      assetId: "demo-aurora",
      durationSec: 12,
      resume: { positionSec: 0 },
      heartbeat: { url: `/v1/playback/sessions/${session.id}/heartbeat`, intervalSec: 30 },
      lease: { ttlSec: 90 },
      media: { maxHeight: 720 },
    });
    expect(session.media.hlsUrl).toMatch(new RegExp(`^${baseUrl.replace(/[.]/g, "\\.")}/p/[^/]+/demo-aurora/master\\.m3u8$`));

    const first = await waitForFirstFrame(page, 15_000);
    expect(first.fatal).toBeNull();
    expect(first.firstFrameAt).not.toBeNull();
    expect(first.frames).toBeGreaterThan(0);
    // testsrc2 under a gradient square: a black or blank frame would be near 0.
    expect(first.firstFrameBrightness).toBeGreaterThan(40);
    // The multivariant playlist, the start variant's media playlists, their init segments and
    // the steering manifest came inline with the Play response: none of them is fetched, and
    // the player's first request is the start variant's first media segment, under the first token.
    expect(session.media.hlsMaster).toContain("#EXT-X-STREAM-INF");
    expect(first.inlineMaster).toBe(true);
    expect(session.media.hlsPlaylists.length).toBeGreaterThanOrEqual(1);
    expect(first.inlinePlaylists).toBeGreaterThanOrEqual(1);
    const startPlaylist = session.media.hlsPlaylists[0]!.url;
    const fetched = first.mediaRequests.map((r) => r.url);
    expect(fetched).not.toContain(session.media.hlsUrl);
    expect(fetched).not.toContain(startPlaylist);
    expect(fetched[0]).toBe(startPlaylist.replace(/playlist\.m3u8$/, "1.m4s"));
    const inits = session.media.hlsInitSegments.map((i) => i.url);
    expect(inits).toEqual(session.media.hlsPlaylists.map((p) => p.url.replace(/playlist\.m3u8$/, "init.m4s")));
    for (const url of inits) expect(fetched).not.toContain(url);
    // The demo catalog is on two pathways: hls.js's first steering load was answered from the Play response.
    expect(session.media.hlsSteering).not.toBeNull();
    expect(first.inlineSteering).toBe(true);
    expect(fetched.filter((u) => u.includes("/steering.hls.json"))).toEqual([]);
    expect(first.heights.every((h) => [240, 480, 720].includes(h))).toBe(true);
  });

  it("renews the token by heartbeat, and hls.js keeps playing on the new token", async () => {
    // Wait until content fetched only under a heartbeat's token is on screen: past the end
    // of every segment that was fetched with the first token.
    let firstTokenEndSec = Infinity;
    const state = await waitForState(
      page,
      (s) => {
        const firstToken = s.tokens[0];
        const early = s.mediaRequests.filter((r) => r.token === firstToken && /\.m4s$/.test(r.url) && !r.url.endsWith("/init.m4s"));
        firstTokenEndSec = Math.max(0, ...early.map((r) => segmentNumber(r.url) * 2));
        return s.fatal !== null || s.stopped !== null || (s.heartbeats.length >= 3 && s.currentTime > firstTokenEndSec + 0.5);
      },
      20_000,
    );
    expect(state.fatal).toBeNull();
    expect(state.stopped).toBeNull();
    expect(state.heartbeats.length).toBeGreaterThanOrEqual(3);
    expect(firstTokenEndSec, "segments fetched after the first heartbeat must carry its token").toBeLessThan(12);

    // Each heartbeat: 200, a new token, a later expiry than the one before.
    let previousExpiry = Date.parse(session.media.tokenExpiresAt);
    let previousToken = state.tokens[0]!;
    for (const hb of state.heartbeats) {
      expect(hb.status).toBe(200);
      expect(hb.token).not.toBeNull();
      expect(hb.token).not.toBe(previousToken);
      expect(Date.parse(hb.tokenExpiresAt!)).toBeGreaterThan(previousExpiry);
      previousExpiry = Date.parse(hb.tokenExpiresAt!);
      previousToken = hb.token!;
    }
    expect(state.tokens).toEqual([state.tokens[0], ...state.heartbeats.map((h) => h.token)]);

    // Every media request went out under the newest token at the time it was made.
    const tokenAt = (seq: number) => state.heartbeats.filter((h) => h.seq < seq).at(-1)?.token ?? state.tokens[0];
    for (const r of state.mediaRequests) expect(r.token, r.url).toBe(tokenAt(r.seq));
    const renewed = state.mediaRequests.filter((r) => r.token !== state.tokens[0]);
    expect(renewed.filter((r) => r.url.endsWith(".m4s")).length).toBeGreaterThanOrEqual(2);
    // ... and the media origin accepted every one of them.
    const renewedUrls = new Set(renewed.map((r) => r.url));
    const answered = mediaResponses.filter((r) => renewedUrls.has(r.url));
    expect(answered.length).toBeGreaterThanOrEqual(2);
    expect(answered.every((r) => r.status === 200)).toBe(true);

    // Still playing: frames keep coming and the clock moves on.
    const later = await waitForState(page, (s) => s.frames > state.frames + 12, 5_000);
    expect(later.frames).toBeGreaterThan(state.frames + 12);
    expect(later.currentTime).toBeGreaterThan(state.currentTime);
    expect(later.paused).toBe(false);
    expect(later.brightestFrameMean).toBeGreaterThan(40);
  });

  it("refuses a second device of the account with TOO_MANY_STREAMS, listing the first device's stream", async () => {
    const login = await deviceCall("POST", "/v1/auth/login", null, { email, password, client: "device", deviceName: "E2E Living Room TV" });
    expect(login.status).toBe(200);
    deviceToken = login.body!.token;
    expect(deviceToken).toBeTruthy();

    const refused = await deviceCall("POST", "/v1/playback/sessions", deviceToken, { titleId, profileId });
    expect(refused.status).toBe(409);
    expect(refused.body!.error).toMatchObject({
      code: "TOO_MANY_STREAMS",
      message: "Too many people are using your account right now.",
      details: { limit: 1, plan: "basic" },
    });
    const streams = refused.body!.error.details.streams as Record<string, any>[];
    expect(streams).toHaveLength(1);
    expect(streams[0]).toMatchObject({ id: session.id, titleId, episodeId: null, thisDevice: false });
    expect(streams[0]!.deviceName).not.toBe("E2E Living Room TV");
    // The heartbeats reported where the first device is.
    expect(streams[0]!.positionSec).toBeGreaterThan(0);

    // The first device's own view: one stream, its own.
    const listed = await api(page, "GET", "/v1/playback/sessions", {});
    expect(listed.body!.streams).toEqual([expect.objectContaining({ id: session.id, thisDevice: true })]);
    // The refusal did not disturb the first player.
    const s = await waitForState(page, (x) => x.heartbeats.length > 0, 1000);
    expect(s.stopped).toBeNull();
    expect(s.heartbeats.every((h) => h.status === 200)).toBe(true);
  });

  it("ends the first stream from the second device: the first page's next heartbeat answers STREAM_ENDED and it stops", async () => {
    const before = await waitForState(page, () => true, 0);
    const deleteStartedAt = Date.now();
    const ended = await deviceCall("DELETE", `/v1/playback/sessions/${session.id}`, deviceToken);
    expect(ended.status).toBe(204);

    const state: FlowState = await waitForState(page, (s) => s.stopped !== null, HEARTBEAT_MS * 3 + 2000);
    expect(state.stopped).toBe("STREAM_ENDED");
    const last = state.heartbeats.at(-1)!;
    expect(last).toMatchObject({ status: 409, code: "STREAM_ENDED", reason: "ended_by_other_device" });
    // Only the heartbeat after the DELETE was refused: every one answered before it was fine
    // (allowing a few ms between the page's clock and this one), and nothing came after it.
    const refusedAt = state.heartbeats.findIndex((h) => h.status !== 200);
    expect(refusedAt).toBe(state.heartbeats.length - 1);
    expect(state.heartbeats.filter((h) => h.answeredAt < deleteStartedAt - 20).every((h) => h.status === 200)).toBe(true);
    expect(state.heartbeats.length).toBeGreaterThan(before.heartbeats.length);
    expect(last.answeredAt).toBeGreaterThan(deleteStartedAt - 20);

    // The player stopped: paused, no more heartbeats, the clock stands still.
    expect(state.paused).toBe(true);
    await new Promise((r) => setTimeout(r, HEARTBEAT_MS + 500));
    const after = await waitForState(page, () => true, 0);
    expect(after.heartbeats.length).toBe(state.heartbeats.length);
    expect(after.currentTime).toBe(state.currentTime);

    // The screen is free: the second device may play now.
    const second = await deviceCall("POST", "/v1/playback/sessions", deviceToken, { titleId, profileId });
    expect(second.status).toBe(201);
    expect((await deviceCall("DELETE", `/v1/playback/sessions/${second.body!.id}`, deviceToken)).status).toBe(204);
    expect(pageFailures).toEqual([]);
  });
});
