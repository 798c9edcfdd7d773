// `npm run bench:playback`: pressing Play, measured against baselines taken in the same run.
//   a. POST /v1/playback/sessions (acquire a screen) latency with 100 accounts at once, against
//      authenticated cheap requests (GET /v1/me, GET /v1/playback/sessions) in the same load.
//   b. In Chromium, the POST to the first decoded frame through the whole flow, against the
//      same hls.js player loading the same bytes from a bare static server on loopback; then
//      both again with EMULATED_RTT_MS added to every request.
// Prints (never asserts) the results; starts the platform itself and always stops it.
import { createHash } from "node:crypto";
import { rmSync } from "node:fs";
import { readFile, mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import { cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import type { Browser, BrowserContext } from "playwright-core";
import { launchBrowser } from "../../e2e/browser.ts";
import {
  demoMovieId,
  FIRST_FRAME_BINDING,
  hlsJsPath,
  installPlayFlow,
  releaseFlow,
  resourceTimings,
  startFlow,
  waitForFirstFrame,
  type FlowState,
  type ResourceTiming,
  type StartRequest,
} from "../../e2e/play-flow.ts";
import type { RenditionIndex } from "../../lib/media-index.ts";
import { contentTypeFor } from "../../lib/media-layout.ts";
import { startPlatform, type Platform } from "../platform.ts";
import { projectRoot } from "../project.ts";
import { download } from "./http-client.ts";
import { benchResults } from "./results.ts";
import { startStaticServer, withoutSteering, type StaticFile, type StaticServer } from "./static-server.ts";
import { simulatedClient } from "../../test-support/simulated-clients.ts";

const ACCOUNTS = 100;
/** Rounds per account of (GET /v1/me, GET /v1/playback/sessions, POST start, DELETE stop). */
const ROUNDS = 5;
/** Rounds of the same four requests one at a time, for what each costs with no queue. */
const SERIAL_ROUNDS = 40;
/** Sign-ups at once: each is a PBKDF2 hash, on 2 cores. */
const SIGNUP_CONCURRENCY = 4;
const BROWSER_RUNS = 7;
/**
 * The second rotation's round trip, added by Chromium to every request: a viewer on
 * broadband near a PoP. Loopback has none, so there every round trip the platform saves is
 * free on the static side too, and only the POST's server time shows.
 */
const EMULATED_RTT_MS = 20;
const ASSET_ID = "demo-aurora";
const PASSWORD = "a long and unusual passphrase";
/** The whole run takes about two and a half minutes; past twice that something hangs. */
const WATCHDOG_MS = 300_000;

const assetDir = path.join(projectRoot, "demo/media/assets", ASSET_ID);
const figures = benchResults("playback");

// On any exit, startPlatform's own handler kills the platform's process group and
// playwright kills the browser it launched; this removes the platform's state.
let workDir: string | undefined;
process.on("exit", () => workDir && rmSync(workDir, { recursive: true, force: true }));
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    console.error(`bench:playback: ${signal}, stopping`);
    process.exit(130);
  });
}
setTimeout(() => {
  console.error(`bench:playback: still running after ${WATCHDOG_MS / 1000} s; giving up`);
  process.exit(1);
}, WATCHDOG_MS).unref();

const fmt = (ms: number) => ms.toFixed(1);
const pad = (s: string | number, n: number) => String(s).padStart(n);

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
const median = (values: number[]) => percentile(values, 50);

/** Runs `task` over `items` with at most `limit` at once. */
async function pool<T, R>(items: T[], limit: number, task: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await task(items[i]!, i);
      }
    }),
  );
  return results;
}

type Account = { email: string; token: string; profileId: string };

type Api = ReturnType<typeof apiClient>;

function apiClient(baseUrl: string, agent: http.Agent) {
  const call = async (method: string, url: string, token: string | null, body?: unknown, extraHeaders: Record<string, string> = {}) => {
    const res = await download(baseUrl + url, {
      agent,
      method,
      keepBody: true,
      timeoutMs: 60_000,
      headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { "content-type": "application/json" }), ...extraHeaders },
      ...(body === undefined ? {} : { body: Buffer.from(JSON.stringify(body)) }),
    });
    const text = res.body?.toString("utf8") ?? "";
    const serverTiming = res.headers["server-timing"];
    return { status: res.status, ms: res.ms, body: text ? (JSON.parse(text) as Record<string, any>) : null, serverTiming: typeof serverTiming === "string" ? serverTiming : null };
  };
  return { call };
}

