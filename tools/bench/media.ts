// `npm run bench:media`: measures the media Worker under `wrangler dev` against baselines taken in the same run, and prints (never asserts) the results.
import { readFileSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parsePlaybackKeys, signPlaybackToken, type PlaybackKeys } from "../../lib/playback-token.ts";
import { mediaKeys } from "../../lib/media-layout.ts";
import type { SyntheticAsset } from "../../test-support/synthetic-asset.ts";
import { ensureDevVars } from "../dev-vars.ts";
import { mediaConfig, projectRoot } from "../project.ts";
import { killAllNow, startDevServer, stopAll, workerdProcesses, type DevServer } from "./dev-server.ts";
import { download, releaseTogether, type Download } from "./http-client.ts";
import { withRssSampling, type RssReport } from "./rss.ts";
import { MB, buildBenchAssets, uploadBenchAssets, type BenchAssets } from "./seed-bench.ts";
import { runWrk, wrkAvailable, type WrkResult } from "./wrk.ts";

const stateRoot = path.join(projectRoot, ".wrangler/bench-state");
const baselineConfig = path.join(projectRoot, "tools/bench/baseline.wrangler.toml");
const HERD = 50;
/** The whole run normally takes about two minutes; past this something hangs. */
const WATCHDOG_MS = 240_000;

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
  const text = readFileSync(path.join(projectRoot, "workers/media/.dev.vars"), "utf8");
  const spec = /^PLAYBACK_TOKEN_KEYS=(.*)$/m.exec(text)?.[1];
  if (!spec) throw new Error("workers/media/.dev.vars has no PLAYBACK_TOKEN_KEYS");
  return parsePlaybackKeys(spec.trim());
}

type Ctx = { media: DevServer; baseline: DevServer; assets: BenchAssets; tokens: Map<string, string> };

