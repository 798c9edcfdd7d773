// `npm run bench:media`: measures the media Worker under `wrangler dev` against baselines taken in the same run, and prints (never asserts) the results.
import { readFileSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { mediaKeys } from "../../lib/media-layout.ts";
import { parsePlaybackKeys, signPlaybackToken, type PlaybackKeys } from "../../lib/playback-token.ts";
import type { SyntheticAsset } from "../../test-support/synthetic-asset.ts";
import { ensureDevVars } from "../dev-vars.ts";
import { mediaConfig, projectRoot } from "../project.ts";
import { killAllNow, serverProcesses, startDevServer, stopAll, workerdProcesses, type DevServer } from "./dev-server.ts";
import { download, releaseTogether, type Download } from "./http-client.ts";
import { pinWorker } from "./pinned-worker.ts";
import { cpuMs, machineBusyMs, ownCpuMs, rssBytes } from "./proc.ts";
import { benchResults } from "./results.ts";
import { withRssSampling, type RssReport } from "./rss.ts";
import { MB, buildBenchAssets, uploadBenchAssets, type BenchAssets } from "./seed-bench.ts";
import { runWrk, wrkAvailable, type WrkResult } from "./wrk.ts";

const stateRoot = path.join(projectRoot, ".wrangler/bench-state");
const baselineConfig = path.join(projectRoot, "tools/bench/baseline.wrangler.toml");
const mediaDevVars = path.join(projectRoot, "workers/media/.dev.vars");
const HERD = 50;
/** The whole run takes under two minutes; past this something hangs. */
const WATCHDOG_MS = 270_000;

const runs = [
  { threads: 2, connections: 16, seconds: 10 },
  { threads: 2, connections: 4, seconds: 6 },
  { threads: 1, connections: 1, seconds: 6 },
];

const results = benchResults("media");
/** wrk's latencies ("850.00us", "12.34ms", "1.02s") in ms. */
const wrkMs = (s: string) => {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(s);
  return m ? Number(m[1]) * { us: 0.001, ms: 1, s: 1000, m: 60_000 }[m[2] as "us" | "ms" | "s" | "m"] : NaN;
};

const fmtMB = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;
const pad = (s: string | number, n: number) => String(s).padStart(n);

if (!wrkAvailable()) {
  console.error("bench:media needs wrk, which is not installed: sudo apt-get install -y wrk");
  process.exit(1);
}

// Whatever ends this process, the wrangler process groups end with it.
process.on("exit", killAllNow);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    console.error(`bench:media: ${signal}, stopping`);
    process.exit(130);
  });
}
setTimeout(() => {
  console.error(`bench:media: still running after ${WATCHDOG_MS / 1000} s; giving up`);
  process.exit(1);
}, WATCHDOG_MS).unref();

function mediaPlaybackKeys(): Promise<PlaybackKeys> {
  const spec = /^PLAYBACK_TOKEN_KEYS=(.*)$/m.exec(readFileSync(mediaDevVars, "utf8"))?.[1];
  if (!spec) throw new Error("workers/media/.dev.vars has no PLAYBACK_TOKEN_KEYS");
  return parsePlaybackKeys(spec.trim());
}

type Ctx = {
  /** LOG_LEVEL=debug: every request and R2 read logged (the herd count reads those lines). */
  media: DevServer;
  /** The same Worker as shipped (LOG_LEVEL=info: cache hits are not logged). The headline. */
  mediaShipped: DevServer;
  baseline: DevServer;
  assets: BenchAssets;
  tokens: Map<string, string>;
  /** One line per measurement, printed last. */
  summary: Partial<Record<"throughput" | "range" | "herd" | "memory" | "cmcd", string>>;
};

function mediaUrl(ctx: Ctx, server: DevServer, asset: SyntheticAsset, file: string): string {
  return `${server.url}/p/${ctx.tokens.get(asset.index.assetId)}/${asset.index.assetId}/${file}`;
}

function fileSha(asset: SyntheticAsset, file: string): string {
  const info = asset.index.files.find((f) => f.path === file);
  if (!info) throw new Error(`${file} is not in ${asset.index.assetId}`);
  return info.sha256;
}

function r2Reads(log: string, key: string): number {
  let n = 0;
  for (const line of log.split("\n")) {
    if (!line.includes('"event":"r2_read"')) continue;
    try {
      if (JSON.parse(line.slice(line.indexOf("{"))).key === key) n++;
    } catch {
      // A line that only mentions the event is not one of the Worker's log lines.
    }
  }
  return n;
}

