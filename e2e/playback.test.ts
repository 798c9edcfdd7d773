// Real players in a real browser: hls.js plays the demo title's HLS and Shaka Player its
// DASH, from the media origin of `npm run dev`, to the last frame.
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launchBrowser } from "./browser.ts";
import { devPlaybackToken, expectPlayedToTheEnd, play } from "./players.ts";

const baseUrl = inject("baseUrl");

let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
});

const demoToken = (maxHeight = 720) => devPlaybackToken("demo-aurora", maxHeight);

describe("playback in Chromium", () => {
  it("hls.js plays the demo title's HLS to the end, within the token's ladder", async () => {
    const page = await browser.newPage({ bypassCSP: true }); // hls.js and Shaka are injected as scripts the pages' CSP would refuse
    const report = await play(page, baseUrl, "hls", `${baseUrl}/p/${await demoToken(720)}/demo-aurora/master.m3u8`);
    await page.close();
    expectPlayedToTheEnd(report, 12);
    for (const h of report.heights) expect([240, 480, 720]).toContain(h);
  });

  it("Shaka Player plays the same segments through the DASH manifest to the end", async () => {
    const page = await browser.newPage({ bypassCSP: true }); // hls.js and Shaka are injected as scripts the pages' CSP would refuse
    const report = await play(page, baseUrl, "shaka", `${baseUrl}/p/${await demoToken(720)}/demo-aurora/manifest.mpd`);
    await page.close();
    expectPlayedToTheEnd(report, 12);
  });

  it("never climbs above a lower plan's height", async () => {
    const page = await browser.newPage({ bypassCSP: true }); // hls.js and Shaka are injected as scripts the pages' CSP would refuse
    const report = await play(page, baseUrl, "hls", `${baseUrl}/p/${await demoToken(480)}/demo-aurora/master.m3u8`);
    await page.close();
    expectPlayedToTheEnd(report, 12);
    expect(Math.max(...report.heights)).toBeLessThanOrEqual(480);
  });
});