async function expectStatus<T extends { status: number; body: unknown }>(what: string, expected: number, p: Promise<T>): Promise<T> {
  const res = await p;
  if (res.status !== expected) throw new Error(`${what}: expected ${expected}, got ${res.status} ${JSON.stringify(res.body)}`);
  return res;
}

/** A device account on the Basic plan (one screen, 720p). */
async function basicAccount(api: Api, email: string, n: number): Promise<Account> {
  // Each account signs up from a client of its own: sign-up is throttled per client.
  const signup = await expectStatus(`sign-up ${email}`, 201, api.call("POST", "/v1/auth/signup", null, { email, password: PASSWORD, client: "device", deviceName: "bench" }, simulatedClient(n)));
  const token = signup.body!.token as string;
  await expectStatus("checkout", 200, api.call("POST", "/v1/billing/checkout", token, { planId: "basic" }));
  const me = await expectStatus("GET /v1/me", 200, api.call("GET", "/v1/me", token));
  return { email, token, profileId: me.body!.profiles[0].id };
}

type Sample = { ms: number; status: number; serverTiming?: string | null };
const KINDS = ["me", "list", "start", "stop"] as const;
type Kind = (typeof KINDS)[number];
const LABELS: Record<Kind, string> = {
  me: "GET /v1/me (baseline)",
  list: "GET /v1/playback/sessions",
  start: "POST /v1/playback/sessions (acquire)",
  stop: "DELETE /v1/playback/sessions/:id",
};
const EXPECTED: Record<Kind, number> = { me: 200, list: 200, start: 201, stop: 204 };

