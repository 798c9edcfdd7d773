// Quality of experience end to end, in Chromium against `npm run dev`: a member plays a
// title through the web app, leaves (the QoE beacon goes on pagehide), and the admin API
// then has the view in its rollups and hls.js's CMCD requests in the session's timeline,
// with plausible values: a play delay above 0, bitrates of real renditions, no stalls on
// loopback. The operators' dashboard renders and is saved as a screenshot.
import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { RenditionIndex } from "../lib/media-index.ts";
import type { QoeReport } from "../lib/qoe.ts";
import { readDevVar } from "../tools/dev-vars.ts";
import { projectRoot } from "../tools/project.ts";
import { launchBrowser } from "./browser.ts";
import { demoMovieId } from "./play-flow.ts";
import { joinThroughThePages } from "./web-member.ts";

const baseUrl = inject("baseUrl");
const screenshots = path.join(projectRoot, "e2e/screenshots");

let browser: Browser;
let adminToken: string;
let titleId: string;
let ladder: { height: number }[];

const admin = async <T,>(pathname: string): Promise<{ status: number; body: T }> => {
  const res = await fetch(`${baseUrl}${pathname}`, { headers: { Authorization: `Bearer ${adminToken}` } });
  return { status: res.status, body: (await res.json()) as T };
};

type RollupRow = { key: string; starts: number; playDelayMs: { p50: number | null; p95: number | null }; avgBitrateKbps: number | null; rebufferRatio: number | null; exitsBeforeVideo: number };
type Timeline = { streamIds: string[]; requests: { at: string; object: string; ot: string | null; br: number | null; bl: number | null; mtp: number | null; su: boolean; bs: boolean }[] };

beforeAll(async () => {
  await mkdir(screenshots, { recursive: true });
  adminToken = await readDevVar("ADMIN_TOKEN");
  titleId = await demoMovieId();
  const index = JSON.parse(await readFile(path.join(projectRoot, "demo/media/assets/demo-aurora/index.json"), "utf8")) as RenditionIndex;
  ladder = index.video.map((v) => ({ height: v.height }));
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
});