function mediaUrl(ctx: Ctx, asset: SyntheticAsset, file: string): string {
  return `${ctx.media.url}/p/${ctx.tokens.get(asset.index.assetId)}/${asset.index.assetId}/${file}`;
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
async function settledLog(server: DevServer, done: (log: string) => boolean): Promise<string> {
  for (let i = 0; i < 20; i++) {
    const log = server.log();
    if (done(log)) return log;
    await sleep(50);
  }
  return server.log();
}

const runs = [
  { threads: 2, connections: 16, seconds: 10 },
  { threads: 2, connections: 4, seconds: 10 },
  { threads: 1, connections: 1, seconds: 10 },
];

async function throughput(ctx: Ctx): Promise<void> {
  const asset = ctx.assets.segments;
  const file = "240p/1.m4s";
  const bytes = asset.files.get(file)!;
  const sha = fileSha(asset, file);
  const media = mediaUrl(ctx, asset, file);
  const baseline = `${ctx.baseline.url}/${asset.index.assetId}/${file}`;

  // Warm: the media Worker fills its cache on the first GET; the baseline is given the bytes.
  const logBefore = ctx.media.log().length;
  const first = await download(media);
  if (first.status !== 200 || first.sha256 !== sha) throw new Error(`media ${file}: status ${first.status}, sha ${first.sha256 === sha ? "ok" : "WRONG"}`);
  let cache = String(first.headers["x-cache"]);
  for (let i = 0; i < 40 && cache !== "HIT"; i++) {
    await sleep(100);
    const again = await download(media);
    cache = String(again.headers["x-cache"]);
  }
  if (cache !== "HIT") throw new Error(`media ${file} never came from the cache (X-Cache ${cache})`);
  const put = await download(baseline, { method: "PUT", body: bytes, headers: { "Content-Type": "video/iso.segment" } });
  const check = await download(baseline);
  if (put.status !== 201 || check.status !== 200 || check.sha256 !== sha) throw new Error(`baseline did not cache the segment (PUT ${put.status}, GET ${check.status})`);
  const readsLog = await settledLog(ctx.media, (log) => r2Reads(log.slice(logBefore), mediaKeys.file(asset.index.assetId, file)) > 0);
  const warmReads = r2Reads(readsLog.slice(logBefore), mediaKeys.file(asset.index.assetId, file));

  for (const url of [baseline, media]) await runWrk(url, { threads: 2, connections: 4, seconds: 2 });

  console.log(`\n1. Throughput: one cached ${fmtMB(bytes.byteLength)} segment, wrk ${runs[0]!.seconds} s per run (load avg ${loadavg()[0]!.toFixed(2)})`);
  console.log(`   media warm-up: X-Cache HIT, ${warmReads} r2_read line(s) for the segment (LOG_LEVEL=debug reaches the media Worker: ${warmReads > 0 ? "yes" : "NO"})`);
  console.log(`   ${"wrk".padEnd(10)} ${pad("baseline req/s", 15)} ${pad("MB/s", 8)} ${pad("media req/s", 12)} ${pad("MB/s", 8)} ${pad("media/baseline", 15)}  latency p99 base / media`);
  for (const run of runs) {
    // Alternating the order cancels some of the drift of a shared, noisy machine.
    const order: ["baseline" | "media", string][] = runs.indexOf(run) % 2 === 0 ? [["baseline", baseline], ["media", media]] : [["media", media], ["baseline", baseline]];
    const results: Partial<Record<"baseline" | "media", WrkResult>> = {};
    for (const [name, url] of order) results[name] = await runWrk(url, run);
    const b = results.baseline!;
    const m = results.media!;
    const mbps = (r: WrkResult) => ((r.requestsPerSec * bytes.byteLength) / MB).toFixed(1);
    const errors = b.errors + m.errors > 0 ? `  (ERRORS: baseline ${b.errors}, media ${m.errors})` : "";
    console.log(
      `   ${`-t${run.threads} -c${run.connections}`.padEnd(10)} ${pad(b.requestsPerSec.toFixed(1), 15)} ${pad(mbps(b), 8)} ${pad(m.requestsPerSec.toFixed(1), 12)} ${pad(mbps(m), 8)} ${pad((m.requestsPerSec / b.requestsPerSec).toFixed(2), 15)}  ${b.latencyP99} / ${m.latencyP99}${errors}`,
    );
  }
}

async function thunderingHerd(ctx: Ctx): Promise<void> {
  const asset = ctx.assets.segments;
  console.log(`\n2. Thundering herd: ${HERD} clients released together on one not-yet-cached segment (goal: 1 R2 read)`);
  // Segment 1 is cached by now and the index is in isolate memory: only the segment is cold.
  for (const n of [2, 3, 4]) {
    const file = `240p/${n}.m4s`;
    const key = mediaKeys.file(asset.index.assetId, file);
    const sha = fileSha(asset, file);
    const logBefore = ctx.media.log().length;
    const started = performance.now();
    const responses = await releaseTogether(mediaUrl(ctx, asset, file), HERD, "/healthz");
    const ms = performance.now() - started;
    const accessLines = (log: string) => log.split("\n").filter((l) => l.includes('"event":"request"') && l.includes(`/${file}"`)).length;
    const log = (await settledLog(ctx.media, (l) => accessLines(l.slice(logBefore)) >= HERD)).slice(logBefore);
    const intact = responses.filter((r) => r.status === 200 && r.sha256 === sha && r.bytes === asset.files.get(file)!.byteLength).length;
    const caches: Record<string, number> = {};
    for (const r of responses) caches[String(r.headers["x-cache"])] = (caches[String(r.headers["x-cache"])] ?? 0) + 1;
    const statuses = [...new Set(responses.map((r) => r.status))].join(",");
    console.log(
      `   ${file}: R2 reads ${r2Reads(log, key)}; ${intact}/${HERD} responses complete and correct (status ${statuses}); X-Cache ${Object.entries(caches).map(([k, v]) => `${k}×${v}`).join(" ")}; ${ms.toFixed(0)} ms`,
    );
  }
}

type Transfer = { label: string; asset: SyntheticAsset; file: string; bytesPerSecond?: number };

function rssLine(r: RssReport): string {
  const role = (name: string) => {
    const before = r.before.byRole[name] ?? 0;
    return `${name} ${fmtMB(before)}→${fmtMB(r.peak.byRole[name] ?? 0)} (+${fmtMB((r.peak.byRole[name] ?? 0) - before)})`;
  };
  return `before ${fmtMB(r.before.total)}, peak ${fmtMB(r.peak.total)}, growth +${fmtMB(r.peak.total - r.before.total)}, after ${fmtMB(r.after.total)} | ${role("runtime")}, ${role("proxy")} | ${r.samples} samples, max gap ${r.maxGapMs.toFixed(0)} ms`;
}

async function memory(ctx: Ctx): Promise<void> {
  const { small, mid, large } = ctx.assets;
  const procs = workerdProcesses(ctx.media);
  const transfers: Transfer[] = [
    { label: "2 MB, cold (MISS: R2 tee'd into the cache)", asset: small, file: "240p/1.m4s" },
    { label: "40 MB, cold (MISS: R2 tee'd into the cache)", asset: mid, file: "240p/1.m4s" },
    { label: "40 MB, warm (HIT: from the cache)", asset: mid, file: "240p/1.m4s" },
    { label: "200 MB (BYPASS: straight from R2)", asset: large, file: "240p/1.m4s" },
    { label: "40 MB, cold, viewer reading 10 MB/s", asset: mid, file: "240p/2.m4s", bytesPerSecond: 10 * MB },
    { label: "200 MB, viewer reading 50 MB/s", asset: large, file: "240p/1.m4s", bytesPerSecond: 50 * MB },
  ];
  console.log(`\n3. Memory: workerd RSS of the media dev server (pids ${procs.map((p) => `${p.pid} ${p.role}`).join(", ")}), sampled every 50 ms`);
  for (const t of transfers) {
    // Let the previous transfer's cache fill and garbage settle so "before" is a floor.
    await sleep(1000);
    const { result, rss } = await withRssSampling(procs, 50, () =>
      download(mediaUrl(ctx, t.asset, t.file), { timeoutMs: 60_000, ...(t.bytesPerSecond ? { bytesPerSecond: t.bytesPerSecond } : {}) }),
    );
    const expected = t.asset.files.get(t.file)!.byteLength;
    const ok = (d: Download) => d.status === 200 && d.bytes === expected && d.sha256 === fileSha(t.asset, t.file);
    console.log(`   ${t.label}`);
    console.log(
      `     ${ok(result) ? "ok" : "WRONG"}: status ${result.status}, X-Cache ${result.headers["x-cache"]}, ${fmtMB(result.bytes)} of ${fmtMB(expected)}, sha256 ${result.sha256 === fileSha(t.asset, t.file) ? "matches" : "DIFFERS"}, ${(result.ms / 1000).toFixed(2)} s (${(result.bytes / MB / (result.ms / 1000)).toFixed(0)} MB/s)`,
    );
    console.log(`     RSS ${rssLine(rss)}`);
  }
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const elapsed = () => `${((performance.now() - t0) / 1000).toFixed(0)} s`;
  console.log(`bench:media — wrangler dev on ${cpus().length} cores, Node ${process.version}, load avg ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  await ensureDevVars();
  const keys = await mediaPlaybackKeys();
  await rm(stateRoot, { recursive: true, force: true });
  const mediaState = path.join(stateRoot, "media");
  const baselineState = path.join(stateRoot, "baseline");
  await mkdir(mediaState, { recursive: true });
  await mkdir(baselineState, { recursive: true });

  // Two processes, because only the first --config of a multi-config `wrangler dev` gets a
  // port (and the --var flags): each Worker is primary in its own, with its own state.
  const baselineReady = startDevServer({
    name: "baseline",
    config: baselineConfig,
    persistTo: baselineState,
    logFile: path.join(stateRoot, "baseline.log"),
    readyPath: "/",
  });
  baselineReady.catch(() => {});
  const assets = await buildBenchAssets();
  await uploadBenchAssets(mediaState, assets);
  console.log(`setup: assets built and uploaded to ${path.relative(projectRoot, mediaState)} (${elapsed()})`);
  const media = await startDevServer({
    name: "media",
    config: mediaConfig,
    persistTo: mediaState,
    logFile: path.join(stateRoot, "media.log"),
    vars: { LOG_LEVEL: "debug" },
    readyPath: "/healthz",
  });
  const baseline = await baselineReady;
  console.log(`setup: media Worker on ${media.url}, baseline Worker on ${baseline.url} (${elapsed()})`);

  const tokens = new Map<string, string>();
  const expiresAt = Math.floor(Date.now() / 1000) + 3600;
  for (const asset of Object.values(assets)) {
    const assetId = asset.index.assetId;
    tokens.set(assetId, await signPlaybackToken({ assetId, accountId: "bench", sessionId: "bench", maxHeight: 4320, expiresAt }, keys));
  }
  const ctx: Ctx = { media, baseline, assets, tokens };
  await throughput(ctx);
  await thunderingHerd(ctx);
  await memory(ctx);
  console.log(`\ndone in ${elapsed()}; dev server logs in ${path.relative(projectRoot, stateRoot)}/`);
}

let exitCode = 0;
try {
  await main();
} catch (err) {
  console.error(`bench:media failed: ${err instanceof Error ? err.stack : err}`);
  exitCode = 1;
} finally {
  await stopAll();
}
process.exit(exitCode);
