// Play on intent, in Chromium against `npm run dev`: the title page starts the stream as
// the pointer rests on Play (`prepared: true`, a 20 s lease) and fetches its first segments
// into the HTTP cache; the watch page takes that stream over with no POST of its own, finds
// the segments cached, and confirms the lease with a heartbeat; a Play hovered but never
// pressed gives its screen back when the page goes.
import type { Browser, Page, Request } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { StartedPlayback } from "../lib/playback-session.ts";
import { launchBrowser } from "./browser.ts";
import { demoMovieId } from "./play-flow.ts";
import { joinThroughThePages } from "./web-member.ts";

const baseUrl = inject("baseUrl");
let browser: Browser;
let titleId: string;

beforeAll(async () => {
  titleId = await demoMovieId();
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
});

const isStart = (r: Request) => r.method() === "POST" && new URL(r.url()).pathname === "/v1/playback/sessions";

/** The account's streams, as the page's own session sees them. */
const streams = (page: Page) =>
  page.evaluate(async () => ((await (await fetch("/v1/playback/sessions", { headers: { accept: "application/json" } })).json()) as { streams: { id: string }[] }).streams.map((s) => s.id));

describe("Play on intent in Chromium (Basic plan: one screen)", () => {
  it("starts the stream on hover, hands it to the watch page (no POST there) and confirms it; an unpressed one is given back", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    const page = await context.newPage();
    await joinThroughThePages(page, baseUrl, { email: `e2e-intent-${Date.now()}@example.com`, plan: "basic" });

    await page.goto(`${baseUrl}/title/${titleId}`);
    const starts: { url: string; page: string; body: Record<string, unknown> }[] = [];
    page.on("request", (r) => isStart(r) && starts.push({ url: r.url(), page: page.url(), body: JSON.parse(r.postData() ?? "{}") as Record<string, unknown> }));
    const answered = page.waitForResponse((r) => isStart(r.request()));
    await page.hover("a#play");
    const prepared = await answered;
    expect(prepared.status()).toBe(201);
    const session = (await prepared.json()) as StartedPlayback;
    expect(session.lease.ttlSec).toBe(20);
    expect(starts).toHaveLength(1);
    expect(starts[0]!.body).toMatchObject({ titleId, prepared: true });

    const heartbeat = page.waitForRequest((r) => r.method() === "POST" && r.url().endsWith(`/v1/playback/sessions/${session.id}/heartbeat`));
    await page.click("a#play");
    await page.waitForURL(new RegExp(`/watch/${titleId}`));
    await expect.poll(() => page.locator("#player-status").getAttribute("data-state"), { timeout: 15_000 }).toBe("playing");
    // The watch page plays the stream the hover started: no second start, one screen.
    expect(starts).toHaveLength(1);
    expect(await page.locator("main").getAttribute("data-playback-session-id")).toBe(session.id);
    // The press confirmed the short lease (a heartbeat right after the first frame).
    const beat = await (await heartbeat).response();
    expect(beat?.status()).toBe(200);
    expect(await streams(page)).toEqual([session.id]);
    await page.waitForFunction(() => (window as unknown as { __marqueePlayer: { state(): { qoeReports: { firstFrame?: unknown }[] } } }).__marqueePlayer.state().qoeReports.some((r) => r.firstFrame), null, { timeout: 10_000 });
    const state = await page.evaluate(() => (window as unknown as { __marqueePlayer: { state(): { prefetched: number; qoeReports: { firstFrame?: { playDelayMs: number } }[] } } }).__marqueePlayer.state());
    expect(state.prefetched).toBe(4);
    // Of those four, the two init segments came in the Play answer and the two media
    // segments from the browser's HTTP cache: the title page fetched the very same URLs
    // while the pointer rested on Play (resource timing: nothing transferred).
    const startEntries = await page.evaluate(() =>
      performance
        .getEntriesByType("resource")
        .map((e) => e as PerformanceResourceTiming)
        // The prefetch's own CMCD (player/prefetch.ts): cid, ot, sid, su and nothing else.
        .filter((e) => /[?&]CMCD=cid%3D[^&]*%2Cot%3D[iva]%2Csid%3D[^&]*%2Csu$/.test(e.name))
        .map((e) => ({ name: e.name, transferSize: e.transferSize, decodedBodySize: e.decodedBodySize })),
    );
    expect(startEntries.map((e) => new URL(e.name).pathname.replace(/^.*\/demo-aurora\//, "")).sort()).toEqual([expect.stringMatching(/^\d+p\/1\.m4s$/), "audio-en/1.m4s"]);
    for (const e of startEntries) {
      expect(e.decodedBodySize, e.name).toBeGreaterThan(0);
      expect(e.transferSize, e.name).toBe(0);
    }
    console.log(`Play on intent: the press to the first frame in ${state.qoeReports.find((r) => r.firstFrame)?.firstFrame?.playDelayMs} ms (the QoE play delay)`);

    // Leaving the watch page ends the stream; back on the title page a hover prepares
    // another, and leaving without pressing gives the screen back at once.
    await page.goto(`${baseUrl}/title/${titleId}`);
    await expect.poll(() => streams(page), { timeout: 10_000 }).toEqual([]);
    const again = page.waitForResponse((r) => isStart(r.request()));
    await page.mouse.move(0, 0);
    await page.hover("a#play");
    const second = (await (await again).json()) as StartedPlayback;
    expect(second.id).not.toBe(session.id);
    expect(await streams(page)).toEqual([second.id]);
    await page.goto(`${baseUrl}/`);
    await expect.poll(() => streams(page), { timeout: 10_000 }).toEqual([]);
    await context.close();
  });
});