describe("QoE in Chromium", () => {
  it("a view through the web app reaches the rollups and its CMCD requests the session timeline", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    const page = await context.newPage();
    await joinThroughThePages(page, baseUrl, { email: `e2e-qoe-${Date.now()}@example.com`, plan: "premium" });

    const from = new Date(Date.now() - 60_000).toISOString();
    await page.goto(`${baseUrl}/title/${titleId}`);
    await page.click("a#play");
    await page.waitForURL(new RegExp(`/watch/${titleId}`));
    await expect.poll(() => page.locator("#player-status").getAttribute("data-state"), { timeout: 15_000 }).toBe("playing");
    await page.waitForFunction(() => document.querySelector<HTMLVideoElement>("video#player")!.currentTime >= 4, null, { timeout: 15_000 });
    const state = await page.evaluate(() => (window as unknown as { __marqueePlayer: { state(): { playbackSessionId: string; token: string; qoeReports: QoeReport[]; engine: string; prefetched: number } } }).__marqueePlayer.state());
    expect(state.engine).toBe("hls.js");
    // The first segments came from the Play answer's prefetch: init and first segment of video and audio.
    expect(state.prefetched).toBe(4);
    // The variants' bitrates as the master playlist states them (what hls.js reports in CMCD `br` and QoE).
    const master = await (await fetch(`${baseUrl}/p/${state.token}/demo-aurora/master.m3u8`)).text();
    const variantKbps = new Map([...master.matchAll(/BANDWIDTH=(\d+)[^\n]*\n(\d+)p\/playlist\.m3u8/g)].map((m) => [Number(m[2]), Math.round(Number(m[1]) / 1000)]));
    expect(variantKbps.size).toBe(ladder.length);
    // Leaving: the last report goes by beacon on pagehide.
    await page.goto(`${baseUrl}/`);
    const streamId = state.playbackSessionId;

    // What the player itself reported: one first frame, on loopback no stalls.
    const first = state.qoeReports.find((r) => r.firstFrame);
    expect(first, JSON.stringify(state.qoeReports)).toBeDefined();
    expect(first!.firstFrame!.playDelayMs).toBeGreaterThan(0);
    expect(first!.firstFrame!.pageToFirstFrameMs).toBeGreaterThanOrEqual(first!.firstFrame!.playDelayMs);
    expect(state.qoeReports.reduce((n, r) => n + r.stalls, 0)).toBe(0);
    for (const h of Object.keys(first!.heightMs)) expect(ladder.map((l) => l.height)).toContain(Number(h));

    // The rollup for the title since just before this test, as the admin API reads it.
    const row = await expect
      .poll(
        async () => {
          const { body } = await admin<{ rows: RollupRow[] }>(`/v1/admin/qoe?groupBy=title&from=${from}`);
          return body.rows.find((r) => r.key === titleId) ?? null;
        },
        { timeout: 20_000, interval: 500 },
      )
      .not.toBeNull()
      .then(async () => (await admin<{ rows: RollupRow[] }>(`/v1/admin/qoe?groupBy=title&from=${from}`)).body.rows.find((r) => r.key === titleId)!);
    expect(row.starts).toBeGreaterThanOrEqual(1);
    expect(row.playDelayMs.p50).toBeGreaterThan(0);
    const kbps = [...variantKbps.values()];
    expect(row.avgBitrateKbps).toBeGreaterThanOrEqual(Math.min(...kbps));
    expect(row.avgBitrateKbps).toBeLessThanOrEqual(Math.max(...kbps));

    // hls.js sent CMCD on every request; its session id is the stream id.
    const timeline = await expect
      .poll(async () => (await admin<Timeline>(`/v1/admin/qoe/sessions/${streamId}`)).status, { timeout: 20_000, interval: 500 })
      .toBe(200)
      .then(async () => (await admin<Timeline>(`/v1/admin/qoe/sessions/${streamId}`)).body);
    expect(timeline.streamIds).toEqual([streamId]);
    const segments = timeline.requests.filter((r) => r.ot === "v" && /^\d+p\/\d+\.m4s$/.test(r.object));
    expect(segments.length).toBeGreaterThanOrEqual(2);
    // The requested bitrate of each video segment hls.js loaded is its variant's (the prefetched
    // first ones carry only sid, cid, ot and su).
    const withBitrate = segments.filter((s) => s.br !== null);
    expect(withBitrate.length).toBeGreaterThanOrEqual(1);
    for (const s of withBitrate) expect(s.br, s.object).toBe(variantKbps.get(Number(/^(\d+)p\//.exec(s.object)![1])));
    expect(timeline.requests.some((r) => r.su)).toBe(true);
    expect(timeline.requests.some((r) => (r.mtp ?? 0) > 0)).toBe(true);
    expect(timeline.requests.every((r) => !r.bs)).toBe(true);
    console.log(
      `QoE e2e: play delay ${first!.firstFrame!.playDelayMs} ms (page → first frame ${first!.firstFrame!.pageToFirstFrameMs} ms); rollup p50 ${row.playDelayMs.p50} ms, avg ${row.avgBitrateKbps} kbit/s; ${timeline.requests.length} CMCD requests, ${segments.length} video segments`,
    );
    await context.close();
  });

  it("the dashboard renders its charts for the admin (HTTP Basic), and nothing without the token", async () => {
    const anonymous = await fetch(`${baseUrl}/admin/qoe`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toMatch(/^Basic /);
    const context = await browser.newContext({ viewport: { width: 1400, height: 1100 }, httpCredentials: { username: "ops", password: adminToken } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
    page.on("response", (r) => r.status() >= 400 && problems.push(`${r.status()} ${r.url()}`));
    const res = await page.goto(`${baseUrl}/admin/qoe?hours=1`);
    expect(res?.status()).toBe(200);
    expect(await page.locator("svg.chart").count()).toBe(4);
    expect(await page.locator(`table.qoe-table tr[data-title-id="${titleId}"]`).count()).toBe(1);
    await page.screenshot({ path: path.join(screenshots, "qoe-dashboard.png"), fullPage: true });
    expect(problems).toEqual([]);
    await context.close();
  });
});