async function acquireLatency(accounts: Account[], api: Api, titleId: string, summary: string[]): Promise<void> {
  const round = async (a: Account, samples: Record<Kind, Sample[]> | null) => {
    const keep = (kind: Kind, r: Sample) => samples?.[kind].push({ ms: r.ms, status: r.status, serverTiming: r.serverTiming ?? null });
    keep("me", await api.call("GET", "/v1/me", a.token));
    keep("list", await api.call("GET", "/v1/playback/sessions", a.token));
    const started = await api.call("POST", "/v1/playback/sessions", a.token, { titleId, profileId: a.profileId });
    keep("start", started);
    if (started.status === 201) keep("stop", await api.call("DELETE", `/v1/playback/sessions/${started.body!.id}`, a.token));
  };
  const empty = (): Record<Kind, Sample[]> => ({ me: [], list: [], start: [], stop: [] });
  // Warm every path (and every account's Durable Object) untimed, a few at a time.
  await pool(accounts, 8, (a) => round(a, null));

  // One request in flight: what each costs with no queue in front of it.
  const alone = empty();
  for (let r = 0; r < SERIAL_ROUNDS; r++) await round(accounts[r % accounts.length]!, alone);

  const loaded = empty();
  const t0 = performance.now();
  await Promise.all(
    accounts.map(async (a) => {
      for (let r = 0; r < ROUNDS; r++) await round(a, loaded);
    }),
  );
  const wallMs = performance.now() - t0;
  const total = KINDS.reduce((n, k) => n + loaded[k].length, 0);

  const stat = (samples: Record<Kind, Sample[]>, k: Kind) => {
    const ms = samples[k].map((s) => s.ms);
    return { n: ms.length, p50: percentile(ms, 50), p90: percentile(ms, 90), p99: percentile(ms, 99), max: Math.max(...ms), bad: samples[k].filter((s) => s.status !== EXPECTED[k]).length };
  };
  const stats = Object.fromEntries(KINDS.map((k) => [k, stat(loaded, k)])) as Record<Kind, ReturnType<typeof stat>>;
  const serial = Object.fromEntries(KINDS.map((k) => [k, stat(alone, k)])) as Record<Kind, ReturnType<typeof stat>>;

  console.log(
    `\na. Acquire latency: ${accounts.length} accounts at once, each ${ROUNDS} rounds of GET /v1/me, GET /v1/playback/sessions, POST /v1/playback/sessions, DELETE it (Basic: one screen)`,
  );
  console.log(`   ${total} requests in ${(wallMs / 1000).toFixed(1)} s (${((total / wallMs) * 1000).toFixed(0)} req/s), ${accounts.length} in flight at any time; keep-alive connections, one per account`);
  console.log(`   ${"request".padEnd(40)} ${pad("n", 5)} ${pad("p50 ms", 8)} ${pad("p90 ms", 8)} ${pad("p99 ms", 8)} ${pad("max ms", 8)}  ${pad("bad", 3)}   alone: ${pad("p50 ms", 7)} ${pad("p99 ms", 7)} (n=${serial.me.n})`);
  for (const k of KINDS) {
    const s = stats[k];
    const a = serial[k];
    console.log(
      `   ${LABELS[k].padEnd(40)} ${pad(s.n, 5)} ${pad(fmt(s.p50), 8)} ${pad(fmt(s.p90), 8)} ${pad(fmt(s.p99), 8)} ${pad(fmt(s.max), 8)}  ${pad(s.bad + a.bad, 3)}          ${pad(fmt(a.p50), 7)} ${pad(fmt(a.p99), 7)}`,
    );
  }
  const { start, me, list } = stats;
  const alonePhases = medianPhases(alone.start.map((x) => serverTimingOf(x.serverTiming ?? "")));
  if (alonePhases) console.log(`   the acquire's phases alone (Server-Timing, median ms): ${alonePhases}, of its p50 ${fmt(serial.start.p50)} ms`);
  console.log(`   (bad: answers other than 200/201/204; alone: the same four requests one at a time, ${SERIAL_ROUNDS} rounds, before the load)`);
  console.log(`   acquire / GET /v1/me:                  p50 ${(start.p50 / me.p50).toFixed(2)}x, p99 ${(start.p99 / me.p99).toFixed(2)}x   alone: p50 ${(serial.start.p50 / serial.me.p50).toFixed(2)}x`);
  console.log(`   acquire / GET /v1/playback/sessions:   p50 ${(start.p50 / list.p50).toFixed(2)}x, p99 ${(start.p99 / list.p99).toFixed(2)}x   alone: p50 ${(serial.start.p50 / serial.list.p50).toFixed(2)}x`);
  console.log(`   under load the latencies are mostly the queue: ${accounts.length} in flight / ${((total / wallMs) * 1000).toFixed(0)} req/s = ${((accounts.length / total) * wallMs).toFixed(0)} ms (Little's law)`);
  const bad = KINDS.reduce((n, k) => n + stats[k].bad + serial[k].bad, 0);
  for (const p of ["p50", "p99"] as const)
    figures.record({ name: `acquire ${p}, ${accounts.length} accounts at once`, value: start[p], unit: "ms", baseline: { name: `GET /v1/me ${p}`, value: me[p] }, better: "lower" });
  figures.record({ name: "acquire p50, one at a time", value: serial.start.p50, unit: "ms", baseline: { name: "GET /v1/me p50", value: serial.me.p50 }, better: "lower" });
  figures.record({ name: "unexpected statuses", value: bad, unit: "responses", goal: "= 0", better: "lower" });
  summary.push(
    `acquire (POST /v1/playback/sessions, ${accounts.length} accounts at once, n=${start.n}): p50 ${fmt(start.p50)} ms, p99 ${fmt(start.p99)} ms; ` +
      `baseline GET /v1/me p50 ${fmt(me.p50)} ms, p99 ${fmt(me.p99)} ms; ratio p50 ${(start.p50 / me.p50).toFixed(2)}x, p99 ${(start.p99 / me.p99).toFixed(2)}x ` +
      `(one at a time: ${fmt(serial.start.p50)} vs ${fmt(serial.me.p50)} ms, ${(serial.start.p50 / serial.me.p50).toFixed(2)}x)` +
      (bad ? `; ${bad} UNEXPECTED STATUSES` : "; every status as expected"),
  );
}

/** A Server-Timing header's phases: `auth;dur=3.0, context;dur=4.0` → { auth: 3, context: 4 } (the browser's resource timing reads the same). */
const serverTimingOf = (header: string): Record<string, number> => Object.fromEntries([...header.matchAll(/([\w-]+);dur=([\d.]+)/g)].map((m) => [m[1]!, Number(m[2])]));

