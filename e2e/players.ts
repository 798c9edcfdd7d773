// Real players in the page: hls.js or Shaka Player loaded from node_modules, playing a URL
// to the end while counting presented frames and sampling drawn frames' brightness.
import { createRequire } from "node:module";
import type { Page } from "playwright-core";
import { expect } from "vitest";
import { parsePlaybackKeys, signPlaybackToken } from "../lib/playback-token.ts";
import { readDevVar } from "../tools/dev-vars.ts";

const require = createRequire(import.meta.url);
/** The players' builds from node_modules, to add to a page as a script. */
export const playerScripts = {
  hls: require.resolve("hls.js/dist/hls.min.js"),
  shaka: require.resolve("shaka-player/dist/shaka-player.compiled.js"),
};

/** A playback token minted with the dev key (what the playback API will do for real). */
export async function devPlaybackToken(assetId: string, maxHeight = 2160): Promise<string> {
  const keys = await parsePlaybackKeys(await readDevVar("PLAYBACK_TOKEN_KEYS"));
  const expiresAt = Math.floor(Date.now() / 1000) + 600;
  return signPlaybackToken({ assetId, accountId: "e2e", sessionId: `e2e-${Date.now()}`, maxHeight, expiresAt }, keys);
}

export type PlaybackReport = {
  ended: boolean;
  framesPresented: number;
  brightestFrameMean: number;
  heights: number[];
  fatal: string | null;
  currentTime: number;
  duration: number;
  /** Each stall after playback began: media time (s), when it began (ms after `startedAt`), how long (ms). */
  stalls: { at: number; wall: number; ms: number }[];
  /** When the player was created (epoch ms). */
  startedAt: number;
};

export type PlayOptions = {
  /** The forward buffer each player keeps (its own default otherwise). */
  bufferSec?: number;
  /** How long to wait for `ended` (45 s). */
  timeoutMs?: number;
};

/**
 * Runs in the page: plays `url` with the named player, counting presented frames, sampling
 * drawn frames' brightness, and noting the heights played and every stall, until `ended`
 * or a fatal error.
 */
export async function play(page: Page, baseUrl: string, player: "hls" | "shaka", url: string, options: PlayOptions = {}): Promise<PlaybackReport> {
  await page.goto(baseUrl);
  await page.addScriptTag({ path: playerScripts[player] });
  return page.evaluate(
    async ({ player, url, bufferSec, timeoutMs }) => {
      const video = document.createElement("video");
      video.muted = true;
      video.playsInline = true;
      video.width = 640;
      video.height = 360;
      document.body.append(video);
      const report = {
        ended: false,
        framesPresented: 0,
        brightestFrameMean: 0,
        heights: [] as number[],
        fatal: null as string | null,
        currentTime: 0,
        duration: 0,
        stalls: [] as { at: number; wall: number; ms: number }[],
        startedAt: Date.now(),
      };
      let stalledAt: number | null = null;
      let stalledWall = 0;
      let playing = false;
      video.addEventListener("waiting", () => {
        if (!playing || stalledAt !== null) return;
        stalledAt = performance.now();
        stalledWall = Date.now() - report.startedAt;
      });
      video.addEventListener("playing", () => {
        playing = true;
        if (stalledAt !== null) report.stalls.push({ at: Math.round(video.currentTime * 10) / 10, wall: stalledWall, ms: Math.round(performance.now() - stalledAt) });
        stalledAt = null;
      });

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
        setTimeout(resolve, timeoutMs);
      });
      const w = window as unknown as Record<string, any>;
      if (player === "hls") {
        const hls = new w.Hls({ maxBufferLength: bufferSec ?? 30, ...(bufferSec ? { maxMaxBufferLength: bufferSec } : {}) });
        hls.on(w.Hls.Events.ERROR, (_: unknown, data: { fatal: boolean; details: string }) => {
          if (data.fatal) report.fatal = data.details;
        });
        hls.loadSource(url);
        hls.attachMedia(video);
      } else {
        w.shaka.polyfill.installAll();
        const shakaPlayer = new w.shaka.Player();
        if (bufferSec) shakaPlayer.configure({ streaming: { bufferingGoal: bufferSec, rebufferingGoal: 2, bufferBehind: 4 } });
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
    { player, url, bufferSec: options.bufferSec ?? null, timeoutMs: options.timeoutMs ?? 45_000 },
  );
}

export function expectPlayedToTheEnd(report: PlaybackReport, durationSec: number, fps = 24) {
  expect(report.fatal).toBeNull();
  expect(report.ended).toBe(true);
  // Allow for frames the compositor skipped.
  expect(report.framesPresented).toBeGreaterThan(durationSec * fps * 0.7);
  // Not a black picture: the test patterns played here are bright.
  expect(report.brightestFrameMean).toBeGreaterThan(40);
  expect(report.currentTime).toBeGreaterThan(durationSec - 0.5);
}

