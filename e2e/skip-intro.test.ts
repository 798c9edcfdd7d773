// Skip intro in the web player, in Chromium against `npm run dev`: an operator sets an
// episode's intro (2 → 8 s) and credits (9 s → the end) with the admin PUT; the member
// plays it from the start; the "Skip intro" button shows over the picture (also once the
// controls have faded), pressing it (or S) lands at the intro's end and sends a
// segment_skipped watch event; the "Next episode" countdown starts at the credits (not 10 s
// before the end, which on this 12 s video would be during the intro), with "Watch credits"
// to dismiss it, and a `complete` event goes as the credits begin. With the profile's
// auto-skip (turned on in the profile's playback settings page) the intro is skipped
// without a press, unless the viewer seeked into it.
//
// The demo episodes all play one video (demo-aurora) and segments are kept per video, so
// every title on it has these segments while this file runs: they are cleared at the end.
import type { Browser, BrowserContext, Page, Request } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { SkipSegmentKind } from "../lib/skip-segments.ts";
import { readDevVar } from "../tools/dev-vars.ts";
import { launchBrowser } from "./browser.ts";
import { joinThroughThePages } from "./web-member.ts";

const baseUrl = inject("baseUrl");
/** A series no other browser test looks at; its first episode, which has a next one. */
const titleId = "wanderlust-kitchen";
const INTRO = { kind: "intro", startSec: 2, endSec: 8 } as const;
const CREDITS = { kind: "credits", startSec: 9, endSec: 12 } as const;

type SentEvent = { type: string; positionSec: number; segment?: SkipSegmentKind; episodeId?: string };
type PlayerState = { status: string; skip: { visible: SkipSegmentKind | null; autoSkip: boolean; segments: unknown[] }; events: { type: string; segment?: string }[] };

let browser: Browser;
let context: BrowserContext;
let page: Page;
let adminToken: string;
let episodeId: string;
let nextEpisodeId: string;
/** Every watch event the page sent (POST /v1/events bodies), and the statuses they were answered with. */
const sent: SentEvent[] = [];
const eventStatuses: number[] = [];
const problems: string[] = [];

async function putSegments(segments: readonly { kind: string; startSec: number; endSec: number }[]): Promise<unknown> {
  const res = await fetch(`${baseUrl}/v1/admin/titles/${titleId}/seasons/1/episodes/1/segments`, {
    method: "PUT",
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({ segments }),
  });
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body;
}

function playerState(p: Page): Promise<PlayerState> {
  return p.evaluate(() => (window as unknown as { __marqueePlayer: { state(): PlayerState } }).__marqueePlayer.state());
}

/** Where in `sent` the newest watch page's events begin. */
let openedAt = 0;

/**
 * Opens the episode's watch page from the start, heartbeats (and so event batches) every
 * 2 s, and notes in the page the playhead when the Next episode box first shows, and what
 * the toast first said.
 */
async function openEpisode(p: Page): Promise<void> {
  openedAt = sent.length;
  await p.goto(`${baseUrl}/watch/${titleId}?episode=${encodeURIComponent(episodeId)}&from=start&heartbeat=2`);
  await p.waitForFunction(() => "__marqueePlayer" in window);
  await p.evaluate(() => {
    const video = document.querySelector<HTMLVideoElement>("video#player")!;
    const nextUp = document.getElementById("next-up")!;
    const toast = document.getElementById("skip-toast")!;
    const w = window as unknown as { __nextUpShownAt: number | null; __toastShown: string | null };
    w.__nextUpShownAt = w.__toastShown = null;
    new MutationObserver(() => (w.__nextUpShownAt ??= nextUp.hidden ? null : video.currentTime)).observe(nextUp, { attributes: true, attributeFilter: ["hidden"] });
    new MutationObserver(() => (w.__toastShown ??= toast.hidden ? null : toast.textContent)).observe(toast, { attributes: true, attributeFilter: ["hidden"] });
  });
}

/** Arms a page-side wait for the next `seeked` past `beyondSec` (not hls.js's own start-up seek), resolving to where it landed. */
async function armLanding(p: Page, beyondSec = INTRO.startSec): Promise<() => Promise<number>> {
  await p.evaluate((beyond) => {
    const video = document.querySelector<HTMLVideoElement>("video#player")!;
    const w = window as unknown as { __landing: Promise<number> };
    w.__landing = new Promise((resolve) => {
      const onSeeked = () => {
        if (video.currentTime <= beyond) return;
        video.removeEventListener("seeked", onSeeked);
        resolve(video.currentTime);
      };
      video.addEventListener("seeked", onSeeked);
    });
  }, beyondSec);
  return () => p.evaluate(() => (window as unknown as { __landing: Promise<number> }).__landing);
}

const currentTime = (p: Page) => p.evaluate(() => document.querySelector<HTMLVideoElement>("video#player")!.currentTime);

