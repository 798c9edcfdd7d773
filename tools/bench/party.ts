// `npm run bench:party`: watch together, measured (docs/watch-party.md).
//   1. Sync error between players over a 60 s party in Chromium under `npm run dev`: a host
//      and two members on three accounts, one member's whole network (pages, API, video and
//      the party's WebSocket) through a proxy that delays every chunk 150 ± 50 ms each way
//      and caps it at 3 Mbit/s. The host plays, seeks forward, pauses, plays, seeks back;
//      every 250 ms all three players are read at one instant. The figure: p95 of the
//      throttled member's distance from the host, against the unthrottled member's in the
//      same run — over the whole session, and in steady state (3 s after each action on).
//   2. The party object's CPU per message (tools/bench/party-cpu.ts): its own message path in
//      V8, against JSON.parse + JSON.stringify of the same frame.
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { launchBrowser } from "../../e2e/browser.ts";
import { ingestLongFilm } from "../../e2e/long-film.ts";
import { partyView, positionsAtOneInstant, waitForParty } from "../../e2e/party-member.ts";
import { joinThroughThePages } from "../../e2e/web-member.ts";
import { percentile } from "../live/latency-probe.ts";
import { startPlatform } from "../platform.ts";
import { projectRoot } from "../project.ts";
import { measurePartyCpu } from "./party-cpu.ts";
import { benchResults } from "./results.ts";
import { startThrottleProxy, type Throttle } from "./throttle-proxy.ts";

// Page-side code below runs in Chromium; this file is type-checked without the DOM library.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

const SESSION_SEC = 60;
const SAMPLE_MS = 250;
/** After an action, this long is "settling"; the steady-state figures start after it. */
const SETTLE_SEC = 3;
const THROTTLE: Throttle = { latencyMs: 150, jitterMs: 50, kbps: 3000 };
/** What the host does, at seconds into the session. */
const SCRIPT: { at: number; what: "play" | "pause" | { seek: number } }[] = [
  { at: 0, what: "play" },
  { at: 15, what: { seek: 70 } },
  { at: 30, what: "pause" },
  { at: 33, what: "play" },
  { at: 45, what: { seek: 30 } },
];

const results = benchResults("party");

async function member(browser: Browser, origin: string, label: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 960, height: 540 } });
  const page = await context.newPage();
  await joinThroughThePages(page, origin, { email: `bench-party-${label}-${Date.now()}@example.com`, plan: "standard" });
  return page;
}

async function act(host: Page, what: (typeof SCRIPT)[number]["what"]): Promise<void> {
  if (what === "play" || what === "pause") {
    await host.click("#play-pause");
    return;
  }
  await host.evaluate((to) => {
    const seek = (globalThis as Any).document.querySelector("input#seek");
    seek.value = String(to);
    seek.dispatchEvent(new Event("change"));
  }, what.seek);
}

const stats = (xs: number[]) => ({ p50: percentile(xs, 50), p95: percentile(xs, 95), max: Math.max(...xs) });
const fmt = (s: { p50: number; p95: number; max: number }) => `p50 ${(s.p50 * 1000).toFixed(0)} ms, p95 ${(s.p95 * 1000).toFixed(0)} ms, max ${(s.max * 1000).toFixed(0)} ms`;

