// `npm run bench:ingest`: what per-title packaging chooses and costs for a simple and a
// complex source, how fast the upload protocol moves bytes, and what finding a season's
// intros, recaps and credits costs — each beside a baseline from the same run (one plain
// top-rung encode; bare PUTs of the same bytes; the same episodes' packaging).
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import path from "node:path";
import { readDevVar } from "../dev-vars.ts";
import { AdminApi } from "../ingest/admin-api.ts";
import { packageAsset, type PackageResult } from "../ingest/package-asset.ts";
import { uploadAsset } from "../ingest/upload.ts";
import { analyzeEpisode } from "../ingest/segments/analyze.ts";
import { detectSeason } from "../ingest/segments/detect-season.ts";
import { makeSyntheticSeason } from "../ingest/segments/synthetic-season.ts";
import { startPlatform } from "../platform.ts";
import { projectRoot } from "../project.ts";
import { startDevServer, stopAll } from "./dev-server.ts";
import { pinWorker } from "./pinned-worker.ts";
import { benchResults } from "./results.ts";

const SECONDS = 10;
const figures = benchResults("ingest");
const sources = {
  simple: `testsrc=size=1280x720:rate=30:duration=${SECONDS}`,
  complex: `testsrc2=size=1280x720:rate=30:duration=${SECONDS},noise=alls=60:allf=t+u`,
};

function ffmpeg(args: string[]): number {
  const started = performance.now();
  const res = spawnSync("ffmpeg", ["-v", "error", "-y", ...args], { encoding: "utf8" });
  if (res.status !== 0) throw new Error(`ffmpeg failed: ${res.stderr}`);
  return (performance.now() - started) / 1000;
}

/** The yardstick: one single-threaded x264 encode of the top rung alone, at the packager's preset. */
function baselineEncodeSec(clip: string, kbps: number): number {
  return ffmpeg(["-i", clip, "-an", "-c:v", "libx264", "-preset", "medium", "-threads", "1", "-b:v", `${kbps}k`, "-f", "null", "-"]);
}

async function packaging(work: string): Promise<Record<keyof typeof sources, PackageResult>> {
  const results = {} as Record<keyof typeof sources, PackageResult>;
  console.log(`\n1. Per-title packaging of ${SECONDS} s 1280x720 30 fps sources (${cpus().length} cores)`);
  for (const [name, graph] of Object.entries(sources) as [keyof typeof sources, string][]) {
    const clip = path.join(work, `${name}.mp4`);
    ffmpeg(["-f", "lavfi", "-i", graph, "-f", "lavfi", "-i", `sine=frequency=440:duration=${SECONDS}`, "-c:v", "libx264", "-crf", "12", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", clip]);
    const result = await packageAsset({ input: { kind: "file", path: clip }, assetId: `bench-${name}`, outDir: path.join(work, `bench-${name}`) });
    results[name] = result;
    const r = result.report;
    const top = r.ladder.at(-1)!;
    const baseline = baselineEncodeSec(clip, top.kbps);
    console.log(`   ${name}: complexity factor ${r.complexity!.factor.toFixed(2)} (measured ${Math.round(r.complexity!.measuredKbps)} kb/s at 360p CRF 23)`);
    console.log(`      ladder: ${r.ladder.map((g) => `${g.id} ${g.kbps} kb/s`).join(", ")}`);
    console.log(`      measured: ${result.index.video.map((v) => `${v.id} peak ${Math.round(v.bandwidth / 1000)} / avg ${Math.round(v.averageBandwidth / 1000)}`).join(", ")} kb/s`);
    console.log(`      encode ${r.encodeSec.toFixed(1)} s = ${r.realtimeFactor.toFixed(2)}x real time (${r.jobs} parallel ffmpeg); baseline one ${top.id} encode ${baseline.toFixed(1)} s = ${(SECONDS / baseline).toFixed(2)}x real time; ladder/baseline time ${(r.encodeSec / baseline).toFixed(2)}`);
    figures.record({ name: `${name} source: complexity factor (360p CRF 23 kb/s ÷ 600; the ladder clamps it to 0.35–2)`, value: r.complexity!.factor, unit: "", better: "lower" });
    figures.record({ name: `${name} source: top rung ${top.id}`, value: top.kbps, unit: "kb/s", better: "lower" });
    figures.record({ name: `${name} source: packaging time`, value: r.encodeSec, unit: "s", baseline: { name: `one ${top.id} encode`, value: baseline }, better: "lower" });
    figures.record({ name: `${name} source: packaging speed`, value: r.realtimeFactor, unit: "x real time", better: "higher" });
  }
  const [s, c] = [results.simple.report.ladder, results.complex.report.ladder];
  console.log(`   the ladders differ: ${s.map((g, i) => `${g.id} ${g.kbps} vs ${c[i]!.kbps}`).join(", ")} kb/s (simple vs complex)`);
  return results;
}

async function upload(work: string, packaged: PackageResult): Promise<void> {
  const platform = await startPlatform({ stateDir: path.join(work, "platform-state"), logFile: path.join(work, "platform.log") });
  try {
    const pinned = await pinWorker({ config: path.join(projectRoot, "tools/bench/baseline.wrangler.toml"), outDir: path.join(work, "baseline-worker") });
    const baseline = await startDevServer({ name: "baseline", config: pinned, persistTo: path.join(work, "baseline-state"), logFile: path.join(work, "baseline.log"), readyPath: "/" });
    const files = await Promise.all(packaged.index.files.map(async (f) => ({ path: f.path, bytes: new Uint8Array(await readFile(path.join(packaged.dir, f.path))) })));
    const total = files.reduce((sum, f) => sum + f.bytes.byteLength, 0);

    // Bare PUTs of the same bytes, four at a time, to a Worker that only caches them.
    const started = performance.now();
    const queue = [...files];
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let f = queue.shift(); f; f = queue.shift()) {
          const res = await fetch(`${baseline.url}/${f.path}`, { method: "PUT", body: f.bytes });
          if (res.status !== 201) throw new Error(`baseline PUT ${f.path}: ${res.status}`);
        }
      }),
    );
    const baseSec = (performance.now() - started) / 1000;

    const api = new AdminApi(platform.url, await readDevVar("ADMIN_TOKEN"));
    const report = await uploadAsset(api, packaged.dir, packaged.index);
    const publishStart = performance.now();
    await api.publish(packaged.index.assetId, {});
    const publishSec = (performance.now() - publishStart) / 1000;
    const mbps = (bytes: number, sec: number) => (bytes / 1e6 / sec).toFixed(1);
    console.log(`\n2. Upload of the complex asset to npm run dev: ${files.length} files, ${(total / 1e6).toFixed(1)} MB`);
    console.log(`   ingest upload (index, verified R2 writes, 4 at a time): ${report.seconds.toFixed(2)} s = ${mbps(report.uploadedBytes, report.seconds)} MB/s; publish (verify every file) ${publishSec.toFixed(2)} s`);
    console.log(`   baseline (bare PUTs to a caching Worker, 4 at a time): ${baseSec.toFixed(2)} s = ${mbps(total, baseSec)} MB/s`);
    console.log(`   ingest/baseline throughput ${(baseSec / report.seconds).toFixed(2)}`);
    figures.record({ name: `upload throughput (${files.length} files, ${(total / 1e6).toFixed(1)} MB)`, value: report.uploadedBytes / 1e6 / report.seconds, unit: "MB/s", baseline: { name: "bare PUTs", value: total / 1e6 / baseSec }, better: "higher" });
    figures.record({ name: "publish (verify every file)", value: publishSec, unit: "s", better: "lower" });
  } finally {
    await platform.stop();
    await stopAll();
  }
}

