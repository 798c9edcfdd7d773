// A member watching a live title through the web app: sign up through the pages, press Play
// on the title page, and sample the web player's own latency (wall clock − program date-time
// on screen, `__marqueePlayer.state().liveLatencySec`). Shared by e2e/live.test.ts and bench:live.
import type { Browser } from "playwright-core";
import { joinThroughThePages } from "./web-member.ts";

export type WebLiveReport = { samples: number[]; engine: string | null; live: boolean; clock: string | null; liveNowRow: boolean };

type PlayerState = { live: boolean; liveLatencySec: number | null; engine: string | null; status: string };

export async function watchLiveThroughTheWebApp(browser: Browser, baseUrl: string, titleId: string, seconds: number): Promise<WebLiveReport> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  try {
    const page = await context.newPage();
    await joinThroughThePages(page, baseUrl, { email: `live-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`, plan: "premium" });
    const liveNowRow = (await page.locator("section[data-row-id=live-now]", { hasText: "Live now" }).count()) > 0;
    await page.goto(`${baseUrl}/title/${titleId}`);
    await page.click("a#play");
    await page.waitForURL(new RegExp(`/watch/${titleId}`));
    const state = () => page.evaluate(() => (globalThis as unknown as { __marqueePlayer: { state(): PlayerState } }).__marqueePlayer.state());
    const until = Date.now() + 20_000;
    // Sampling starts once the player is playing with a latency: a slow start (a loaded machine) must not eat the window.
    const ready = (s: PlayerState) => s.liveLatencySec !== null && s.status === "playing";
    while (!ready(await state()) && Date.now() < until) await page.waitForTimeout(200);
    const samples: number[] = [];
    let last: PlayerState = await state();
    const end = Date.now() + seconds * 1000;
    while (Date.now() < end) {
      await page.waitForTimeout(250);
      last = await state();
      if (last.liveLatencySec !== null && last.status === "playing") samples.push(last.liveLatencySec);
    }
    return { samples, engine: last.engine, live: last.live, clock: await page.locator("#time").textContent(), liveNowRow };
  } finally {
    await context.close();
  }
}