/** "auth 4.0, context 3.0, …": each phase's median over `requests`, or null if none had any. */
function medianPhases(requests: Record<string, number>[]): string | null {
  const names = [...new Set(requests.flatMap((r) => Object.keys(r)))];
  return names.length === 0 ? null : names.map((n) => `${n} ${fmt(median(requests.map((r) => r[n] ?? 0)))}`).join(", ");
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/**
 * The static side's files: the Worker's own playlists (fetched once through a valid token:
 * their URIs are relative and token-free) and every file of the asset from disk, each
 * checked byte for byte against what the Worker serves.
 */
async function staticFiles(api: Api, baseUrl: string, account: Account, titleId: string): Promise<{ files: Map<string, StaticFile>; note: string }> {
  const index = JSON.parse(await readFile(path.join(assetDir, "index.json"), "utf8")) as RenditionIndex;
  const started = await expectStatus("start (to copy playlists)", 201, api.call("POST", "/v1/playback/sessions", account.token, { titleId, profileId: account.profileId }));
  const base = (started.body!.media.hlsUrl as string).replace(/master\.m3u8$/, "");
  const files = new Map<string, StaticFile>();
  files.set("/", { body: Buffer.from("<!doctype html><html><head><title>static</title></head><body></body></html>\n"), contentType: "text/html; charset=utf-8" });
  const playlists = ["master.m3u8", ...index.video.map((v) => `${v.id}/playlist.m3u8`), ...index.audio.map((a) => `${a.id}/playlist.m3u8`), ...index.subtitles.map((s) => `subs/${s.lang}.m3u8`)];
  const agent = new http.Agent({ keepAlive: true });
  try {
    for (const p of playlists) {
      const res = await download(base + p, { agent, keepBody: true });
      if (res.status !== 200) throw new Error(`${p} from the media Worker: ${res.status}`);
      const body = p === "master.m3u8" ? Buffer.from(withoutSteering(res.body!.toString("utf8"))) : res.body!;
      files.set(`/${ASSET_ID}/${p}`, { body, contentType: String(res.headers["content-type"]) });
    }
    let checked = 0;
    for (const f of index.files) {
      const body = await readFile(path.join(assetDir, f.path));
      const fromWorker = await download(base + f.path, { agent });
      if (sha256(body) !== f.sha256 || fromWorker.sha256 !== f.sha256) throw new Error(`${f.path}: the file on disk or from the Worker differs from index.json`);
      files.set(`/${ASSET_ID}/${f.path}`, { body, contentType: contentTypeFor(f.path) });
      checked++;
    }
    await expectStatus("stop", 204, api.call("DELETE", `/v1/playback/sessions/${started.body!.id}`, account.token));
    return { files, note: `${playlists.length} playlists copied from the media Worker (token ${started.body!.media.maxHeight}p; the master without content steering), ${checked} files from disk, each identical to the Worker's (sha256)` };
  } finally {
    agent.destroy();
  }
}

type Run = {
  /** late: the platform, with hls.js created and attached only once the POST has answered. */
  side: "platform" | "late" | "static" | "platform-rtt" | "static-rtt";
  ms: number;
  /** Platform: the POST's own time, and the rest (POST answered to first frame). */
  postMs: number | null;
  requests: number;
  inPageRequests: number;
  firstHeight: number;
  timings: ResourceTiming[];
  state: FlowState;
};

/** One Play on a fresh context (empty cache, new connections) and a fresh page. */
async function playOnce(
  browser: Browser,
  side: Run["side"],
  setup: { origin: string; request: StartRequest; storageState?: Awaited<ReturnType<BrowserContext["storageState"]>>; rttMs?: number },
): Promise<Run> {
  // The harness injects hls.js into the page: the pages' CSP (script-src 'self') would refuse it.
  const context = await browser.newContext({ bypassCSP: true, ...(setup.storageState ? { storageState: setup.storageState } : {}) });
  try {
    const page = await context.newPage();
    if (setup.rttMs) {
      // Chromium's own emulation: every request's answer waits this long more, as on a real network.
      const cdp = await context.newCDPSession(page);
      await cdp.send("Network.enable");
      await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: setup.rttMs, downloadThroughput: -1, uploadThroughput: -1 });
    }
    let counting = false;
    const requested: string[] = [];
    // http(s) only: hls.js also "requests" the blob: URL of its transmuxing Web Worker.
    page.on("request", (r) => counting && /^https?:/.test(r.url()) && requested.push(r.url()));
    await page.exposeFunction(FIRST_FRAME_BINDING, () => {
      counting = false;
    });
    await page.goto(setup.origin);
    await installPlayFlow(page);
    counting = true;
    const started = await startFlow(page, setup.request);
    if (started.startError) throw new Error(`${side}: start answered ${started.startStatus} ${JSON.stringify(started.startError)}`);
    const state = await waitForFirstFrame(page, 20_000);
    counting = false;
    if (state.firstFrameAt === null || state.fatal) throw new Error(`${side}: no first frame (fatal: ${state.fatal})`);
    // Let requests in flight at the first frame finish, for their timings.
    await new Promise((r) => setTimeout(r, 300));
    const timings = await resourceTimings(page);
    if (setup.request.kind === "session") {
      const status = await releaseFlow(page);
      if (status !== 204) throw new Error(`platform: DELETE of the stream answered ${status}`);
    }
    return {
      side,
      ms: state.firstFrameAt - state.startedAt,
      postMs: state.startAnsweredAt === null ? null : state.startAnsweredAt - state.startedAt,
      requests: requested.length,
      inPageRequests: state.mediaRequests.filter((r) => r.at <= state.firstFrameAt!).length + (setup.request.kind === "url" ? 0 : 1),
      firstHeight: state.heights[0] ?? 0,
      timings: timings.filter((t) => t.startAt >= state.startedAt - 1 && t.startAt <= state.firstFrameAt!),
      state,
    };
  } finally {
    await context.close();
  }
}

