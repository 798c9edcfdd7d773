// When the watch page's first video frame was presented, observed from before any page
// script runs (so however soon it comes, it is seen), and the stalls after it. Shared by
// e2e/first-frame.test.ts and bench:web (tools/bench/web.ts).
import type { Page } from "playwright-core";

/** `at`: the page's performance time of the frame; `epochMs`: the same as wall-clock time; `waiting`: stalls since. */
export type WatchPageFrame = { at: number; epochMs: number; waiting: number };

/** For `addInitScript`: fills `window.__watchPageFrame` once `video#player` presents its first frame. */
export const watchPageFrameObserver = `
  window.__watchPageFrame = { at: null, epochMs: null, waiting: 0 };
  new MutationObserver((_, self) => {
    const v = document.querySelector("video#player");
    if (!v) return;
    self.disconnect();
    v.requestVideoFrameCallback((now) => Object.assign(window.__watchPageFrame, { at: now, epochMs: performance.timeOrigin + now }));
    v.addEventListener("waiting", () => window.__watchPageFrame.at !== null && window.__watchPageFrame.waiting++);
  }).observe(document, { childList: true, subtree: true });
`;

/** The page's first frame, once presented (the observer must have been installed). */
export async function firstFramePresented(page: Page, timeoutMs = 20_000): Promise<WatchPageFrame> {
  const handle = await page.waitForFunction(
    () => {
      const f = (globalThis as unknown as { __watchPageFrame?: { at: number | null } }).__watchPageFrame;
      return f && f.at !== null ? f : null;
    },
    null,
    { timeout: timeoutMs },
  );
  return (await handle.jsonValue()) as WatchPageFrame;
}
