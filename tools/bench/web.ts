// `npm run bench:web`: the web app in Chromium under `npm run dev`, each figure beside a
// baseline from the same run.
//   - Bytes of JS and CSS the home page loads, and the watch page's JS before its first frame
//     and in all, against hls.js's own minified build: what we add on top of the one library we ship.
//   - Largest Contentful Paint and layout shift of the home page, against the same HTML
//     and assets served by a bare static server (what the edge-rendered page costs over a file).
//   - Click-to-first-frame: from clicking Play on the title page to the first decoded frame
//     on the watch page, with the requests before it (over the network; those the browser
//     answered from its own cache counted apart), against the same click from a static
//     title page to a static page playing the same files with the same hls.js; once with
//     the click alone, once with the pointer resting on Play for HOVER_MS first (what the
//     title page's Play on intent uses); and the click alone with `?start=hls`, hls.js
//     loaded first as before the first frame came without it.
import { createRequire } from "node:module";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Browser, Page } from "playwright-core";

// Page-side code below runs in Chromium; this file is type-checked without the DOM library.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;
import { launchBrowser } from "../../e2e/browser.ts";
import { demoMovieId } from "../../e2e/play-flow.ts";
import { joinThroughThePages } from "../../e2e/web-member.ts";
import { firstFramePresented, watchPageFrameObserver } from "../../e2e/watch-page-frame.ts";
import { contentTypeFor } from "../../lib/media-layout.ts";
import type { RenditionIndex } from "../../lib/media-index.ts";
import { startPlatform } from "../platform.ts";
import { projectRoot } from "../project.ts";
import { benchResults } from "./results.ts";
import { startStaticServer, withoutSteering, type StaticFile } from "./static-server.ts";

const RUNS = 5;
const require = createRequire(import.meta.url);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;

/** Observers for LCP and CLS, installed before any page script runs. */
const vitalsScript = `
  window.__vitals = { lcp: 0, cls: 0 };
  new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__vitals.lcp = e.renderTime || e.loadTime || e.startTime; }).observe({ type: "largest-contentful-paint", buffered: true });
  new PerformanceObserver((l) => { for (const e of l.getEntries()) if (!e.hadRecentInput) window.__vitals.cls += e.value; }).observe({ type: "layout-shift", buffered: true });
`;

async function vitals(page: Page, url: string) {
  await page.goto(url, { waitUntil: "networkidle" });
  await page.waitForTimeout(300);
  return page.evaluate(() => (globalThis as Any).__vitals as { lcp: number; cls: number });
}

/** JS and CSS bytes a page loaded (decoded body sizes, from resource timing), by kind. */
async function assetBytes(page: Page) {
  return page.evaluate(() => {
    const sum = { js: 0, css: 0, jsCompressed: 0, cssCompressed: 0 };
    for (const e of (globalThis as Any).performance.getEntriesByType("resource") as { name: string; decodedBodySize: number; encodedBodySize: number }[]) {
      const p = new URL(e.name).pathname;
      if (p.endsWith(".js")) {
        sum.js += e.decodedBodySize;
        sum.jsCompressed += e.encodedBodySize;
      } else if (p.endsWith(".css")) {
        sum.css += e.decodedBodySize;
        sum.cssCompressed += e.encodedBodySize;
      }
    }
    return sum;
  });
}

/**
 * The watch page's JS: what had loaded when its first frame was presented (decoded bytes
 * of the scripts whose response had ended by then, from resource timing), and all of it once
 * the page is idle — hls.js's bundle comes after the first frame (docs/qoe.md, "Start faster").
 */
