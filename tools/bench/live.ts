// `npm run bench:live`: a live event on `npm run dev`, pushed by ffmpeg with 2 s segments.
//   1. Latency as a viewer sees it: a member watching through the web app in Chromium (the
//      web player: hls.js plus its wall-clock latency keeper), wall clock − program date-time
//      of the frame on screen, sampled every 250 ms; p50 against the segment duration (goal
//      ≤ 3 segment durations, 6 s); and plain hls.js with the same settings, in the same run.
//   2. What viewers cost the origin: 1 viewer, then 50 at once, each polling the live
//      playlist every second and fetching each new segment, the way a player does; R2 reads
//      per published segment (the live state, from X-Live-State: r2, and segments, from
//      X-Cache: MISS) with 50 viewers against 1 (goal: ratio ≤ 1.5, independent of the
//      number of viewers). Viewers never reach the event's Durable Object: the media Worker
//      has no binding to it (workers/media/wrangler.toml), so its requests per segment are
//      the ingest's own, the same with any number of viewers.
import path from "node:path";
import { launchBrowser } from "../../e2e/browser.ts";
import { watchLiveThroughTheWebApp } from "../../e2e/live-member.ts";
import { parsePlaybackKeys, signPlaybackToken } from "../../lib/playback-token.ts";
import { readDevVar } from "../dev-vars.ts";
import { broadcastTestPattern } from "../live/broadcast.ts";
import { percentile, probeLiveLatency } from "../live/latency-probe.ts";
import { startPlatform } from "../platform.ts";
import { projectRoot } from "../project.ts";
import { benchResults } from "./results.ts";

const SEGMENT_SEC = 2;
const LATENCY_SEC = 20;
const PHASE_SEC = 16;
const results = benchResults("live");

const platform = await startPlatform({ stateDir: path.join(projectRoot, ".wrangler/bench-live-state"), logFile: path.join(projectRoot, ".wrangler/bench-live-dev.log") });
try {
  const live = await broadcastTestPattern(platform.url, await readDevVar("ADMIN_TOKEN"), { name: "Bench Live", durationSec: 2 * LATENCY_SEC + 2 * PHASE_SEC + 30 });
  await live.segments(3);
  const keys = await parsePlaybackKeys(await readDevVar("PLAYBACK_TOKEN_KEYS"));
  const token = await signPlaybackToken({ assetId: live.event.assetId, accountId: "bench", sessionId: `bench-${Date.now()}`, maxHeight: 720, expiresAt: Math.floor(Date.now() / 1000) + 600 }, keys);
  const root = `${platform.url}/p/${token}/${live.event.assetId}`;

  // 1. Latency: the web player, then plain hls.js.
  const browser = await launchBrowser();
  const web = await watchLiveThroughTheWebApp(browser, platform.url, live.event.titleId, LATENCY_SEC);
  const page = await browser.newPage({ bypassCSP: true });
  const report = await probeLiveLatency(page, platform.url, `${root}/master.m3u8`, LATENCY_SEC);
  await browser.close();
  if (report.fatal) throw new Error(`hls.js failed: ${report.fatal}`);
  if (web.samples.length === 0) throw new Error("the web player reported no live latency");
  const webP50 = percentile(web.samples, 50);
  const webP95 = percentile(web.samples, 95);
  const p50 = percentile(report.samples, 50);
  const p95 = percentile(report.samples, 95);
  console.log(`web player (${web.engine}), ${web.samples.length} samples: p50 ${webP50.toFixed(2)} s, p95 ${webP95.toFixed(2)} s (${(webP50 / SEGMENT_SEC).toFixed(2)} segment durations)`);
  console.log(`plain hls.js, ${report.samples.length} samples: p50 ${p50.toFixed(2)} s, p95 ${p95.toFixed(2)} s; start-up ${Math.round(report.startupMs)} ms; ${report.stalls} stalls`);
  const segment = { name: "segment duration", value: SEGMENT_SEC };
  results.record({ name: "live latency p50, web player (wall clock − program date-time on screen)", value: webP50, unit: "s", baseline: segment, goal: "ratio ≤ 3 (6 s)", better: "lower" });
  results.record({ name: "live latency p95, web player", value: webP95, unit: "s", baseline: segment, better: "lower" });
  results.record({ name: "live latency p50, web player vs plain hls.js", value: webP50, unit: "s", baseline: { name: "plain hls.js p50", value: p50 }, better: "lower" });
  results.record({ name: "live latency p95, plain hls.js", value: p95, unit: "s", baseline: segment, better: "lower" });

  // 2. Origin reads per segment, 1 viewer then 50.
  const one = await viewers(root, 1, PHASE_SEC, () => live.status());
  const fifty = await viewers(root, 50, PHASE_SEC, () => live.status());
  for (const [label, p] of [["1 viewer", one], ["50 viewers", fifty]] as const) {
    console.log(`${label}: ${p.segments} segments published, ${p.playlists} playlist and ${p.media} segment requests; R2 reads ${p.stateReads} of the live state and ${p.segmentReads} of segments: ${p.perSegment.toFixed(2)} per segment`);
  }
  const base = { name: "R2 reads per segment, 1 viewer", value: one.perSegment };
  results.record({ name: "R2 reads per segment, 50 viewers (live state + segments)", value: fifty.perSegment, unit: "reads", baseline: base, goal: "ratio ≤ 1.5 (independent of viewers)", better: "lower" });
  results.record({ name: "viewer requests per segment, 50 viewers", value: (fifty.playlists + fifty.media) / Math.max(1, fifty.segments), unit: "requests", better: "lower" });
  await live.end();
} finally {
  await platform.stop();
}

type Phase = { segments: number; playlists: number; media: number; stateReads: number; segmentReads: number; perSegment: number };

/** `n` players for `seconds`: each polls the 720p playlist every second and fetches each segment it has not had. */
async function viewers(root: string, n: number, seconds: number, status: () => Promise<{ segments: number }>): Promise<Phase> {
  const before = (await status()).segments;
  const phase = { playlists: 0, media: 0, stateReads: 0, segmentReads: 0 };
  const until = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const had = new Set<string>();
      await new Promise((r) => setTimeout(r, (i * 1000) / n));
      while (Date.now() < until) {
        const res = await fetch(`${root}/720p/playlist.m3u8`);
        const text = await res.text();
        phase.playlists++;
        if (res.headers.get("X-Live-State") === "r2") phase.stateReads++;
        const newest = text.trim().split("\n").filter((l) => l.endsWith(".m4s")).at(-1);
        if (newest && !had.has(newest)) {
          had.add(newest);
          const seg = await fetch(`${root}/720p/${newest}`);
          await seg.arrayBuffer();
          phase.media++;
          if (seg.headers.get("X-Cache") === "MISS") phase.segmentReads++;
        }
        await new Promise((r) => setTimeout(r, 1000));
      }
    }),
  );
  const segments = (await status()).segments - before;
  return { segments, ...phase, perSegment: (phase.stateReads + phase.segmentReads) / Math.max(1, segments) };
}