/**
 * When (ms from the start) the first playlist was requested (master.m3u8) or, on the
 * platform, the Play response with the playlists inline came in; and when the first media
 * segment of a video and an audio track, and their init segments where they were fetched,
 * had all arrived: what the first frame needs.
 */
function phases(r: Run): { master: number; data: number } {
  const sorted = [...r.timings].sort((a, b) => a.startAt - b.startAt);
  const first = (re: RegExp) => sorted.find((t) => re.test(new URL(t.url).pathname));
  // The platform's playlists come in the Play response: its first phase ends with the POST's answer.
  const playlist = first(/\/p\/.*\.m3u8$|\/master\.m3u8$/);
  const master = r.postMs !== null ? { startAt: r.state.startedAt + r.postMs } : playlist;
  // The init segments only where they were fetched: the Play response carries them (`hlsInitSegments`).
  const segments = [first(/\/\d+p\/\d+\.m4s$/), first(/\/audio[^/]*\/\d+\.m4s$/)];
  const inits = [first(/\/\d+p\/init\.m4s$/), first(/\/audio[^/]*\/init\.m4s$/)].filter((t) => t !== undefined);
  const needed = [...segments, ...inits];
  if (!master || needed.some((t) => !t)) return { master: NaN, data: NaN };
  return { master: master.startAt - r.state.startedAt, data: Math.max(...needed.map((t) => t!.endAt)) - r.state.startedAt };
}

/** What a request fetched, by kind: "POST", "master", "playlist", "init", "segment". */
function kindOf(url: string): string {
  const p = new URL(url).pathname;
  if (p === "/v1/playback/sessions") return "POST";
  if (p.endsWith("/master.m3u8")) return "master";
  if (p.endsWith(".m3u8")) return "playlist";
  if (p.endsWith("/init.m4s")) return "init";
  if (p.endsWith(".m4s")) return "segment";
  return p;
}

