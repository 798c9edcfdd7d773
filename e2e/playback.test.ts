// Real players in a real browser: hls.js plays the demo title's HLS and Shaka Player its
// DASH, from the media origin of `npm run dev`, to the last frame.
import { createRequire } from "node:module";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parsePlaybackKeys, signPlaybackToken } from "../lib/playback-token.ts";
import { readDevVar } from "../tools/dev-vars.ts";
import { launchBrowser } from "./browser.ts";

const baseUrl = inject("baseUrl");
const require = createRequire(import.meta.url);
const players = {
  hls: require.resolve("hls.js/dist/hls.min.js"),
  shaka: require.resolve("shaka-player/dist/shaka-player.compiled.js"),
};

let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
});

/** A token for the demo asset, minted with the dev key until playback sessions exist. */
async function demoToken(maxHeight = 720): Promise<string> {
  const keys = await parsePlaybackKeys(await readDevVar("PLAYBACK_TOKEN_KEYS"));
  const expiresAt = Math.floor(Date.now() / 1000) + 600;
  return signPlaybackToken({ assetId: "demo-aurora", accountId: "e2e", sessionId: `e2e-${Date.now()}`, maxHeight, expiresAt }, keys);
}

type PlaybackReport = {
  ended: boolean;
  framesPresented: number;
  brightestFrameMean: number;
  heights: number[];
  fatal: string | null;
  currentTime: number;
  duration: number;
};

/**
 * Runs in the page: plays `url` with the named player, counting presented frames, sampling
 * drawn frames' brightness, and noting the heights played, until `ended` or a fatal error.
 */
async function play(page: Page, player: "hls" | "shaka", url: string): Promise<PlaybackReport> {
  await page.goto(baseUrl);
  await page.addScriptTag({ path: players[player] });
  return page.evaluate(
    async ({ player, url }) => {
      const video = document.createElement("video");
      video.muted = true;
      video.playsInline = true;
      video.width = 640;
      video.height = 360;
      document.body.append(video);
      const report = { ended: false, framesPresented: 0, brightestFrameMean: 0, heights: [] as number[], fatal: null as string | null, currentTime: 0, duration: 0 };

      const canvas = document.createElement("canvas");
      canvas.width = 64;
      canvas.height = 36;
      const g = canvas.getContext("2d", { willReadFrequently: true })!;
      const onFrame = () => {
        report.framesPresented++;
        if (!report.heights.includes(video.videoHeight)) report.heights.push(video.videoHeight);
        if (report.framesPresented % 24 === 0) {
          g.drawImage(video, 0, 0, 64, 36);
          const data = g.getImageData(0, 0, 64, 36).data;
          let sum = 0;
          for (let i = 0; i < data.length; i += 4) sum += (data[i]! + data[i + 1]! + data[i + 2]!) / 3;
          report.brightestFrameMean = Math.max(report.brightestFrameMean, sum / (data.length / 4));
        }
        video.requestVideoFrameCallback(onFrame);
      };
      video.requestVideoFrameCallback(onFrame);

      const done = new Promise<void>((resolve) => {
        video.addEventListener("ended", () => {
          report.ended = true;
          resolve();
        });
        setTimeout(resolve, 45_000);
      });
      const w = window as unknown as Record<string, any>;
      if (player === "hls") {
        const hls = new w.Hls({ maxBufferLength: 30 });
        hls.on(w.Hls.Events.ERROR, (_: unknown, data: { fatal: boolean; details: string }) => {
          if (data.fatal) report.fatal = data.details;
        });
        hls.loadSource(url);
        hls.attachMedia(video);
      } else {
        w.shaka.polyfill.installAll();
        const shakaPlayer = new w.shaka.Player();
        shakaPlayer.addEventListener("error", (e: { detail: { code: number; severity: number } }) => {
          if (e.detail.severity === 2) report.fatal = `shaka ${e.detail.code}`;
        });
        await shakaPlayer.attach(video);
        await shakaPlayer.load(url).catch((e: { code: number }) => (report.fatal = `shaka load ${e.code}`));
      }
      await video.play().catch((e: Error) => (report.fatal ??= `play(): ${e.message}`));
      await done;
      report.currentTime = video.currentTime;
      report.duration = video.duration;
      return report;
    },
    { player, url },
  );
}

function expectPlayedToTheEnd(report: PlaybackReport) {
  expect(report.fatal).toBeNull();
  expect(report.ended).toBe(true);
  // 12 s at 24 fps; allow for frames the compositor skipped.
  expect(report.framesPresented).toBeGreaterThan(200);
  // Not a black picture: the demo's test pattern is bright.
  expect(report.brightestFrameMean).toBeGreaterThan(40);
  expect(report.currentTime).toBeGreaterThan(11.5);
}

describe("playback in Chromium", () => {
  it("hls.js plays the demo title's HLS to the end, within the token's ladder", async () => {
    const page = await browser.newPage();
    const report = await play(page, "hls", `${baseUrl}/p/${await demoToken(720)}/demo-aurora/master.m3u8`);
    await page.close();
    expectPlayedToTheEnd(report);
    for (const h of report.heights) expect([240, 480, 720]).toContain(h);
  });

  it("Shaka Player plays the same segments through the DASH manifest to the end", async () => {
    const page = await browser.newPage();
    const report = await play(page, "shaka", `${baseUrl}/p/${await demoToken(720)}/demo-aurora/manifest.mpd`);
    await page.close();
    expectPlayedToTheEnd(report);
  });

  it("never climbs above a lower plan's height", async () => {
    const page = await browser.newPage();
    const report = await play(page, "hls", `${baseUrl}/p/${await demoToken(480)}/demo-aurora/master.m3u8`);
    await page.close();
    expectPlayedToTheEnd(report);
    expect(Math.max(...report.heights)).toBeLessThanOrEqual(480);
  });
});
