// The first frame before hls.js, in Chromium against `npm run dev` (docs/qoe.md, "Start
// faster"): the watch page opens a MediaSource itself, appends the prefetched init and first
// segments, shows the frame, and only then loads hls.js's bundle, which takes the same
// MediaSource over and plays on without a stall, a gap in the buffer, or the first frame's
// files fetched twice. Every case plays from the start (`?from=start`): the member is the same.
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launchBrowser } from "./browser.ts";
import { demoMovieId } from "./play-flow.ts";
import { joinThroughThePages } from "./web-member.ts";
import { firstFramePresented, watchPageFrameObserver } from "./watch-page-frame.ts";

const baseUrl = inject("baseUrl");
let browser: Browser;
let titleId: string;

/** One member on Premium (four screens) for every case, each case in a fresh context (an empty HTTP cache). */
let member: Awaited<ReturnType<BrowserContext["storageState"]>>;

beforeAll(async () => {
  titleId = await demoMovieId();
  browser = await launchBrowser();
  const setup = await browser.newContext();
  await joinThroughThePages(await setup.newPage(), baseUrl, { email: `e2e-first-frame-${Date.now()}@example.com`, plan: "premium" });
  member = await setup.storageState();
  await setup.close();
});

const memberPage = async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 }, storageState: member });
  const page = await context.newPage();
  await page.addInitScript(watchPageFrameObserver);
  return { context, page };
};

afterAll(async () => {
  await browser?.close();
});

type Seen = {
  firstFrameAt: number;
  waiting: number;
  currentTime: number;
  buffered: [number, number][];
  resources: { path: string; startTime: number; responseEnd: number; decoded: number; transferred: number }[];
  state: { engine: string; firstFrameBy: string; engineReady: boolean; prefetched: number; status: string };
};

async function watch(page: Page, query = ""): Promise<Seen> {
  await page.goto(`${baseUrl}/watch/${titleId}${query}`);
  await firstFramePresented(page, 15_000);
  // Past three 2 s segments: well into what hls.js loaded itself.
  await page.waitForFunction(() => (document.querySelector("video#player") as HTMLVideoElement).currentTime >= 6.5, null, { timeout: 20_000 });
  return page.evaluate(() => {
    const w = window as unknown as { __watchPageFrame: { at: number; waiting: number }; __marqueePlayer: { state(): Seen["state"] } };
    const v = document.querySelector("video#player") as HTMLVideoElement;
    return {
      firstFrameAt: w.__watchPageFrame.at,
      waiting: w.__watchPageFrame.waiting,
      currentTime: v.currentTime,
      buffered: Array.from({ length: v.buffered.length }, (_, i) => [v.buffered.start(i), v.buffered.end(i)] as [number, number]),
      resources: (performance.getEntriesByType("resource") as PerformanceResourceTiming[]).map((e) => ({
        path: new URL(e.name).pathname,
        startTime: e.startTime,
        responseEnd: e.responseEnd,
        decoded: e.decodedBodySize,
        transferred: e.transferSize,
      })),
      state: w.__marqueePlayer.state(),
    };
  });
}

describe("the first frame before hls.js", () => {
  it("plays the first frame on the page's own MediaSource, then hls.js takes it over and plays on", async () => {
    const { context, page } = await memberPage();
    // Straight to the watch page: nothing of the player is in the HTTP cache from a title page.
    const seen = await watch(page, "?from=start");
    expect(seen.state).toMatchObject({ engine: "hls.js", firstFrameBy: "first-frame", engineReady: true, status: "playing" });
    // The init and first segment of video and audio, each fetched once and used by both.
    expect(seen.state.prefetched).toBe(4);

    const js = seen.resources.filter((r) => r.path.endsWith(".js"));
    const hlsBundle = js.find((r) => r.path.startsWith("/assets/player-hls-js-"));
    expect(hlsBundle, "hls.js's bundle was loaded").toBeDefined();
    // hls.js was not even asked for before the frame was on screen...
    expect(hlsBundle!.startTime).toBeGreaterThanOrEqual(seen.firstFrameAt);
    // ...so the JS before the first frame is the player alone: within the 250 KB goal.
    const before = js.filter((r) => r.responseEnd <= seen.firstFrameAt).reduce((sum, r) => sum + r.decoded, 0);
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThanOrEqual(250 * 1024);

    // hls.js went on from where the first frame's data ended: one buffered range from the
    // start, no stall on loopback, and the first frame's two media segments fetched once
    // each (hls.js loads the start segment again on taking over: the prefetch answers it
    // from memory), its two init segments never: they came in the Play answer.
    expect(seen.waiting).toBe(0);
    expect(seen.buffered.length).toBe(1);
    expect(seen.buffered[0]![0]).toBeLessThan(0.1);
    expect(seen.buffered[0]![1]).toBeGreaterThan(seen.currentTime);
    const media = seen.resources.filter((r) => r.path.endsWith(".m4s")).map((r) => r.path);
    expect(media.length).toBeGreaterThan(2);
    const firstTwo = media.slice(0, 2);
    expect(firstTwo.map((p) => p.replace(/^.*\/demo-aurora\//, "")).sort()).toEqual([expect.stringMatching(/^\d+p\/1\.m4s$/), "audio-en/1.m4s"]);
    for (const p of firstTwo) expect(media.filter((m) => m === p), `${p} of ${media.join(" ")}`).toHaveLength(1);
    const startInit = firstTwo.find((p) => /\/\d+p\/1\.m4s$/.test(p))!.replace(/1\.m4s$/, "init.m4s");
    expect(media.filter((m) => m === startInit || m.endsWith("/audio-en/init.m4s")), media.join(" ")).toEqual([]);
    await context.close();
  });

  it("when a first segment cannot be fetched for it, hls.js starts from nothing and plays", async () => {
    const { context, page } = await memberPage();
    // The prefetch's request for the first video segment fails once (its CMCD says su:
    // start-up); hls.js's own request for it, later, goes through.
    let refused = 0;
    await page.route(/\/\d+p\/1\.m4s\?/, (route) => (refused++ === 0 ? route.abort("connectionreset") : route.continue()));
    const seen = await watch(page, "?from=start");
    expect(refused).toBeGreaterThanOrEqual(2);
    expect(seen.state).toMatchObject({ engine: "hls.js", firstFrameBy: "hls.js", status: "playing" });
    expect(seen.waiting).toBe(0);
    await context.close();
  });

  it("with ?start=hls, hls.js starts from nothing, as where the first frame cannot come without it (live, no inline playlists)", async () => {
    const { context, page } = await memberPage();
    const seen = await watch(page, "?from=start&start=hls");
    expect(seen.state).toMatchObject({ engine: "hls.js", firstFrameBy: "hls.js", status: "playing" });
    expect(seen.state.prefetched).toBe(4);
    const hlsBundle = seen.resources.find((r) => r.path.startsWith("/assets/player-hls-js-"));
    expect(hlsBundle!.responseEnd).toBeLessThan(seen.firstFrameAt);
    expect(seen.waiting).toBe(0);
    await context.close();
  });
});
