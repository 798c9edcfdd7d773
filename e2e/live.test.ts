// A live event end to end in Chromium, against `npm run dev`: ffmpeg pushes a test pattern
// over HTTP PUT (the command `npm run live` runs), hls.js plays it live while the test
// measures latency (wall clock − program date-time of the frame on screen), and once the
// event has ended the same title plays on demand from 0 to its last frame.
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { broadcastTestPattern } from "../tools/live/broadcast.ts";
import { percentile, probeLiveLatency } from "../tools/live/latency-probe.ts";
import { requireFfmpeg } from "../tools/ingest/ffmpeg.ts";
import { readDevVar } from "../tools/dev-vars.ts";
import { launchBrowser } from "./browser.ts";
import { watchLiveThroughTheWebApp } from "./live-member.ts";
import { devPlaybackToken, expectPlayedToTheEnd, play } from "./players.ts";

const baseUrl = inject("baseUrl");
const BROADCAST_SEC = 36;

let browser: Browser;

beforeAll(async () => {
  requireFfmpeg();
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
});

describe("a live event in Chromium", () => {
  it("plays live within seconds of real time, then on demand from 0 to the end", async () => {
    const live = await broadcastTestPattern(baseUrl, await readDevVar("ADMIN_TOKEN"), { name: "E2E Live", durationSec: BROADCAST_SEC });
    let ended;
    try {
      await live.segments(2);
      const master = `${baseUrl}/p/${await devPlaybackToken(live.event.assetId, 720)}/${live.event.assetId}/master.m3u8`;
      const page = await browser.newPage({ bypassCSP: true }); // hls.js is injected as a script the pages' CSP would refuse
      const report = await probeLiveLatency(page, baseUrl, master, 12);
      await page.close();
      expect(report.fatal).toBeNull();
      expect(report.samples.length).toBeGreaterThan(20);
      const p50 = percentile(report.samples, 50);
      const p95 = percentile(report.samples, 95);
      console.log(`live latency (wall clock − program date-time on screen), 2 s segments: p50 ${p50.toFixed(2)} s, p95 ${p95.toFixed(2)} s over ${report.samples.length} samples; start-up ${Math.round(report.startupMs)} ms, ${report.stalls} stalls`);
      // A program date-time from the wrong clock would put this far off either way.
      expect(Math.min(...report.samples)).toBeGreaterThan(0);
      expect(p95).toBeLessThan(30);

      // A member through the web app: the Live now row on home, Play, the web player live.
      const web = await watchLiveThroughTheWebApp(browser, baseUrl, live.event.titleId, 8);
      const webP50 = percentile(web.samples, 50);
      console.log(`the web player on the live title (${web.engine}): latency p50 ${webP50.toFixed(2)} s over ${web.samples.length} samples, its clock "${web.clock}"`);
      expect(web.liveNowRow).toBe(true);
      expect(web.live).toBe(true);
      expect(web.clock).toBe("LIVE");
      expect(web.samples.length).toBeGreaterThan(10);
      expect(Math.min(...web.samples)).toBeGreaterThan(0);
    } finally {
      ended = await live.end();
    }
    expect(ended).toMatchObject({ state: "ended", recording: "ready" });
    const durationSec = ended.segments * 2;
    expect(durationSec).toBeGreaterThanOrEqual(BROADCAST_SEC - 2);
    // The media Worker holds a live state for half a segment.
    await new Promise((r) => setTimeout(r, 1500));
    const vod = `${baseUrl}/p/${await devPlaybackToken(live.event.assetId, 720)}/${live.event.assetId}/master.m3u8`;
    const page = await browser.newPage({ bypassCSP: true });
    const played = await play(page, baseUrl, "hls", vod);
    await page.close();
    expectPlayedToTheEnd(played, durationSec, 30);
  }, 150_000);
});