const platform = await startPlatform({ stateDir: path.join(projectRoot, ".wrangler/bench-party-state"), logFile: path.join(projectRoot, ".wrangler/bench-party-dev.log") });
let browser: Browser | undefined;
try {
  const film = await ingestLongFilm(platform.url, `Bench Party ${Date.now()}`, 150);
  const proxy = await startThrottleProxy(Number(new URL(platform.url).port), THROTTLE);
  const slowOrigin = `http://127.0.0.1:${proxy.port}`;
  browser = await launchBrowser();
  const [host, fast, slow] = await Promise.all([member(browser, platform.url, "host"), member(browser, platform.url, "fast"), member(browser, slowOrigin, "slow")]);

  await host.goto(`${platform.url}/title/${encodeURIComponent(film.titleId)}`);
  await host.click("button#watch-together");
  await host.waitForURL(/[?&]party=pty_/);
  await waitForParty(host, 1);
  const invite = new URL(await host.inputValue("#party-invite"));
  await fast.goto(invite.href);
  await slow.goto(`${slowOrigin}${invite.pathname}`);
  await Promise.all([waitForParty(host, 3, 60_000), waitForParty(fast, 3, 60_000), waitForParty(slow, 3, 60_000)]);
  for (const [label, p] of [["unthrottled", fast], ["throttled", slow]] as const) {
    const v = (await partyView(p))!;
    console.log(`${label} member: clock offset ${v.offsetMs?.toFixed(1)} ms from the shortest of its round trips (${v.rttMs?.toFixed(1)} ms)`);
  }
  await slow.evaluate(() => {
    const w = globalThis as Any as { __stalls: number };
    w.__stalls = 0;
    (globalThis as Any).document.querySelector("video#player").addEventListener("waiting", () => w.__stalls++);
  });

  const samples: { t: number; fast: number; slow: number; settling: boolean }[] = [];
  const started = Date.now();
  let next = 0;
  let lastActionAt = -Infinity;
  while (Date.now() - started < SESSION_SEC * 1000) {
    const t = (Date.now() - started) / 1000;
    if (next < SCRIPT.length && t >= SCRIPT[next]!.at) {
      await act(host, SCRIPT[next]!.what);
      lastActionAt = t;
      next++;
    }
    const { positions } = await positionsAtOneInstant([host, fast, slow]);
    samples.push({ t, fast: Math.abs(positions[1]! - positions[0]!), slow: Math.abs(positions[2]! - positions[0]!), settling: t - lastActionAt < SETTLE_SEC });
    await new Promise((r) => setTimeout(r, SAMPLE_MS));
  }
  const steady = samples.filter((s) => !s.settling);
  const all = { fast: stats(samples.map((s) => s.fast)), slow: stats(samples.map((s) => s.slow)) };
  const calm = { fast: stats(steady.map((s) => s.fast)), slow: stats(steady.map((s) => s.slow)) };
  const slowStalls = await slow.evaluate(() => (globalThis as Any as { __stalls: number }).__stalls);
  const slowSeeks = (await partyView(slow))!.seeks;
  const fastSeeks = (await partyView(fast))!.seeks;
  console.log(`\n1. Sync error, ${samples.length} samples over ${SESSION_SEC} s (throttle: ${THROTTLE.latencyMs} ± ${THROTTLE.jitterMs} ms each way, ${THROTTLE.kbps / 1000} Mbit/s)`);
  console.log(`   whole session:  unthrottled ${fmt(all.fast)}; throttled ${fmt(all.slow)}`);
  console.log(`   steady state (${steady.length} samples, from ${SETTLE_SEC} s after each action): unthrottled ${fmt(calm.fast)}; throttled ${fmt(calm.slow)}`);
  console.log(`   corrections by seeking: unthrottled ${fastSeeks}, throttled ${slowSeeks}; stalls of the throttled player: ${slowStalls}`);
  results.record({ name: "sync error p95, throttled member vs host, steady state", value: calm.slow.p95, unit: "s", baseline: { name: "unthrottled member p95, steady state", value: calm.fast.p95 }, goal: "≤ 0.25 s (the e2e's tolerance)", better: "lower" });
  results.record({ name: "sync error p95, throttled member vs host, whole session", value: all.slow.p95, unit: "s", baseline: { name: "unthrottled member p95, whole session", value: all.fast.p95 }, better: "lower" });
  results.record({ name: "sync error p50, throttled member vs host, steady state", value: calm.slow.p50, unit: "s", baseline: { name: "unthrottled member p50, steady state", value: calm.fast.p50 }, better: "lower" });
  await proxy.close();

  console.log("\n2. The party object's CPU per message (its message path in V8, 8 members), against JSON.parse + JSON.stringify of the same frame:");
  for (const f of measurePartyCpu()) {
    console.log(`   ${f.label}: ${f.perMessageUs.toFixed(2)} µs vs ${f.baselineUs.toFixed(2)} µs (${(f.perMessageUs / f.baselineUs).toFixed(2)}×)`);
    results.record({ name: `party object CPU per message: ${f.label}`, value: f.perMessageUs, unit: "µs", baseline: { name: "JSON.parse + JSON.stringify of the frame", value: f.baselineUs }, better: "lower" });
  }
} finally {
  await browser?.close();
  await platform.stop();
}