async function firstFrame(browser: Browser, platform: Platform, api: Api, titleId: string, helper: Account, summary: string[]): Promise<void> {
  // The web member: a cookie and a CSRF token, as the web app plays.
  const signupContext = await browser.newContext();
  const page = await signupContext.newPage();
  await page.goto(`${platform.url}/healthz`);
  const web = await page.evaluate(async (email) => {
    const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(url, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify(body) }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as { csrfToken: string },
      }));
    const signup = await post("/v1/auth/signup", { email, password: "a long and unusual passphrase", client: "web" });
    const checkout = await post("/v1/billing/checkout", { planId: "basic" }, { "x-csrf-token": signup.body.csrfToken });
    const me = (await fetch("/v1/me").then((r) => r.json())) as { profiles: { id: string }[] };
    return { csrfToken: signup.body.csrfToken, checkout: checkout.status, profileId: me.profiles[0]!.id };
  }, `bench-web-${Date.now()}@example.com`);
  if (web.checkout !== 200) throw new Error(`web checkout answered ${web.checkout}`);
  const storageState = await signupContext.storageState();
  await signupContext.close();

  const { files, note } = await staticFiles(api, platform.url, helper, titleId);
  const staticServer: StaticServer = await startStaticServer(files);
  try {
    const session = (attachDuringStart: boolean): StartRequest => ({
      kind: "session",
      body: { titleId, profileId: web.profileId },
      headers: { "x-csrf-token": web.csrfToken },
      heartbeatMs: null,
      attachDuringStart,
    });
    const sides = {
      platform: () => playOnce(browser, "platform", { origin: `${platform.url}/healthz`, storageState, request: session(true) }),
      late: () => playOnce(browser, "late", { origin: `${platform.url}/healthz`, storageState, request: session(false) }),
      static: () => playOnce(browser, "static", { origin: `${staticServer.url}/`, request: { kind: "url", url: `${staticServer.url}/${ASSET_ID}/master.m3u8` } }),
      "platform-rtt": () => playOnce(browser, "platform-rtt", { origin: `${platform.url}/healthz`, storageState, request: session(true), rttMs: EMULATED_RTT_MS }),
      "static-rtt": () => playOnce(browser, "static-rtt", { origin: `${staticServer.url}/`, request: { kind: "url", url: `${staticServer.url}/${ASSET_ID}/master.m3u8` }, rttMs: EMULATED_RTT_MS }),
    };
    const hlsVersion = JSON.parse(await readFile(path.join(path.dirname(hlsJsPath), "../package.json"), "utf8")).version as string;
    console.log(`\nb. Play to first frame in Chromium (hls.js ${hlsVersion}, default config), ${BROWSER_RUNS} runs per side in rotation, each on a fresh browser context and page (+1 warm-up per side, not counted)`);
    console.log(`   platform: POST /v1/playback/sessions (cookie + CSRF), hls.js created and attached while it is on its way -> hls.js on media.hlsUrl (its playlists inline in the Play response) through the media Worker, from the start of the POST`);
    console.log(`   late:     the same, with hls.js created and attached only once the POST has answered (the flow before 2026-12-07)`);
    console.log(`   static:   the same hls.js on a Node http server on 127.0.0.1 (${note}), from loadSource`);
    await sides.platform();
    await sides.late();
    await sides.static();
    const runs: Run[] = [];
    const rotation = ["platform", "static", "late"] as const;
    for (let i = 0; i < BROWSER_RUNS; i++) {
      for (let j = 0; j < rotation.length; j++) runs.push(await sides[rotation[(i + j) % rotation.length]!]());
    }
    // The same two players with a round trip on every request, in a rotation of their own.
    await sides["platform-rtt"]();
    await sides["static-rtt"]();
    for (let i = 0; i < BROWSER_RUNS; i++) {
      for (const side of i % 2 === 0 ? (["platform-rtt", "static-rtt"] as const) : (["static-rtt", "platform-rtt"] as const)) runs.push(await sides[side]());
    }
    const bySide = (side: Run["side"]) => runs.filter((r) => r.side === side);
    const p = bySide("platform");
    const s = bySide("static");
    const l = bySide("late");
    console.log(`   ${"run".padEnd(4)} ${pad("platform ms", 12)} ${pad("(POST", 7)} ${pad("+ media)", 9)} ${pad("req", 4)} ${pad("1st h", 6)}   ${pad("static ms", 10)} ${pad("req", 4)} ${pad("1st h", 6)}   ${pad("late ms", 8)} ${pad("(POST)", 7)}`);
    for (let i = 0; i < BROWSER_RUNS; i++) {
      const a = p[i]!;
      const b = s[i]!;
      const c = l[i]!;
      console.log(
        `   ${pad(i + 1, 3)}  ${pad(fmt(a.ms), 12)} ${pad(fmt(a.postMs!), 7)} ${pad(fmt(a.ms - a.postMs!), 9)} ${pad(a.requests, 4)} ${pad(a.firstHeight, 6)}   ${pad(fmt(b.ms), 10)} ${pad(b.requests, 4)} ${pad(b.firstHeight, 6)}   ${pad(fmt(c.ms), 8)} ${pad(fmt(c.postMs!), 7)}`,
      );
    }
    const med = (runs: Run[], f: (r: Run) => number) => median(runs.map(f));
    const pMs = med(p, (r) => r.ms);
    const sMs = med(s, (r) => r.ms);
    const pPost = med(p, (r) => r.postMs!);
    const pMedia = med(p, (r) => r.ms - r.postMs!);
    const pReq = med(p, (r) => r.requests);
    const sReq = med(s, (r) => r.requests);
    const lMs = med(l, (r) => r.ms);
    console.log(`   median  ${pad(fmt(pMs), 9)} ${pad(fmt(pPost), 7)} ${pad(fmt(pMedia), 9)} ${pad(pReq, 4)}          ${pad(fmt(sMs), 10)} ${pad(sReq, 4)}           ${pad(fmt(lMs), 8)} ${pad(fmt(med(l, (r) => r.postMs!)), 7)}`);
    const pr = bySide("platform-rtt");
    const sr = bySide("static-rtt");
    const prMs = med(pr, (r) => r.ms);
    const srMs = med(sr, (r) => r.ms);
    console.log(
      `   with ${EMULATED_RTT_MS} ms added to every request (Chromium's network emulation), median of ${BROWSER_RUNS}: platform ${fmt(prMs)} ms (POST ${fmt(med(pr, (r) => r.postMs!))}) vs static ${fmt(srMs)} ms, ${(prMs / srMs).toFixed(2)}x; runs: ${pr.map((r) => fmt(r.ms)).join(" ")} vs ${sr.map((r) => fmt(r.ms)).join(" ")}`,
    );
    const mismatched = runs.filter((r) => r.requests !== r.inPageRequests);
    console.log(
      `   req: requests seen by page.on('request') from the start to the first frame${mismatched.length ? `; the player's own count differs in ${mismatched.length} runs: ${mismatched.map((r) => `${r.side} ${r.requests}/${r.inPageRequests}`).join(", ")}` : ", equal to the player's own count in every run"}`,
    );

    // The POST's own phases, from its Server-Timing header (workers/api/playback/routes.ts).
    const phasesOfPost = p.map((r) => r.timings.find((t) => kindOf(t.url) === "POST")?.server ?? {});
    const cells = medianPhases(phasesOfPost);
    if (cells) {
      const inServer = median(phasesOfPost.map((ph) => Object.values(ph).reduce((a, b) => a + b, 0)));
      console.log(`   the POST's phases in the api (Server-Timing, median ms): ${cells}; ${fmt(inServer)} of the POST's ${fmt(pPost)}`);
    }
    // And in the browser (resource timing): before the request went out, to its first byte, the body.
    const posts = p.flatMap((r) => r.timings.filter((t) => kindOf(t.url) === "POST"));
    if (posts.length > 0) {
      const part = (f: (t: ResourceTiming) => number) => fmt(median(posts.map(f)));
      console.log(
        `   the POST in the browser (resource timing, median ms): queued and connecting ${part((t) => t.requestAt - t.startAt)}, request to first byte ${part((t) => t.responseAt - t.requestAt)} (the api's phases, wrangler dev's proxy, workerd), the body ${part((t) => t.endAt - t.responseAt)}`,
      );
    }

    // Where the time goes: each kind of request's median duration and the critical path.
    console.log(`   per request (median over runs of resource timing, ms):   ${pad("platform", 18)} ${pad("static", 18)}`);
    const kinds = ["POST", "master", "playlist", "init", "segment"];
    for (const kind of kinds) {
      const cell = (runs: Run[]) => {
        const ds = runs.flatMap((r) => r.timings.filter((t) => kindOf(t.url) === kind).map((t) => t.endAt - t.startAt));
        return ds.length ? `${fmt(median(ds))} (n=${ds.length})` : "-";
      };
      console.log(`     ${kind.padEnd(52)} ${pad(cell(p), 18)} ${pad(cell(s), 18)}`);
    }
    console.log(`   phases (median, ms):`);
    const phaseRows: [string, (r: Run) => number][] = [
      ["start to the first playlist request (platform: the POST's answer)", (r) => phases(r).master],
      ["then to the first segments of each track in (with their inits, if fetched)", (r) => phases(r).data - phases(r).master],
      ["those bytes in to the first frame (MSE, decode, paint)", (r) => r.ms - phases(r).data],
    ];
    for (const [label, f] of phaseRows) console.log(`     ${label.padEnd(58)} ${pad(fmt(med(p, f)), 12)} ${pad(fmt(med(s, f)), 18)}`);
    const medianRun = (runs: Run[]) => [...runs].sort((a, b) => a.ms - b.ms)[Math.floor(runs.length / 2)]!;
    for (const r of [medianRun(p), medianRun(s)]) {
      console.log(`   timeline of the median ${r.side} run (ms from the start; first frame at ${fmt(r.ms)}):`);
      for (const t of [...r.timings].sort((a, b) => a.startAt - b.startAt)) {
        const u = new URL(t.url).pathname.replace(/^\/p\/[^/]+\//, "/p/{token}/");
        console.log(`     ${pad(fmt(t.startAt - r.state.startedAt), 7)} -> ${pad(fmt(t.endAt - r.state.startedAt), 7)}  ${u}`);
      }
    }
    // Chromium asks for /favicon.ico on navigation, before any measurement starts.
    const notFound = staticServer.requests.filter((r) => r.status !== 200 && r.path !== "/favicon.ico");
    if (notFound.length) console.log(`   WARNING: the static server answered ${notFound.length} requests with 404: ${[...new Set(notFound.map((r) => r.path))].join(", ")}`);

    const ratio = pMs / sMs;
    const staticPlayer = { name: "same hls.js on a static server", value: sMs };
    figures.record({ name: `Play → first frame (median of ${BROWSER_RUNS})`, value: pMs, unit: "ms", baseline: staticPlayer, goal: "ratio ≤ 1.1", better: "lower" });
    figures.record({ name: "Play → first frame without the POST", value: pMedia, unit: "ms", baseline: staticPlayer, better: "lower" });
    figures.record({ name: "Play → first frame, hls.js attached after the POST (late)", value: lMs, unit: "ms", baseline: staticPlayer, better: "lower" });
    figures.record({ name: `Play → first frame, ${EMULATED_RTT_MS} ms added to every request (median of ${BROWSER_RUNS})`, value: prMs, unit: "ms", baseline: { name: `same hls.js on a static server, same ${EMULATED_RTT_MS} ms`, value: srMs }, better: "lower" });
    figures.record({ name: "requests before the first frame (median)", value: pReq, unit: "requests", baseline: { name: "static server", value: sReq }, goal: `≤ ${sReq + 2} (static + 2)`, better: "lower" });
    summary.push(
      `first frame (POST -> frame, median of ${BROWSER_RUNS}): platform ${fmt(pMs)} ms (POST ${fmt(pPost)} ms + media ${fmt(pMedia)} ms) vs static ${fmt(sMs)} ms; ` +
        `ratio ${ratio.toFixed(2)} (goal <= 1.1: ${ratio <= 1.1 ? "met" : "NOT MET"}); without the POST ${(pMedia / sMs).toFixed(2)}; ` +
        `hls.js attached only after the POST (late) ${fmt(lMs)} ms, ${(lMs / sMs).toFixed(2)}`,
    );
    summary.push(`first frame with ${EMULATED_RTT_MS} ms added to every request: platform ${fmt(prMs)} ms vs static ${fmt(srMs)} ms, ratio ${(prMs / srMs).toFixed(2)}`);
    summary.push(`requests before the first frame (median): platform ${pReq} (POST + ${pReq - 1} media), static ${sReq}`);
  } finally {
    await staticServer.close();
  }
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const elapsed = () => `${((performance.now() - t0) / 1000).toFixed(0)} s`;
  console.log(`bench:playback — npm run dev on ${cpus().length} cores, Node ${process.version}, load avg ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  const work = await mkdtemp(path.join(tmpdir(), "marquee-bench-playback-"));
  workDir = work;
  let platform: Platform | undefined;
  let browser: Browser | undefined;
  const agent = new http.Agent({ keepAlive: true, maxSockets: ACCOUNTS, maxFreeSockets: ACCOUNTS });
  const summary: string[] = [];
  try {
    platform = await startPlatform({ stateDir: path.join(work, "state"), logFile: path.join(work, "dev.log") });
    console.log(`setup: platform up on ${platform.url} (${elapsed()})`);
    const titleId = await demoMovieId();
    const api = apiClient(platform.url, agent);
    const stamp = Date.now();
    const emails = Array.from({ length: ACCOUNTS }, (_, i) => `bench-${stamp}-${i}@example.com`);
    const signupStarted = performance.now();
    const accounts = await pool(emails, SIGNUP_CONCURRENCY, (email) => basicAccount(api, email, emails.indexOf(email)));
    console.log(`setup: ${accounts.length} accounts on Basic (sign-up with its PBKDF2 hash, checkout, GET /v1/me) in ${((performance.now() - signupStarted) / 1000).toFixed(1)} s; title "${titleId}" (${ASSET_ID})`);

    await acquireLatency(accounts, api, titleId, summary);

    browser = await launchBrowser();
    await firstFrame(browser, platform, api, titleId, accounts[0]!, summary);
    console.log(`\nSummary (bench:playback, ${elapsed()})\n${summary.map((l) => `  - ${l}`).join("\n")}`);
  } finally {
    agent.destroy();
    await browser?.close().catch(() => {});
    await platform?.stop();
    await rm(work, { recursive: true, force: true });
  }
}

let exitCode = 0;
try {
  await main();
} catch (err) {
  console.error(`bench:playback failed: ${err instanceof Error ? err.stack : err}`);
  exitCode = 1;
}
process.exit(exitCode);