/** Logs travel runtime -> wrangler -> file; wait until `done` holds or a second passes. */
async function settledLog(server: DevServer, from: number, done: (log: string) => boolean): Promise<string> {
  for (let i = 0; i < 20; i++) {
    const log = server.log().slice(from);
    if (done(log)) return log;
    await sleep(50);
  }
  return server.log().slice(from);
}

/** The first GET fills the media Worker's cache beside the response; wait until GETs hit it. */
async function warmMedia(url: string, sha: string): Promise<void> {
  for (let i = 0; i < 40; i++) {
    const res = await download(url);
    if (res.status !== 200 || res.sha256 !== sha) throw new Error(`${url}: status ${res.status}, sha256 ${res.sha256 === sha ? "ok" : "WRONG"}`);
    if (res.headers["x-cache"] === "HIT") return;
    await sleep(100);
  }
  throw new Error(`${url} never came from the cache`);
}

async function throughput(ctx: Ctx): Promise<void> {
  const asset = ctx.assets.segments;
  const file = "240p/1.m4s";
  const bytes = asset.files.get(file)!;
  const sha = fileSha(asset, file);
  const targets = {
    baseline: `${ctx.baseline.url}/${asset.index.assetId}/${file}`,
    media: mediaUrl(ctx, ctx.media, asset, file),
    shipped: mediaUrl(ctx, ctx.mediaShipped, asset, file),
  };
  type Target = keyof typeof targets;

  const logFrom = ctx.media.log().length;
  await warmMedia(targets.media, sha);
  await warmMedia(targets.shipped, sha);
  const put = await download(targets.baseline, { method: "PUT", body: bytes, headers: { "Content-Type": "video/iso.segment" } });
  const check = await download(targets.baseline);
  if (put.status !== 201 || check.status !== 200 || check.sha256 !== sha) throw new Error(`baseline did not cache the segment (PUT ${put.status}, GET ${check.status})`);
  const key = mediaKeys.file(asset.index.assetId, file);
  const warmReads = r2Reads(await settledLog(ctx.media, logFrom, (log) => r2Reads(log, key) > 0), key);
  // JIT and connection pools warm, untimed.
  for (const url of Object.values(targets)) await runWrk(url, { threads: 2, connections: 4, seconds: 2 });

  console.log(`\n1. Throughput: one cached ${fmtMB(bytes.byteLength)} segment, media Worker vs a minimal caches.default Worker (goal: ratio ≥ 0.9; load avg ${loadavg()[0]!.toFixed(2)})`);
  console.log(`   media warm-up read R2 ${warmReads}× and then hit the cache; LOG_LEVEL=debug reaches the media Worker: ${warmReads > 0 ? "yes" : "NO"}`);
  console.log(`   shipped = the media Worker at its default LOG_LEVEL info (cache hits not logged); media = the same Worker at debug (a log line per request)`);
  console.log(
    `   ${"wrk".padEnd(16)} ${pad("baseline req/s", 14)} ${pad("MB/s", 7)} ${pad("media req/s", 12)} ${pad("MB/s", 7)} ${pad("media/base", 10)} ${pad("shipped req/s", 12)} ${pad("shipped/base", 10)}   p99 latency base / media / shipped`,
  );
  const names = Object.keys(targets) as Target[];
  const ratios: Record<"media" | "shipped", number[]> = { media: [], shipped: [] };
  const cpuRatios: Record<"media" | "shipped", number[]> = { media: [], shipped: [] };
  const servers: Record<Target, DevServer> = { baseline: ctx.baseline, media: ctx.media, shipped: ctx.mediaShipped };
  const cpuLines: string[] = [];
  for (const [i, run] of runs.entries()) {
    // Rotating the order spreads the drift of a shared, noisy machine over all three.
    const order = names.map((_, k) => names[(k + i) % names.length]!);
    const r = {} as Record<Target, WrkResult>;
    const cpu = {} as Record<Target, string>;
    const cpuTotal = {} as Record<Target, number>;
    let othersCores = 0;
    for (const name of order) {
      // CPU time per request, per process: unlike req/s, other load on the machine barely moves it.
      const procs = serverProcesses(servers[name]).filter((p) => p.role !== "other");
      const before = procs.map((p) => cpuMs(p.pid));
      // Whatever else the machine did meanwhile is what makes req/s unreliable: measure it.
      const all = Object.values(servers).flatMap((server) => serverProcesses(server));
      const ours = () => ownCpuMs() + all.reduce((sum, p) => sum + cpuMs(p.pid), 0);
      const [busy0, ours0, wall0] = [machineBusyMs(), ours(), performance.now()];
      r[name] = await runWrk(targets[name], run);
      othersCores = Math.max(othersCores, (machineBusyMs() - busy0 - (ours() - ours0)) / (performance.now() - wall0));
      const per: Record<string, number> = {};
      procs.forEach((p, k) => (per[p.role] = (per[p.role] ?? 0) + (cpuMs(p.pid) - before[k]!) / r[name].requests));
      cpu[name] = `${pad(per.runtime!.toFixed(2), 5)} /${pad(per.proxy!.toFixed(2), 5)} /${pad(per.wrangler!.toFixed(2), 5)}`;
      cpuTotal[name] = per.runtime! + per.proxy! + per.wrangler!;
    }
    const cpuRatio = (n: Target) => (cpuTotal.baseline / cpuTotal[n]).toFixed(2);
    cpuRatios.media.push(cpuTotal.baseline / cpuTotal.media);
    cpuRatios.shipped.push(cpuTotal.baseline / cpuTotal.shipped);
    cpuLines.push(
      `   ${`-t${run.threads} -c${run.connections}`.padEnd(16)} ${names.map((n) => `${n.padStart(8)} ${cpu[n]}`).join("   ")}   base/media ${cpuRatio("media")}, base/shipped ${cpuRatio("shipped")}; other processes used up to ${othersCores.toFixed(2)} of ${cpus().length} cores`,
    );
    const label = `wrk -t${run.threads} -c${run.connections}`;
    const baseRps = { name: "minimal caches.default Worker", value: r.baseline.requestsPerSec };
    results.record({ name: `throughput, ${label}, as shipped (LOG_LEVEL=info)`, value: r.shipped.requestsPerSec, unit: "req/s", baseline: baseRps, goal: "ratio ≥ 0.9", better: "higher" });
    results.record({ name: `throughput, ${label}, LOG_LEVEL=debug`, value: r.media.requestsPerSec, unit: "req/s", baseline: baseRps, better: "higher" });
    results.record({ name: `CPU per request, ${label}, as shipped`, value: cpuTotal.shipped, unit: "ms CPU", baseline: { name: "minimal Worker", value: cpuTotal.baseline }, goal: "ratio ≤ 1.11 (0.9 by throughput)", better: "lower" });
    results.record({ name: `CPU per request, ${label}, LOG_LEVEL=debug`, value: cpuTotal.media, unit: "ms CPU", baseline: { name: "minimal Worker", value: cpuTotal.baseline }, better: "lower" });
    results.record({ name: `latency p99, ${label}, as shipped`, value: wrkMs(r.shipped.latencyP99), unit: "ms", baseline: { name: "minimal Worker p99", value: wrkMs(r.baseline.latencyP99) }, better: "lower" });
    ratios.media.push(r.media.requestsPerSec / r.baseline.requestsPerSec);
    ratios.shipped.push(r.shipped.requestsPerSec / r.baseline.requestsPerSec);
    const mbps = (x: WrkResult) => ((x.requestsPerSec * bytes.byteLength) / MB).toFixed(1);
    const errors = names.some((n) => r[n].errors > 0) ? `  ERRORS: ${names.map((n) => `${n} ${r[n].errors}`).join(", ")}` : "";
    console.log(
      `   ${`-t${run.threads} -c${run.connections} -d${run.seconds}s`.padEnd(16)} ${pad(r.baseline.requestsPerSec.toFixed(1), 14)} ${pad(mbps(r.baseline), 7)} ${pad(r.media.requestsPerSec.toFixed(1), 12)} ${pad(mbps(r.media), 7)} ${pad((r.media.requestsPerSec / r.baseline.requestsPerSec).toFixed(2), 10)} ${pad(r.shipped.requestsPerSec.toFixed(1), 12)} ${pad((r.shipped.requestsPerSec / r.baseline.requestsPerSec).toFixed(2), 10)}   ${r.baseline.latencyP99} / ${r.media.latencyP99} / ${r.shipped.latencyP99}${errors}`,
    );
  }
  console.log(`   CPU ms per request in each dev server's processes: runtime workerd (the Worker) / proxy workerd / wrangler node (log printing);`);
  console.log(`   the ratios of their sums estimate the throughput ratios on a machine with nothing else running`);
  for (const line of cpuLines) console.log(line);
  const range = (xs: number[]) => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`;
  ctx.summary.throughput =
    `throughput media (as shipped)/baseline ${range(ratios.shipped)} by req/s, ${range(cpuRatios.shipped)} by CPU per request (goal ≥ 0.9); ` +
    `at LOG_LEVEL=debug ${range(ratios.media)} by req/s, ${range(cpuRatios.media)} by CPU`;
}

/** What the media Worker parsed Range with before: two `\s*` around an optional digit run backtrack on long whitespace. */
const oldRangeExpression = /^bytes=\s*(\d*)\s*-\s*(\d*)\s*$/;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * Range headers: a normal one against no Range at all, and the pathological one
 * (`bytes=` + 60,000 spaces + `x`) against a normal one, through the shipped Worker, as
 * request times (median of many, sequential: each is one request's own time); and the
 * parse alone, in this process, against the expression it replaced.
 */
async function rangeHeaders(ctx: Ctx): Promise<void> {
  const asset = ctx.assets.segments;
  const url = mediaUrl(ctx, ctx.mediaShipped, asset, "240p/1.m4s");
  await warmMedia(url, fileSha(asset, "240p/1.m4s"));
  const pathological = `bytes=${" ".repeat(60_000)}x`;
  const cases = { whole: {}, normal: { Range: "bytes=0-99" }, pathological: { Range: pathological } } satisfies Record<string, Record<string, string>>;
  const times: Record<keyof typeof cases, number[]> = { whole: [], normal: [], pathological: [] };
  const agent = new (await import("node:http")).Agent({ keepAlive: true, maxSockets: 1 });
  for (let round = 0; round < 12; round++) await download(url, { agent, headers: cases.normal }); // warm
  for (let round = 0; round < 150; round++) {
    for (const name of Object.keys(cases) as (keyof typeof cases)[]) {
      const res = await download(url, { agent, headers: cases[name] });
      const expected = name === "normal" ? 206 : 200;
      if (res.status !== expected) throw new Error(`Range ${name}: status ${res.status}, expected ${expected}`);
      times[name].push(res.ms);
    }
  }
  agent.destroy();
  const [whole, normal, bad] = [median(times.whole), median(times.normal), median(times.pathological)];

  // The parse alone: the new parser and the old expression on the same headers, in this process.
  const parseNs = (f: (h: string) => unknown, header: string, n: number) => {
    const started = process.hrtime.bigint();
    for (let i = 0; i < n; i++) f(header);
    return Number(process.hrtime.bigint() - started) / n;
  };
  const { parseRange } = await import("../../workers/media/delivery/range.ts");
  const nowParse = (h: string) => parseRange(h, 1_000_000);
  const oldParse = (h: string) => oldRangeExpression.exec(h.trim());
  // Both warmed first (the JIT), then timed alternately, the best of three each.
  for (const f of [nowParse, oldParse]) parseNs(f, "bytes=0-99", 500_000);
  let newNormal = Infinity;
  let oldNormal = Infinity;
  for (let i = 0; i < 3; i++) {
    newNormal = Math.min(newNormal, parseNs(nowParse, "bytes=0-99", 500_000));
    oldNormal = Math.min(oldNormal, parseNs(oldParse, "bytes=0-99", 500_000));
  }
  const newBad = parseNs(nowParse, pathological, 2_000);
  const oldBad = parseNs(oldParse, pathological, 1);

  console.log(`
2. Range headers through the shipped media Worker (${times.whole.length} sequential requests each, one connection; medians)`);
  console.log(`   whole segment ${whole.toFixed(2)} ms; Range bytes=0-99 ${normal.toFixed(2)} ms (${(normal / whole).toFixed(2)}x); pathological (bytes= + 60,000 spaces + x) ${bad.toFixed(2)} ms (${(bad / normal).toFixed(2)}x a normal Range; goal ≤ 3)`);
  console.log(`   the parse alone, in Node: bytes=0-99 ${newNormal.toFixed(0)} ns (the old expression ${oldNormal.toFixed(0)} ns, ${(newNormal / oldNormal).toFixed(2)}x); pathological ${newBad.toFixed(0)} ns (the old expression ${(oldBad / 1e6).toFixed(0)} ms)`);
  results.record({ name: "pathological Range header, request time", value: bad, unit: "ms", baseline: { name: "normal Range request", value: normal }, goal: "ratio ≤ 3", better: "lower" });
  results.record({ name: "Range request time", value: normal, unit: "ms", baseline: { name: "whole cached segment", value: whole }, better: "lower" });
  results.record({ name: "Range parse, bytes=0-99", value: newNormal, unit: "ns", baseline: { name: "the expression it replaced", value: oldNormal }, better: "lower" });
  results.record({ name: "Range parse, pathological header", value: newBad, unit: "ns", baseline: { name: "the expression it replaced", value: oldBad }, better: "lower" });
  ctx.summary.range = `a pathological Range header costs ${(bad / normal).toFixed(2)}x a normal Range request (goal ≤ 3); parsing it takes ${newBad.toFixed(0)} ns, the old expression ${(oldBad / 1e6).toFixed(0)} ms; a normal one ${newNormal.toFixed(0)} ns (${(newNormal / oldNormal).toFixed(2)}x the old expression)`;
}

/**
 * CMCD on every request (what hls.js sends with `cmcd` on): the same cached segment through
 * the shipped Worker with and without a CMCD query of hls.js's shape, alternating, in the
 * same run. Every CMCD request is decoded, checked and batched for the qoe Queue.
 */
async function cmcdCost(ctx: Ctx): Promise<void> {
  const asset = ctx.assets.segments;
  const plain = mediaUrl(ctx, ctx.mediaShipped, asset, "240p/1.m4s");
  const cmcd = `${plain}?CMCD=${encodeURIComponent('bl=8000,br=1200,cid="bench",d=2000,dl=8000,mtp=25000,ot=v,rtp=2700,sf=h,sid="6e2fb550-c457-11e9-bb97-0800200c9a66",st=v')}`;
  await warmMedia(plain, fileSha(asset, "240p/1.m4s"));
  await warmMedia(cmcd, fileSha(asset, "240p/1.m4s"));
  const run = { threads: 2, connections: 16, seconds: 6 };
  const ratios: number[] = [];
  const rows: string[] = [];
  for (let round = 0; round < 4; round++) {
    const order = round % 2 === 0 ? (["plain", "cmcd"] as const) : (["cmcd", "plain"] as const);
    const r = {} as Record<"plain" | "cmcd", WrkResult>;
    for (const name of order) r[name] = await runWrk(name === "plain" ? plain : cmcd, run);
    ratios.push(r.cmcd.requestsPerSec / r.plain.requestsPerSec);
    rows.push(`   round ${round + 1}: without ${r.plain.requestsPerSec.toFixed(1)} req/s, with CMCD ${r.cmcd.requestsPerSec.toFixed(1)} req/s: ${(r.cmcd.requestsPerSec / r.plain.requestsPerSec).toFixed(2)}x${r.cmcd.errors + r.plain.errors > 0 ? `  ERRORS ${r.plain.errors}/${r.cmcd.errors}` : ""}`);
  }
  const ratio = median(ratios);
  console.log(`\n1b. CMCD on every segment request, shipped media Worker (wrk -t${run.threads} -c${run.connections} -d${run.seconds}s, 4 rounds alternating; goal: ratio unchanged, about 1)`);
  for (const row of rows) console.log(row);
  results.record({ name: "throughput with CMCD on every request", value: ratio, unit: "× without", better: "higher" });
  ctx.summary.cmcd = `CMCD on every request: ${ratio.toFixed(2)}x the throughput without (median of 4 rounds, ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`;
}

async function thunderingHerd(ctx: Ctx): Promise<void> {
  const asset = ctx.assets.segments;
  console.log(`\n3. Thundering herd: ${HERD} clients released together on one not-yet-cached segment (goal: 1 R2 read)`);
  const reads: number[] = [];
  let allIntact = true;
  // Segment 1 is cached by now and the index is in isolate memory: only the segment is cold.
  for (const n of [2, 3, 4]) {
    const file = `240p/${n}.m4s`;
    const key = mediaKeys.file(asset.index.assetId, file);
    const sha = fileSha(asset, file);
    const logFrom = ctx.media.log().length;
    const started = performance.now();
    const responses = await releaseTogether(mediaUrl(ctx, ctx.media, asset, file), HERD, "/healthz");
    const ms = performance.now() - started;
    const accessLines = (log: string) => log.split("\n").filter((l) => l.includes('"event":"request"') && l.includes(`/${file}"`));
    const log = await settledLog(ctx.media, logFrom, (l) => accessLines(l).length >= HERD);
    // One R2 read proves little if the requests came one after another: when did the Worker see each start?
    const starts = accessLines(log).map((l) => {
      const entry = JSON.parse(l.slice(l.indexOf("{"))) as { time: string; durationMs: number };
      return Date.parse(entry.time) - entry.durationMs;
    });
    const spread = starts.length ? Math.max(...starts) - Math.min(...starts) : NaN;
    const intact = responses.filter((r) => r.status === 200 && r.sha256 === sha && r.bytes === asset.files.get(file)!.byteLength).length;
    const caches: Record<string, number> = {};
    for (const r of responses) caches[String(r.headers["x-cache"])] = (caches[String(r.headers["x-cache"])] ?? 0) + 1;
    const statuses = [...new Set(responses.map((r) => r.status))].join(",");
    reads.push(r2Reads(log, key));
    allIntact &&= intact === HERD;
    results.record({ name: `thundering herd ${file}: R2 reads for ${HERD} requests at once`, value: reads.at(-1)!, unit: "reads", goal: "= 1", better: "lower" });
    results.record({ name: `thundering herd ${file}: responses complete and correct`, value: intact, unit: `of ${HERD}`, goal: `= ${HERD}`, better: "higher" });
    console.log(
      `   ${file}: R2 reads ${reads.at(-1)}; ${intact}/${HERD} responses complete and correct (status ${statuses}); X-Cache ${Object.entries(caches).map(([k, v]) => `${k}×${v}`).join(" ")}; ${starts.length} requests logged, started within ${spread} ms of each other; ${ms.toFixed(0)} ms in all`,
    );
  }
  ctx.summary.herd = `thundering herd: R2 reads per ${HERD}-request herd ${reads.join(", ")} (goal 1); every response complete and correct: ${allIntact ? "yes" : "NO"}`;
}

