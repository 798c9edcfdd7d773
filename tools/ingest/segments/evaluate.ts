// `npm run eval:segments [-- --episodes N --seeds 1,2,3 --duration S --algorithms chromaprint,marquee-pcm --verbose]`:
// generates synthetic seasons (synthetic-season.ts), analyses and detects them as ingest
// would (analyze.ts, detect-season.ts), and prints precision and recall of boundaries
// within ±1 s per kind and fingerprint, and the time each episode took.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { isVisible, detectSeason } from "./detect-season.ts";
import { analyzeEpisode } from "./analyze.ts";
import { chromaprintAvailable } from "./fingerprint.ts";
import type { FingerprintAlgorithm } from "./profiles.ts";
import { BOUNDARY_TOLERANCE_SEC, precision, recall, scoreEpisode, sumScores, type KindScore } from "./score.ts";
import { makeSyntheticSeason } from "./synthetic-season.ts";

const { values: args } = parseArgs({
  options: {
    episodes: { type: "string", default: "4" },
    seeds: { type: "string", default: "1,2,3" },
    duration: { type: "string" },
    algorithms: { type: "string", default: "chromaprint,marquee-pcm" },
    verbose: { type: "boolean", default: false },
  },
});

const episodes = Number(args.episodes);
const seeds = args.seeds.split(",").map(Number);
const durationSec = args.duration === undefined ? undefined : Number(args.duration);
let algorithms = args.algorithms.split(",") as FingerprintAlgorithm[];
if (!(episodes >= 1) || seeds.some((s) => !Number.isInteger(s)) || algorithms.some((a) => a !== "chromaprint" && a !== "marquee-pcm")) {
  console.error("usage: evaluate.ts [--episodes N] [--seeds 1,2,3] [--duration S] [--algorithms chromaprint,marquee-pcm] [--verbose]");
  process.exit(2);
}
if (algorithms.includes("chromaprint") && !(await chromaprintAvailable())) {
  console.log("this ffmpeg has no chromaprint muxer: evaluating marquee-pcm only");
  algorithms = algorithms.filter((a) => a !== "chromaprint");
  if (algorithms.length === 0) process.exit(2);
}

type Run = { scores: KindScore[][]; visibleScores: KindScore[][]; analyzeMs: number[]; detectMs: number[] };
const runs = new Map<FingerprintAlgorithm, Run>(algorithms.map((a) => [a, { scores: [], visibleScores: [], analyzeMs: [], detectMs: [] }]));
const work = await mkdtemp(path.join(tmpdir(), "marquee-eval-segments-"));
try {
  for (const seed of seeds) {
    const started = performance.now();
    const season = await makeSyntheticSeason(path.join(work, `seed-${seed}`), { episodes, seed, ...(durationSec ? { durationSec } : {}) });
    console.log(`seed ${seed}: ${episodes} episodes generated in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    for (const algorithm of algorithms) {
      const run = runs.get(algorithm)!;
      const analyses = [];
      for (const [i, file] of season.files.entries()) {
        const t0 = performance.now();
        analyses.push(await analyzeEpisode(file, { assetId: `seed-${seed}-ep-${i + 1}`, forceFallback: algorithm === "marquee-pcm" }));
        run.analyzeMs.push(performance.now() - t0);
      }
      const t0 = performance.now();
      const detected = detectSeason(analyses);
      const detectMs = performance.now() - t0;
      detected.forEach((found, i) => {
        run.detectMs.push(detectMs / detected.length);
        run.scores.push(scoreEpisode(season.truth[i]!, found));
        run.visibleScores.push(scoreEpisode(season.truth[i]!, found.filter(isVisible)));
        if (args.verbose) {
          const show = (list: { kind: string; startSec: number; endSec: number; confidence?: number }[]) =>
            list.map((s) => `${s.kind} ${s.startSec.toFixed(2)}-${s.endSec.toFixed(2)}${s.confidence === undefined ? "" : ` (${s.confidence.toFixed(2)})`}`).join(", ");
          console.log(`  ${algorithm} ep ${i + 1}\n    truth    ${show(season.truth[i]!)}\n    detected ${show(found)}`);
        }
      });
    }
  }
} finally {
  await rm(work, { recursive: true, force: true });
}

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
console.log(`\nboundaries within ±${BOUNDARY_TOLERANCE_SEC} s; seeds ${seeds.join(",")}; ${episodes} episodes each${durationSec ? ` of ${durationSec} s` : ""}`);
console.log("fingerprint   kind     truth  found  TP   precision  recall   mean |error|  (shown only: precision, recall)");
for (const [algorithm, run] of runs) {
  const all = sumScores(run.scores);
  const visible = sumScores(run.visibleScores);
  all.forEach((s, i) => {
    const v = visible[i]!;
    const mae = mean(s.errors.map(Math.abs));
    console.log(
      `${algorithm.padEnd(13)} ${s.kind.padEnd(8)} ${String(s.truth).padStart(5)}  ${String(s.detected).padStart(5)}  ${String(s.truePositives).padStart(3)}  ${pct(precision(s)).padStart(9)}  ${pct(recall(s)).padStart(7)}  ${mae.toFixed(2).padStart(8)} s     (${pct(precision(v))}, ${pct(recall(v))})`,
    );
  });
  if (args.verbose) {
    for (const s of all) {
      const signed = (xs: number[]) => (xs.length ? `${mean(xs) >= 0 ? "+" : ""}${mean(xs).toFixed(2)} s (${Math.min(...xs).toFixed(2)}..${Math.max(...xs).toFixed(2)})` : "-");
      console.log(`${algorithm.padEnd(13)} ${s.kind.padEnd(8)} signed error: start ${signed(s.startErrors)}, end ${signed(s.endErrors)}`);
    }
  }
  const sorted = [...run.analyzeMs].sort((a, b) => a - b);
  console.log(
    `${algorithm.padEnd(13)} per episode: analysis ${(mean(run.analyzeMs) / 1000).toFixed(2)} s mean, ${(sorted[sorted.length - 1]! / 1000).toFixed(2)} s max; detection ${mean(run.detectMs).toFixed(1)} ms mean`,
  );
}