/** Waits for a watch event the page sent, from `since` (an index into `sent`) on. */
async function sentEvent(match: (e: SentEvent) => boolean, since: number): Promise<SentEvent> {
  let found: SentEvent | undefined;
  await expect.poll(() => (found = sent.slice(since).find(match)), { timeout: 10_000, interval: 100 }).toBeDefined();
  return found!;
}

beforeAll(async () => {
  adminToken = await readDevVar("ADMIN_TOKEN");
  const title = (await (await fetch(`${baseUrl}/v1/titles/${titleId}`)).json()) as { seasons: { number: number; episodes: { id: string; number: number }[] }[] };
  const season = title.seasons.find((s) => s.number === 1)!;
  episodeId = season.episodes.find((e) => e.number === 1)!.id;
  nextEpisodeId = season.episodes.find((e) => e.number === 2)!.id;
  await putSegments([INTRO, CREDITS]);

  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  page = await context.newPage();
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.push(`console error: ${msg.text()}`);
  });
  const isEvents = (r: Request) => r.method() === "POST" && new URL(r.url()).pathname === "/v1/events";
  page.on("request", (r) => {
    if (isEvents(r)) sent.push(...(JSON.parse(r.postData() ?? "{}") as { events: SentEvent[] }).events);
  });
  page.on("response", (r) => {
    if (isEvents(r.request())) eventStatuses.push(r.status());
  });
  // Premium: four screens, so one watch page's stream still being released never refuses the next.
  await joinThroughThePages(page, baseUrl, { email: `e2e-skip-${Date.now()}@example.com`, plan: "premium" });
});

afterAll(async () => {
  await browser?.close();
  if (adminToken) await putSegments([]);
});