type Transfer = {
  label: string;
  /** For the summary line. */
  short: string;
  on: "media" | "shipped";
  asset: SyntheticAsset;
  file: string;
  bytesPerSecond?: number;
  /** Ask, mid-transfer, when the cache fill finished (a tee would hold what the viewer had not read by then). */
  probeFill?: boolean;
  /** A one-byte range of a cold file: answered from R2 while the whole file fills the cache with no tee. */
  rangeFill?: boolean;
};

/**
 * A one-byte range request for a file whose fill is under way waits for that fill (the
 * Worker's single flight) and then answers from the cache: it returns when the fill ends.
 */
async function probeFill(url: string, viewer: { bytes: number }, afterMs: number): Promise<string> {
  await sleep(afterMs);
  const started = performance.now();
  const probe = await download(url, { headers: { Range: "bytes=0-0" } });
  return `a range request sent ${afterMs} ms in came back ${probe.status} X-Cache ${probe.headers["x-cache"]} after ${(performance.now() - started).toFixed(0)} ms, when the viewer had read ${fmtMB(viewer.bytes)}`;
}

function rssLine(r: RssReport, floor: number): string {
  const role = (name: string) => `${name} +${fmtMB((r.peak.byRole[name] ?? 0) - (r.before.byRole[name] ?? 0))}`;
  return `before ${fmtMB(r.before.total)}, peak ${fmtMB(r.peak.total)}, growth +${fmtMB(r.peak.total - r.before.total)} (${role("runtime")}, ${role("proxy")}), after ${fmtMB(r.after.total)}, peak over this server's first floor +${fmtMB(r.peak.total - floor)} [${r.samples} samples, max gap ${r.maxGapMs.toFixed(0)} ms]`;
}