async function watchPageJs(page: Page, watchUrl: string) {
  await page.goto(watchUrl);
  const frame = await firstFramePresented(page);
  await page.waitForLoadState("networkidle");
  await page.waitForTimeout(300);
  return page.evaluate((at) => {
    const sum = { beforeFirstFrame: 0, all: 0, allCompressed: 0, bundles: [] as string[] };
    for (const e of (globalThis as Any).performance.getEntriesByType("resource") as { name: string; responseEnd: number; decodedBodySize: number; encodedBodySize: number }[]) {
      const p = new URL(e.name).pathname;
      if (!p.endsWith(".js")) continue;
      sum.all += e.decodedBodySize;
      sum.allCompressed += e.encodedBodySize;
      if (e.responseEnd <= at) sum.beforeFirstFrame += e.decodedBodySize;
      sum.bundles.push(`${p.replace(/^\/assets\//, "")} ${(e.decodedBodySize / 1024).toFixed(1)} KB ${e.responseEnd <= at ? "before" : "after"} the first frame`);
    }
    return sum;
  }, frame.at);
}

/**
 * How long the pointer rests on Play before the press in the "hover, then click" runs. A
 * mouse user's pointer reaches a button before they press it; 300 ms is a conservative
 * figure for that (instant.page's measurements put the median hover-to-click time around
 * 300 ms on desktop), and what the title page's Play on intent has to work with.
 */
const HOVER_MS = 300;

/**
 * Clicks `a#play` and answers the ms from the click to the watch page's first decoded
 * frame, and the requests made before that frame (counted from the hover, when there is
 * one, so a stream prepared on intent is counted; each at the time Playwright reports it).
 */
async function clickToFirstFrame(browser: Browser, titleUrl: string, storageState: string | undefined, hoverMs: number, watchQuery = "") {
  const context = await browser.newContext(storageState ? { storageState } : {});
  await context.addInitScript(watchPageFrameObserver);
  const page = await context.newPage();
  try {
    await page.goto(titleUrl, { waitUntil: "networkidle" });
    if (watchQuery) await page.evaluate((q) => ((globalThis as Any).document.querySelector("a#play").search = q), watchQuery);
    // Every request the page makes, and which the browser answered from its own cache
    // (memory, disk or prefetch: no round trip), from Chromium's network events. The
    // session stays attached to the tab across the click's navigation.
    const requests = new Map<string, { at: number; text: string; cached: boolean }>();
    const cdp = await context.newCDPSession(page);
    cdp.on("Network.requestWillBeSent", (e) => {
      if (/^https?:/.test(e.request.url) && !requests.has(e.requestId)) {
        requests.set(e.requestId, { at: e.wallTime * 1000, text: `${e.request.method} ${new URL(e.request.url).pathname.replace(/^\/p\/[^/]+\//, "/p/{token}/")}`, cached: false });
      }
    });
    const fromCache = (id: string) => {
      const r = requests.get(id);
      if (r) r.cached = true;
    };
    cdp.on("Network.requestServedFromCache", (e) => fromCache(e.requestId));
    cdp.on("Network.responseReceived", (e) => {
      if (e.response.fromDiskCache || e.response.fromPrefetchCache) fromCache(e.requestId);
    });
    await cdp.send("Network.enable");
    if (hoverMs > 0) {
      await page.hover("a#play");
      await page.waitForTimeout(hoverMs);
    }
    const started = Date.now();
    await page.click("a#play");
    await page.waitForURL(/\/watch/, { waitUntil: "commit" });
    const frameAt = (await firstFramePresented(page)).epochMs;
    // Responses come in while the frame is awaited; give the last events a moment to arrive.
    await page.waitForTimeout(100);
    const before = [...requests.values()].filter((r) => r.at <= frameAt);
    return { ms: frameAt - started, requests: before.filter((r) => !r.cached).length, cacheHits: before.filter((r) => r.cached).length, urls: before.map((r) => (r.cached ? `${r.text} (from the browser's cache)` : r.text)) };
  } finally {
    await context.close();
  }
}