describe("Skip intro in the web player", () => {
  it("offers Skip intro over the picture; pressing it lands at the intro's end and sends segment_skipped", async () => {
    await openEpisode(page);
    await page.waitForFunction(() => (window as unknown as { __marqueePlayer: { state(): PlayerState } }).__marqueePlayer.state().skip.visible === "intro", null, { timeout: 15_000 });
    const state = await playerState(page);
    expect(state.skip.segments).toEqual([INTRO, CREDITS]);
    expect(state.skip.autoSkip).toBe(false);
    const button = page.locator("#skip-segment");
    expect(await button.getAttribute("aria-label")).toBe("Skip intro");
    expect(await button.textContent()).toBe("Skip intro");
    // Not the next episode yet: without the credits segment it would show from 10 s before the end (2 s here).
    expect(await page.locator("#next-up").isHidden()).toBe(true);

    // Still there once the controls have faded (3 s untouched), and reachable by keyboard.
    await page.locator("#player-shell[data-controls=hidden]").waitFor({ state: "attached", timeout: 6_000 });
    expect(await button.isVisible()).toBe(true);
    expect(await button.evaluate((b) => getComputedStyle(b).opacity)).toBe("1");
    expect(await button.evaluate((b) => (b.focus(), document.activeElement === b))).toBe(true);

    const since = sent.length;
    const pressedAt = await currentTime(page);
    const landing = await armLanding(page);
    await button.click();
    const landedAt = await landing();
    console.log(`Skip intro pressed at ${pressedAt.toFixed(3)} s, landed at ${landedAt.toFixed(3)} s (intro ends at ${INTRO.endSec} s)`);
    expect(Math.abs(landedAt - INTRO.endSec)).toBeLessThanOrEqual(0.5);
    await expect.poll(async () => (await playerState(page)).skip.visible).toBeNull();
    expect(await button.isHidden()).toBe(true);

    const skipped = await sentEvent((e) => e.type === "segment_skipped", since);
    expect(skipped).toMatchObject({ segment: "intro", episodeId });
    expect(skipped.positionSec).toBeGreaterThanOrEqual(INTRO.startSec);
    expect(skipped.positionSec).toBeLessThan(INTRO.endSec);
    // Skipped, so not watched through.
    expect(sent.slice(since).some((e) => e.type === "segment_watched" && e.segment === "intro")).toBe(false);
  });

  it("starts the Next episode countdown as the credits begin, sends complete there, and Watch credits dismisses it", async () => {
    const since = openedAt;
    const nextUp = page.locator("#next-up");
    await nextUp.waitFor({ state: "visible", timeout: 10_000 });
    const shownAt = (await page.evaluate(() => (window as unknown as { __nextUpShownAt: number | null }).__nextUpShownAt))!;
    console.log(`Next episode shown at ${shownAt.toFixed(3)} s (credits start at ${CREDITS.startSec} s)`);
    expect(shownAt).toBeGreaterThanOrEqual(CREDITS.startSec);
    expect(shownAt).toBeLessThan(CREDITS.startSec + 1);
    expect(await page.locator("#next-episode").getAttribute("data-episode-id")).toBe(nextEpisodeId);
    expect(Number(await page.locator("#next-episode").getAttribute("data-countdown"))).toBeGreaterThan(0);
    const watchCredits = page.locator("#next-episode-cancel");
    expect(await watchCredits.textContent()).toBe("Watch credits");

    const complete = await sentEvent((e) => e.type === "complete", since);
    expect(complete.positionSec).toBeGreaterThanOrEqual(CREDITS.startSec);
    // At the credits, not at 95 % (11.4 s).
    expect(complete.positionSec).toBeLessThan(11);

    await watchCredits.click();
    expect(await nextUp.isHidden()).toBe(true);
    // Played to the end: the credits were watched through, and still no countdown.
    await page.locator("#player-status[data-state=ended]").waitFor({ state: "attached", timeout: 10_000 });
    await sentEvent((e) => e.type === "segment_watched" && e.segment === "credits", since);
    expect(await page.locator("#next-episode-countdown").evaluate((c) => c.parentElement!.hidden)).toBe(true);
    expect(sent.filter((e) => e.type === "complete")).toHaveLength(1);
  });

  it("S skips the intro too", async () => {
    await openEpisode(page);
    await page.waitForFunction(() => (window as unknown as { __marqueePlayer: { state(): PlayerState } }).__marqueePlayer.state().skip.visible === "intro", null, { timeout: 15_000 });
    const since = sent.length;
    const landing = await armLanding(page);
    await page.keyboard.press("s");
    const landedAt = await landing();
    console.log(`S pressed: landed at ${landedAt.toFixed(3)} s`);
    expect(Math.abs(landedAt - INTRO.endSec)).toBeLessThanOrEqual(0.5);
    expect(await sentEvent((e) => e.type === "segment_skipped", since)).toMatchObject({ segment: "intro" });
  });

  describe("with the profile's auto-skip", () => {
    beforeAll(async () => {
      // The member turns it on where members do: Playback settings on the Who's watching page.
      await page.goto(`${baseUrl}/profiles`);
      expect(await page.isChecked("#auto-skip-intros")).toBe(false);
      await page.check("#auto-skip-intros");
      await Promise.all([page.waitForURL(/\/profiles\?saved=playback$/), page.click("#playback-settings button[type=submit]")]);
      expect(await page.isChecked("#auto-skip-intros")).toBe(true);
    });

    it("skips the intro by itself once playback enters it, with a brief Skipped intro", async () => {
      await openEpisode(page);
      const since = openedAt;
      const landing = await armLanding(page);
      const landedAt = await landing();
      console.log(`auto-skip landed at ${landedAt.toFixed(3)} s`);
      expect(Math.abs(landedAt - INTRO.endSec)).toBeLessThanOrEqual(0.5);
      expect((await playerState(page)).skip.autoSkip).toBe(true);
      expect(await page.evaluate(() => (window as unknown as { __toastShown: string | null }).__toastShown)).toBe("Skipped intro");
      expect(await sentEvent((e) => e.type === "segment_skipped", since)).toMatchObject({ segment: "intro" });
      // Brief: it goes by itself.
      await page.locator("#skip-toast").waitFor({ state: "hidden", timeout: 5_000 });
    });

    it("does not skip an intro the viewer seeked into, and reports it watched through", async () => {
      await openEpisode(page);
      const since = openedAt;
      // Before playback reaches the intro (2 s), as soon as the seek bar can: to 4 s, inside it.
      const seekFrom = await page.evaluate(
        () =>
          new Promise<number>((resolve) => {
            const video = document.querySelector<HTMLVideoElement>("video#player")!;
            const seek = document.querySelector<HTMLInputElement>("input#seek")!;
            const attempt = () => {
              if (video.readyState < 1 || !(Number(seek.max) > 0)) return requestAnimationFrame(attempt);
              const from = video.currentTime;
              seek.value = "4";
              seek.dispatchEvent(new Event("change"));
              resolve(from);
            };
            attempt();
          }),
      );
      expect(seekFrom).toBeLessThan(INTRO.startSec);
      // It plays on through the intro's end, with the button offered meanwhile.
      await page.waitForFunction(() => (window as unknown as { __marqueePlayer: { state(): PlayerState } }).__marqueePlayer.state().skip.visible === "intro", null, { timeout: 10_000 });
      await expect.poll(() => currentTime(page), { timeout: 10_000, interval: 100 }).toBeGreaterThan(INTRO.endSec);
      const watched = await sentEvent((e) => e.type === "segment_watched" && e.segment === "intro", since);
      expect(watched.positionSec).toBeGreaterThanOrEqual(INTRO.endSec - 0.5);
      expect(sent.slice(since).some((e) => e.type === "segment_skipped")).toBe(false);
      expect(eventStatuses.every((s) => s === 202), eventStatuses.join(",")).toBe(true);
      expect(problems).toEqual([]);
    });
  });
});
