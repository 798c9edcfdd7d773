// Live latency as a viewer sees it, in a real browser: hls.js (configured as the web
// player configures it for live: web/scripts/player/hls-engine.ts LIVE_HLS_CONFIG) plays a
// live playlist, and every 250 ms the probe takes wall clock minus the program date-time of
// the frame on screen (hls.js `playingDate`). Used by the browser test and bench:live.
import { createRequire } from "node:module";
import type { Page } from "playwright-core";

const hlsJs = createRequire(import.meta.url).resolve("hls.js/dist/hls.min.js");

export type LatencyReport = {
  /** Seconds, one per sample while playing. */
  samples: number[];
  /** Press → first frame, ms. */
  startupMs: number;
  /** Times the video stalled (waiting) after it first played. */
  stalls: number;
  fatal: string | null;
};

/** `page` must be on the media URL's origin (or bypass CSP): the probe injects hls.js. */
export async function probeLiveLatency(page: Page, pageUrl: string, masterUrl: string, seconds: number): Promise<LatencyReport> {
  await page.goto(pageUrl);
  await page.addScriptTag({ path: hlsJs });
  return page.evaluate(
    async ({ url, seconds }) => {
      // Runs in the page; tools/ has no DOM types.
      const page = globalThis as any;
      const Hls = page.Hls;
      const video = page.document.createElement("video");
      video.muted = true;
      page.document.body.append(video);
      const hls = new Hls({ liveSyncDuration: 3, liveMaxLatencyDuration: 10, maxLiveSyncPlaybackRate: 1.1 });
      let fatal: string | null = null;
      hls.on(Hls.Events.ERROR, (_e: unknown, data: { fatal: boolean; details: string }) => {
        if (data.fatal) fatal = data.details;
      });
      const pressed = performance.now();
      hls.loadSource(url);
      hls.attachMedia(video);
      void video.play().catch(() => undefined);
      await new Promise<void>((resolve) => {
        const tick = () => (video.currentTime > 0 && !video.paused) || fatal ? resolve() : setTimeout(tick, 20);
        tick();
      });
      const startupMs = performance.now() - pressed;
      let stalls = 0;
      video.addEventListener("waiting", () => stalls++);
      const samples: number[] = [];
      const until = performance.now() + seconds * 1000;
      while (performance.now() < until && !fatal) {
        await new Promise((r) => setTimeout(r, 250));
        const date = hls.playingDate as Date | null;
        if (date && !video.paused) samples.push((Date.now() - date.getTime()) / 1000);
      }
      hls.destroy();
      return { samples, startupMs, stalls, fatal };
    },
    { url: masterUrl, seconds },
  );
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