/**
 * Runs before the wrk load, which grows every runtime's allocator by a few hundred MB that
 * it then reuses: on fresh runtimes a transfer's growth shows. Returns the lines to print.
 */
async function memory(ctx: Ctx): Promise<string[]> {
  const { small, mid, large } = ctx.assets;
  const servers = { media: ctx.media, shipped: ctx.mediaShipped };
  const transfers: Transfer[] = [
    // The control: the runtime's own cache.put, with no tee and no viewer.
    { label: "40 MB, cold, Range bytes=0-0: the whole file fills the cache with no tee", short: "40 MB fill without tee", on: "shipped", asset: mid, file: "240p/1.m4s", rangeFill: true },
    { label: "40 MB, cold, viewer reading at full speed (MISS: two R2 reads, no tee above 8 MiB)", short: "40 MB cold", on: "shipped", asset: mid, file: "240p/2.m4s" },
    { label: "2 MB, cold (MISS: tee to viewer and cache)", short: "2 MB cold", on: "media", asset: small, file: "240p/1.m4s" },
    // An allocator keeps and reuses memory it once took, hiding later growth: on this server
    // the slow reader goes first, as the case most likely to hold a whole file.
    { label: "40 MB, cold, viewer reading 10 MB/s (MISS: two R2 reads)", short: "40 MB cold, slow viewer", on: "media", asset: mid, file: "240p/2.m4s", bytesPerSecond: 10 * MB, probeFill: true },
    { label: "40 MB, cold, viewer reading at full speed (MISS: two R2 reads; growth hidden by reuse)", short: "", on: "media", asset: mid, file: "240p/1.m4s" },
    { label: "40 MB, warm (HIT: from the cache)", short: "40 MB warm", on: "media", asset: mid, file: "240p/1.m4s" },
    { label: "200 MB (BYPASS: straight from R2)", short: "200 MB bypass", on: "media", asset: large, file: "240p/1.m4s" },
    { label: "200 MB, viewer reading 50 MB/s (BYPASS)", short: "200 MB bypass, slow viewer", on: "media", asset: large, file: "240p/1.m4s", bytesPerSecond: 50 * MB },
  ];
  const procs = { media: workerdProcesses(ctx.media), shipped: workerdProcesses(ctx.mediaShipped) };
  const lines = [
    `\n4. Memory: RSS of each dev server's workerd processes, sampled every 50 ms; measured before any other load`,
    `   (media: ${procs.media.map((p) => `${p.role} ${p.pid}`).join(", ")}; media-shipped: ${procs.shipped.map((p) => `${p.role} ${p.pid}`).join(", ")})`,
  ];
  const floors: Partial<Record<Transfer["on"], number>> = {};
  const growth: string[] = [];
  for (const t of transfers) {
    // Let the previous transfer's cache fill and garbage settle so "before" is a floor.
    await sleep(1000);
    const url = mediaUrl(ctx, servers[t.on], t.asset, t.file);
    const progress = { bytes: 0 };
    let probe: Promise<string> | undefined;
    let filled: Download | undefined;
    const { result, rss } = await withRssSampling(procs[t.on], 50, async () => {
      if (t.rangeFill) {
        const first = await download(url, { headers: { Range: "bytes=0-0" } });
        // The second waits for the fill under way, so the sampling spans all of it.
        filled = await download(url, { headers: { Range: "bytes=0-0" } });
        return first;
      }
      const transfer = download(url, { timeoutMs: 60_000, progress, ...(t.bytesPerSecond ? { bytesPerSecond: t.bytesPerSecond } : {}) });
      if (t.probeFill) probe = probeFill(url, progress, 300);
      return transfer;
    });
    const floor = (floors[t.on] ??= rss.before.total);
    const expected = t.rangeFill ? 1 : t.asset.files.get(t.file)!.byteLength;
    const sha = fileSha(t.asset, t.file);
    const ok = result.status === (t.rangeFill ? 206 : 200) && result.bytes === expected && (t.rangeFill || result.sha256 === sha);
    lines.push(`   [${t.on === "media" ? "media" : "media-shipped"}] ${t.label}`);
    lines.push(
      `     ${ok ? "ok" : "WRONG"}: status ${result.status}, X-Cache ${result.headers["x-cache"]}, ${result.bytes < MB ? `${result.bytes} B` : fmtMB(result.bytes)} of ${expected < MB ? `${expected} B` : fmtMB(expected)}${t.rangeFill ? "" : `, sha256 ${result.sha256 === sha ? "matches" : "DIFFERS"}`}, ${(result.ms / 1000).toFixed(2)} s${t.rangeFill ? "" : ` (${(result.bytes / MB / (result.ms / 1000)).toFixed(0)} MB/s)`}`,
    );
    if (filled) lines.push(`     fill: the next range request came back ${filled.status} X-Cache ${filled.headers["x-cache"]} after ${(filled.ms / 1000).toFixed(2)} s`);
    lines.push(`     RSS ${rssLine(rss, floor)}`);
    const runtimeGrowth = (rss.peak.byRole.runtime ?? 0) - (rss.before.byRole.runtime ?? 0);
    if (t.short) growth.push(`${t.short} +${fmtMB(runtimeGrowth)}`);
    if (t.short) results.record({ name: `memory: runtime workerd growth, ${t.short}${ok ? "" : " (WRONG response)"}`, value: runtimeGrowth / MB, unit: "MB", better: "lower" });
    if (probe) lines.push(`     fill: ${await probe}`);
  }
  ctx.summary.memory = `memory, runtime workerd growth: ${growth.join("; ")}`;
  return lines;
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const elapsed = () => `${((performance.now() - t0) / 1000).toFixed(0)} s`;
  console.log(`bench:media — wrangler dev on ${cpus().length} cores, Node ${process.version}, load avg ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  await ensureDevVars();
  const keys = await mediaPlaybackKeys();
  await rm(stateRoot, { recursive: true, force: true });
  const state = (name: string) => path.join(stateRoot, name);
  for (const name of ["media", "media-shipped", "baseline"]) await mkdir(state(name), { recursive: true });

  // One `wrangler dev` per Worker: only the first --config of a multi-config dev gets a port
  // (and the --var flags), so each Worker is the primary of its own, with its own state dir.
  const [baselinePinned, mediaPinned, shippedPinned] = await Promise.all([
    pinWorker({ config: baselineConfig, outDir: state("baseline-worker") }),
    // debug: the herd measurement counts the Worker's r2_read lines.
    pinWorker({ config: mediaConfig, outDir: state("media-worker"), vars: { LOG_LEVEL: "debug" }, devVars: mediaDevVars }),
    pinWorker({ config: mediaConfig, outDir: state("media-shipped-worker"), vars: { LOG_LEVEL: "info" }, devVars: mediaDevVars }),
  ]);
  const assets = await buildBenchAssets();
  // The shipped copy needs the throughput segment and one 40 MB file (a fill with no viewer,
  // in a runtime whose allocator has not grown yet); it and the baseline start while the
  // rest uploads (two runtimes must not open one persisted bucket at once).
  await uploadBenchAssets(state("media-shipped"), [assets.segments, assets.mid]);
  const start = (name: string, config: string, readyPath: string) =>
    startDevServer({ name, config, persistTo: state(name), logFile: path.join(stateRoot, `${name}.log`), readyPath });
  const early = Promise.all([start("baseline", baselinePinned, "/"), start("media-shipped", shippedPinned, "/healthz")]);
  early.catch(() => {});
  await uploadBenchAssets(state("media"), Object.values(assets));
  const media = await start("media", mediaPinned, "/healthz");
  const [baseline, mediaShipped] = await early;
  console.log(`setup: 3 wrangler dev servers (media, media-shipped, baseline), each Worker bundled once into ${path.relative(projectRoot, stateRoot)}/ (${elapsed()})`);
  const rssNow = (server: DevServer) =>
    workerdProcesses(server)
      .map((p) => `${p.role} ${fmtMB(rssBytes(p.pid))}`)
      .join(", ");
  console.log(`workerd RSS at start: media ${rssNow(media)}; baseline ${rssNow(baseline)}`);

  const tokens = new Map<string, string>();
  const expiresAt = Math.floor(Date.now() / 1000) + 3600;
  for (const asset of Object.values(assets)) {
    const assetId = asset.index.assetId;
    tokens.set(assetId, await signPlaybackToken({ assetId, accountId: "bench", sessionId: "bench", maxHeight: 4320, expiresAt }, keys));
  }
  const ctx: Ctx = { media, mediaShipped, baseline, assets, tokens, summary: {} };
  const memoryLines = await memory(ctx);
  await throughput(ctx);
  console.log(`   workerd RSS after the memory transfers and the wrk runs: media ${rssNow(media)}; baseline ${rssNow(baseline)}`);
  await cmcdCost(ctx);
  await rangeHeaders(ctx);
  await thunderingHerd(ctx);
  for (const line of memoryLines) console.log(line);
  const reloads = media.reloads() + mediaShipped.reloads() + baseline.reloads();
  if (reloads > 0) console.log(`\nWARNING: wrangler reloaded a Worker ${reloads} time(s) during the run; the numbers are suspect.`);
  const { throughput: t, cmcd: c, range: r, herd: h, memory: m } = ctx.summary;
  console.log(`\nSummary\n${[t, c, r, h, m].map((l) => `  - ${l}`).join("\n")}`);
  console.log(`\ndone in ${elapsed()}; dev server logs in ${path.relative(projectRoot, stateRoot)}/*.log`);
}

let exitCode = 0;
try {
  await main();
} catch (err) {
  console.error(`bench:media failed: ${err instanceof Error ? err.stack : err}`);
  exitCode = 1;
} finally {
  await stopAll();
  // Half a gigabyte of synthetic media is no use after the run; the logs stay for reading.
  for (const name of ["media", "media-shipped", "baseline"]) await rm(path.join(stateRoot, name), { recursive: true, force: true });
}
process.exit(exitCode);