const work = await mkdtemp(path.join(tmpdir(), "marquee-bench-web-"));
const platform = await startPlatform({ stateDir: path.join(work, "state"), logFile: path.join(work, "dev.log") });
const browser = await launchBrowser();
try {
  const url = platform.url;
  const titleId = await demoMovieId();

  // A member on Premium (four screens) with a profile, signed in through the pages.
  const setup = await browser.newContext();
  const page = await setup.newPage();
  await joinThroughThePages(page, url, { email: "bench-web@example.com", plan: "premium" });
  const storageState = path.join(work, "state.json");
  await setup.storageState({ path: storageState });

  // Bytes.
  await page.goto(`${url}/`, { waitUntil: "networkidle" });
  const home = await assetBytes(page);
  const homeHtml = await page.content();
  const homeAssets = await page.evaluate(() => ((globalThis as Any).performance.getEntriesByType("resource") as { name: string }[]).map((e) => new URL(e.name).pathname));
  await page.addInitScript(watchPageFrameObserver);
  const watch = await watchPageJs(page, `${url}/watch/${titleId}`);
  const watchHlsFirst = await watchPageJs(page, `${url}/watch/${titleId}?start=hls`);
  await page.goto(`${url}/`);
  await setup.close();
  const hlsMin = (await readFile(require.resolve("hls.js/dist/hls.min.js"))).byteLength;

  // The static baseline: the home page's HTML and every asset it loaded, from a bare server;
  // a static title page and watch page playing the same media files with the same hls.js.
  const files = new Map<string, StaticFile>();
  const text = (body: string, contentType: string): StaticFile => ({ body: Buffer.from(body), contentType });
  files.set("/home.html", text(homeHtml, "text/html; charset=utf-8"));
  for (const p of new Set(homeAssets)) {
    if (p.startsWith("/v1/") || p.startsWith("/p/")) continue;
    const res = await fetch(url + p);
    if (res.ok) files.set(p, { body: new Uint8Array(await res.arrayBuffer()), contentType: res.headers.get("content-type") ?? "application/octet-stream" });
  }
  const assetDir = path.join(projectRoot, "demo/media/assets/demo-aurora");
  const index = JSON.parse(await readFile(path.join(assetDir, "index.json"), "utf8")) as RenditionIndex;
  for (const f of index.files) files.set(`/media/${f.path}`, { body: await readFile(path.join(assetDir, f.path)), contentType: contentTypeFor(f.path) });
  // The playlists as the media Worker makes them (relative URIs, so they work under /media/).
  const start = await fetch(`${url}/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email: "bench-web@example.com", password: "a long and unusual passphrase" }) });
  const { token } = (await start.json()) as { token: string };
  const me = (await (await fetch(`${url}/v1/me`, { headers: { Authorization: `Bearer ${token}` } })).json()) as { profiles: { id: string }[] };
  const session = (await (await fetch(`${url}/v1/playback/sessions`, { method: "POST", headers: { Authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify({ titleId, profileId: me.profiles[0]!.id }) })).json()) as { id: string; media: { hlsUrl: string } };
  const base = session.media.hlsUrl.replace(/master\.m3u8$/, "");
  for (const p of ["master.m3u8", ...index.video.map((v) => `${v.id}/playlist.m3u8`), ...index.audio.map((a) => `${a.id}/playlist.m3u8`), ...index.subtitles.map((s) => `subs/${s.lang}.m3u8`)]) {
    const body = await (await fetch(base + p)).text();
    files.set(`/media/${p}`, text(p === "master.m3u8" ? withoutSteering(body) : body, contentTypeFor(p)));
  }
  await fetch(`${url}/v1/playback/sessions/${session.id}`, { method: "DELETE", headers: { Authorization: `Bearer ${token}` } });
  files.set("/hls.min.js", { body: await readFile(require.resolve("hls.js/dist/hls.min.js")), contentType: "text/javascript" });
  files.set("/title.html", text(`<!doctype html><html><head><title>title</title></head><body><a id="play" href="/watch.html">Play</a></body></html>`, "text/html"));
  files.set("/watch.html", text(`<!doctype html><html><head><title>watch</title><script src="/hls.min.js"></script><script src="/play.js" defer></script></head><body><video id="player" muted playsinline width="640" height="360"></video></body></html>`, "text/html"));
  files.set("/play.js", text(`const v = document.getElementById("player"); const h = new Hls(); h.loadSource("/media/master.m3u8"); h.attachMedia(v); v.play().catch(() => {});`, "text/javascript"));
  const server = await startStaticServer(files);

  try {
    const lcp = { platform: [] as number[], static: [] as number[] };
    const cls = { platform: [] as number[], static: [] as number[] };
    const frame = { platform: [] as number[], static: [] as number[] };
    const requests = { platform: [] as number[], static: [] as number[] };
    const cacheHits = { platform: [] as number[], static: [] as number[] };
    const lastUrls = { platform: [] as string[], static: [] as string[] };
    const hovered = { platform: [] as number[], static: [] as number[] };
    const hoveredRequests = { platform: [] as number[], static: [] as number[] };
    const hoveredCacheHits = { platform: [] as number[], static: [] as number[] };
    const lastHoveredUrls = { platform: [] as string[], static: [] as string[] };
    /** The same click on the platform with `?start=hls`: hls.js loaded first and starting from nothing, as before the first frame came without it. */
    const hlsFirst: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      for (const side of ["platform", "static"] as const) {
        const context = await browser.newContext(side === "platform" ? { storageState } : {});
        await context.addInitScript(vitalsScript);
        const p = await context.newPage();
        const v = await vitals(p, side === "platform" ? `${url}/` : `${server.url}/home.html`);
        lcp[side].push(v.lcp);
        cls[side].push(v.cls);
        await context.close();
        const titleUrl = side === "platform" ? `${url}/title/${titleId}` : `${server.url}/title.html`;
        const f = await clickToFirstFrame(browser, titleUrl, side === "platform" ? storageState : undefined, 0);
        frame[side].push(f.ms);
        requests[side].push(f.requests);
        cacheHits[side].push(f.cacheHits);
        lastUrls[side] = f.urls;
        if (side === "platform") hlsFirst.push((await clickToFirstFrame(browser, titleUrl, storageState, 0, "?start=hls")).ms);
        const h = await clickToFirstFrame(browser, titleUrl, side === "platform" ? storageState : undefined, HOVER_MS);
        hovered[side].push(h.ms);
        hoveredRequests[side].push(h.requests);
        hoveredCacheHits[side].push(h.cacheHits);
        lastHoveredUrls[side] = h.urls;
      }
    }
    const row = (label: string, p: number, s: number, unit: string, digits = 0) =>
      `   ${label.padEnd(44)} ${p.toFixed(digits).padStart(8)} ${unit}  vs ${s.toFixed(digits).padStart(8)} ${unit}   ${s > 0 ? (p / s).toFixed(2) + "x" : "-"}`;
    console.log(`\nbench:web — Chromium against npm run dev, medians of ${RUNS} runs; baseline: the same page or player from a bare static server`);
    console.log(`   home page JS  ${kb(home.js)} (${kb(home.jsCompressed)} on the wire), CSS ${kb(home.css)} (${kb(home.cssCompressed)})`);
    console.log(`   watch page JS before the first frame ${kb(watch.beforeFirstFrame)}, ${kb(watch.all)} in all (${kb(watch.allCompressed)} on the wire); hls.js's own minified build is ${kb(hlsMin)}`);
    console.log(`     ${watch.bundles.join("\n     ")}`);
    console.log(`   with ?start=hls (hls.js first): ${kb(watchHlsFirst.beforeFirstFrame)} before the first frame, ${kb(watchHlsFirst.all)} in all`);
    console.log(row("home Largest Contentful Paint", median(lcp.platform), median(lcp.static), "ms"));
    console.log(`   ${"home cumulative layout shift".padEnd(44)} ${median(cls.platform).toFixed(3).padStart(8)}     vs ${median(cls.static).toFixed(3).padStart(8)}`);
    console.log(row("click Play -> first frame", median(frame.platform), median(frame.static), "ms"));
    console.log(row("click Play -> first frame, ?start=hls", median(hlsFirst), median(frame.static), "ms"));
    const counts = (label: string, n: { platform: number[]; static: number[] }, hits: { platform: number[]; static: number[] }) =>
      `   ${label.padEnd(44)} ${String(median(n.platform)).padStart(8)}     vs ${String(median(n.static)).padStart(8)}      (and from the browser's cache: ${median(hits.platform)} vs ${median(hits.static)})`;
    console.log(counts("requests before the first frame", requests, cacheHits));
    console.log(row(`hover ${HOVER_MS} ms, click Play -> first frame`, median(hovered.platform), median(hovered.static), "ms"));
    console.log(counts("requests from the hover to the first frame", hoveredRequests, hoveredCacheHits));
    for (const side of ["platform", "static"] as const) console.log(`   the last ${side} run's requests from the click to the first frame:\n${lastUrls[side].map((u) => `     ${u}`).join("\n")}`);
    for (const side of ["platform", "static"] as const) console.log(`   the last ${side} hover run's requests from the hover to the first frame:\n${lastHoveredUrls[side].map((u) => `     ${u}`).join("\n")}`);

    const results = benchResults("web");
    results.record({ name: "home page JS (decoded)", value: home.js / 1024, unit: "KB", better: "lower" });
    results.record({ name: "home page CSS (decoded)", value: home.css / 1024, unit: "KB", better: "lower" });
    results.record({ name: "watch page JS before the first frame (decoded)", value: watch.beforeFirstFrame / 1024, unit: "KB", baseline: { name: "hls.js minified build", value: hlsMin / 1024 }, goal: "≤ 250", better: "lower" });
    results.record({ name: "watch page JS in all, hls.js after the first frame (decoded)", value: watch.all / 1024, unit: "KB", baseline: { name: "hls.js minified build", value: hlsMin / 1024 }, better: "lower" });
    results.record({ name: `home Largest Contentful Paint (median of ${RUNS})`, value: median(lcp.platform), unit: "ms", baseline: { name: "static copy", value: median(lcp.static) }, better: "lower" });
    results.record({ name: `home cumulative layout shift (median of ${RUNS})`, value: median(cls.platform), unit: "", baseline: { name: "static copy", value: median(cls.static) }, better: "lower" });
    results.record({ name: `click Play → first frame (median of ${RUNS})`, value: median(frame.platform), unit: "ms", baseline: { name: "static player", value: median(frame.static) }, goal: "ratio ≤ 1.1", better: "lower" });
    results.record({ name: `click Play → first frame with ?start=hls, hls.js first (median of ${RUNS})`, value: median(hlsFirst), unit: "ms", baseline: { name: "static player", value: median(frame.static) }, better: "lower" });
    results.record({ name: "requests before the first frame, over the network (median)", value: median(requests.platform), unit: "requests", baseline: { name: "static player", value: median(requests.static) }, goal: `≤ ${median(requests.static) + 2} (static + 2)`, better: "lower" });
    results.record({ name: "requests before the first frame, answered from the browser's cache (median)", value: median(cacheHits.platform), unit: "requests", baseline: { name: "static player", value: median(cacheHits.static) }, better: "lower" });
    results.record({ name: `hover ${HOVER_MS} ms, click Play → first frame (median of ${RUNS})`, value: median(hovered.platform), unit: "ms", baseline: { name: "static player, same hover", value: median(hovered.static) }, goal: "ratio ≤ 1.1", better: "lower" });
    results.record({ name: "requests from the hover to the first frame, over the network (median)", value: median(hoveredRequests.platform), unit: "requests", baseline: { name: "static player", value: median(hoveredRequests.static) }, goal: `≤ ${median(hoveredRequests.static) + 2} (static + 2)`, better: "lower" });
    results.record({ name: "requests from the hover to the first frame, answered from the browser's cache (median)", value: median(hoveredCacheHits.platform), unit: "requests", baseline: { name: "static player", value: median(hoveredCacheHits.static) }, better: "lower" });
  } finally {
    await server.close();
  }
} finally {
  await browser.close();
  await platform.stop();
  await rm(work, { recursive: true, force: true });
}
