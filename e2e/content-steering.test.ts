// Content steering under a failing origin, in a real browser (docs/media-origin.md): a
// platform of its own, started with the media Worker's primary bucket failing entirely
// from ten seconds after its first use (`--chaos-media r2:MEDIA=1@10s`); a film ingested
// through `npm run ingest`, whose publish step copies it to the replica; then hls.js
// (HLS) and Shaka Player (DASH) play it at once in two pages of Chromium, each with a
// short buffer so most of the film is fetched after the failure. Both must play to the
// end and move to the replica's pathway (/p2/); the test prints, per player, the longest
// stall after the failure against the goal of one segment, and every request that failed.
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectRoot } from "../tools/project.ts";
import { startPlatform, type Platform } from "../tools/platform.ts";
import { browserAvailable, installBrowserHint, launchBrowser } from "./browser.ts";
import { hasFfmpeg, ingestLongFilm, type IngestedFilm } from "./long-film.ts";
import { devPlaybackToken, play } from "./players.ts";

const FILM_SEC = 40;
/** The packager's segments after the start-up ones (tools/ingest/timing.ts): the stall goal. */
const SEGMENT_SEC = 4;
const FAIL_AFTER = "10s";
const BUFFER_SEC = 8;

const runnable = (hasFfmpeg && browserAvailable()) || process.env.CI === "true";
if (!runnable) console.warn(`content-steering e2e skipped: it needs ffmpeg and Chromium (${installBrowserHint})`);

let platform: Platform;
let browser: Browser;
let film: IngestedFilm;

beforeAll(async () => {
  if (!runnable) return;
  platform = await startPlatform({
    stateDir: path.join(projectRoot, ".wrangler/e2e-steering-state"),
    logFile: path.join(projectRoot, ".wrangler/e2e-steering-dev.log"),
    extraArgs: ["--chaos-media", `r2:MEDIA=1@${FAIL_AFTER}`],
  });
  browser = await launchBrowser();
  film = await ingestLongFilm(platform.url, "Steered film", FILM_SEC);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
});

type Sent = { at: number; path: string; status: number | null; origin: string | null };

/** Every media request of the page, with when (ms since `since`), its pathway prefix, status, and which origin served it. */
function recordRequests(page: Page, since: () => number): Sent[] {
  const sent: Sent[] = [];
  page.on("response", (res) => {
    const url = new URL(res.url());
    if (!/^\/p[2-9]?\//.test(url.pathname)) return;
    sent.push({ at: Date.now() - since(), path: url.pathname, status: res.status(), origin: res.headers()["x-origin"] ?? null });
  });
  page.on("requestfailed", (req) => {
    const url = new URL(req.url());
    if (/^\/p[2-9]?\//.test(url.pathname)) sent.push({ at: Date.now() - since(), path: url.pathname, status: null, origin: null });
  });
  return sent;
}

const isSegment = (p: string) => /\/\d+\.m4s$/.test(p);

describe.runIf(runnable)("content steering with the primary origin failing", () => {
  it("publishing copied the film to the replica", () => {
    expect(film.replication).toEqual([expect.objectContaining({ pathway: "p2", complete: true })]);
  });

  it("hls.js and Shaka play to the end, moving to the replica's pathway", { timeout: (FILM_SEC + 90) * 1000 }, async () => {
    const token = await devPlaybackToken(film.assetId);
    const pages = await Promise.all([browser.newPage({ bypassCSP: true }), browser.newPage({ bypassCSP: true })]);
    const players = [
      { name: "hls.js", kind: "hls" as const, url: `${platform.url}/p/${token}/${film.assetId}/master.m3u8`, page: pages[0]! },
      { name: "Shaka", kind: "shaka" as const, url: `${platform.url}/p/${token}/${film.assetId}/manifest.mpd`, page: pages[1]! },
    ];
    let started = 0;
    const since = () => started;
    const sent = players.map((p) => recordRequests(p.page, since));
    // The media Worker's first read of the primary starts its clock: both players start together.
    started = Date.now();
    const reports = await Promise.all(players.map((p) => play(p.page, platform.url, p.kind, p.url, { bufferSec: BUFFER_SEC, timeoutMs: (FILM_SEC + 60) * 1000 })));
    await Promise.all(pages.map((p) => p.close()));

    const failAfterMs = Number.parseInt(FAIL_AFTER, 10) * 1000;
    const lines: string[] = [];
    players.forEach((p, i) => {
      const report = reports[i]!;
      const requests = sent[i]!;
      const segments = requests.filter((r) => isSegment(r.path));
      const onReplica = segments.filter((r) => r.path.startsWith("/p2/"));
      const failed = requests.filter((r) => r.status === null || r.status >= 400);
      const fellBack = segments.filter((r) => r.path.startsWith("/p/") && r.origin === "p2");
      const afterFailure = report.stalls.filter((s) => s.wall >= failAfterMs);
      const longest = Math.max(0, ...afterFailure.map((s) => s.ms));
      lines.push(
        `${p.name}: ended ${report.ended} at ${report.currentTime.toFixed(2)} / ${report.duration.toFixed(2)} s; ` +
          `${segments.length} segment requests, ${onReplica.length} on /p2/ (first at ${onReplica[0] ? (onReplica[0].at / 1000).toFixed(1) : "-"} s), ` +
          `${fellBack.length} on /p/ served by the replica; stalls ${JSON.stringify(report.stalls)} → longest after the failure ${longest} ms (goal ≤ ${SEGMENT_SEC * 1000} ms); ` +
          `failed requests: ${failed.length === 0 ? "none" : failed.map((r) => `${r.status ?? "network"} ${r.path.replace(/^\/(p\d?)\/[^/]+/, "/$1/<token>")} at ${(r.at / 1000).toFixed(1)} s`).join(", ")}`,
      );
    });
    console.log(`content steering, primary failing from ${failAfterMs / 1000} s:\n  ${lines.join("\n  ")}`);

    players.forEach((p, i) => {
      const report = reports[i]!;
      expect(report.fatal, p.name).toBeNull();
      expect(report.ended, p.name).toBe(true);
      expect(report.currentTime, p.name).toBeGreaterThan(FILM_SEC - 1);
      const segments = sent[i]!.filter((r) => isSegment(r.path));
      // Steered: the player moved to the replica's pathway, and stayed there to the end.
      expect(segments.some((r) => r.path.startsWith("/p2/")), `${p.name} asked /p2/ for segments`).toBe(true);
      expect(segments.at(-1)!.path.startsWith("/p2/"), `${p.name}'s last segment came from /p2/`).toBe(true);
      // Nothing the player asked for failed: misses on /p/ were served by the replica.
      expect(sent[i]!.filter((r) => r.status === null || r.status >= 400), p.name).toEqual([]);
    });
  });
});