/**
 * Skip-segment detection per episode (its analysis: audio fingerprints of head and tail,
 * the tail's dark pictures and scene changes) against the same episode's packaging, and
 * the season's matching. Goal: detection ≤ 0.2 × encode time.
 */
async function detection(work: string): Promise<void> {
  const episodes = 3;
  const durationSec = 120;
  const season = await makeSyntheticSeason(path.join(work, "season"), { episodes, seed: 5, durationSec, width: 1280, height: 720 });
  console.log(`\n3. Intro, recap and credits detection on a synthetic season: ${episodes} episodes of ${durationSec} s at 1280x720`);
  let encodeTotal = 0;
  let analyseTotal = 0;
  const analyses = [];
  for (const [i, file] of season.files.entries()) {
    const packaged = await packageAsset({ input: { kind: "file", path: file }, assetId: `bench-episode-${i + 1}`, outDir: path.join(work, `episode-${i + 1}`) });
    const started = performance.now();
    analyses.push(await analyzeEpisode(file, { assetId: `bench-episode-${i + 1}` }));
    const analyseSec = (performance.now() - started) / 1000;
    encodeTotal += packaged.report.encodeSec;
    analyseTotal += analyseSec;
    console.log(`   episode ${i + 1}: packaging ${packaged.report.encodeSec.toFixed(1)} s, detection analysis ${analyseSec.toFixed(2)} s: ratio ${(analyseSec / packaged.report.encodeSec).toFixed(3)}`);
  }
  const matchStart = performance.now();
  const found = detectSeason(analyses);
  const matchSec = (performance.now() - matchStart) / 1000;
  console.log(`   season matching (all episodes): ${(matchSec * 1000).toFixed(0)} ms; found ${found.map((list, i) => `E${i + 1} ${list.map((s) => s.kind).join("+") || "none"}`).join(", ")}`);
  const perEpisode = analyseTotal / episodes + matchSec / episodes;
  console.log(`   detection per episode ${perEpisode.toFixed(2)} s vs packaging ${(encodeTotal / episodes).toFixed(1)} s: ratio ${(perEpisode / (encodeTotal / episodes)).toFixed(3)} (goal ≤ 0.2)`);
  figures.record({ name: "skip-segment detection per episode (120 s at 720p)", value: perEpisode, unit: "s", baseline: { name: "the episode's packaging", value: encodeTotal / episodes }, better: "lower" });
}

if (spawnSync("ffmpeg", ["-version"], { stdio: "ignore" }).status !== 0) {
  console.error("bench:ingest needs ffmpeg: sudo apt-get install -y ffmpeg");
  process.exit(1);
}
const work = await mkdtemp(path.join(tmpdir(), "marquee-bench-ingest-"));
try {
  const packaged = await packaging(work);
  await upload(work, packaged.complex);
  await detection(work);
} finally {
  await rm(work, { recursive: true, force: true });
}
