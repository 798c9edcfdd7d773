// `npm run bench:catalog`: search and list latency (p50, p95) with ~1,000 titles and
// again with 100,000, measured in the same run against `npm run dev`, and the ratio.
import { readFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { chunkLines, postChunk } from "../catalog-import.ts";
import { readDevVar } from "../dev-vars.ts";
import { startPlatform } from "../platform.ts";
import { projectRoot } from "../project.ts";
import { benchResults } from "./results.ts";

const SMALL = 1_000;
const LARGE = 100_000;
const SAMPLES = 60;

/** A small deterministic PRNG: the same catalog every run. */
function prng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

const words = ("amber anchor arrow atlas aurora autumn beacon blossom border bridge canyon cascade cedar cinder circuit " +
  "cobalt comet compass copper coral crystal cypress dawn delta desert drift echo ember falcon fern frontier galaxy " +
  "garden glacier harbor harvest hollow horizon island ivory jasper juniper lantern legend lighthouse lotus marble meadow " +
  "meridian midnight mirror monsoon nebula north ocean orchard orbit paper pepper prairie quartz quiet raven river " +
  "saffron signal silver solstice sparrow spirit summit tempest thunder tide timber valley velvet voyage willow winter").split(" ");
const ratings = ["G", "PG", "PG-13", "R", "TV-Y", "TV-Y7", "TV-PG", "TV-14", "TV-MA"];

function syntheticLines(from: number, to: number, genres: string[]): string[] {
  const lines: string[] = [];
  for (let i = from; i < to; i++) {
    const r = prng(i + 1);
    const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)]!;
    const name = `${pick(words)} ${pick(words)} ${pick(words)}`.replace(/\b\w/g, (c) => c.toUpperCase());
    lines.push(
      JSON.stringify({
        id: `bench-${i}`,
        kind: r() < 0.8 ? "movie" : "series",
        name,
        synopsis: `A story of ${pick(words)} and ${pick(words)} near the ${pick(words)} ${pick(words)}.`,
        releaseYear: 1950 + Math.floor(r() * 77),
        maturityRating: pick(ratings),
        popularity: Math.round(r() * 1000),
        genres: [pick(genres)],
        credits: [{ name: `${pick(words)} ${pick(words)}`.replace(/\b\w/g, (c) => c.toUpperCase()), role: "cast" }],
      }),
    );
  }
  return lines;
}

async function importLines(api: string, token: string, lines: string[]): Promise<number> {
  const started = performance.now();
  for await (const chunk of chunkLines(lines, 5_000)) {
    const report = await postChunk(api, token, chunk.body);
    if (report.failedCount > 0) throw new Error(`import failed on ${report.failedCount} lines: ${JSON.stringify(report.failed.slice(0, 2))}`);
  }
  return (performance.now() - started) / 1000;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Sequential requests, each a cache miss (a unique, ignored parameter), timed end to end. */
async function latencies(urls: string[]): Promise<{ p50: number; p95: number }> {
  const times: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const url = `${urls[i % urls.length]}${urls[i % urls.length]!.includes("?") ? "&" : "?"}bench=${Date.now()}-${i}`;
    const started = performance.now();
    const res = await fetch(url);
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`${url}: ${res.status}`);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p95: percentile(times, 95) };
}

async function measure(api: string) {
  return {
    list: await latencies([`${api}/v1/titles?sort=popularity`, `${api}/v1/titles?sort=newest`, `${api}/v1/titles?genre=drama`, `${api}/v1/titles?type=series&sort=newest`]),
    search: await latencies([`${api}/v1/search?q=lighthouse`, `${api}/v1/search?q=amber%20riv`, `${api}/v1/search?q=keyfrmes`, `${api}/v1/search?q=silver`]),
  };
}

const work = await mkdtemp(path.join(tmpdir(), "marquee-bench-catalog-"));
const platform = await startPlatform({ stateDir: path.join(work, "state"), logFile: path.join(work, "dev.log") });
try {
  const token = await readDevVar("ADMIN_TOKEN");
  const demo = JSON.parse(await readFile(path.join(projectRoot, "demo/catalog.json"), "utf8")) as { genres: { id: string }[]; titles: unknown[] };
  const genres = demo.genres.map((g) => g.id);
  const smallExtra = SMALL - demo.titles.length;
  const t1 = await importLines(platform.url, token, syntheticLines(0, smallExtra, genres));
  const small = await measure(platform.url);
  const t2 = await importLines(platform.url, token, syntheticLines(smallExtra, LARGE - demo.titles.length, genres));
  const large = await measure(platform.url);
  const row = (label: string, a: { p50: number; p95: number }, b: { p50: number; p95: number }) =>
    `   ${label.padEnd(8)} p50 ${a.p50.toFixed(1).padStart(6)} ms -> ${b.p50.toFixed(1).padStart(6)} ms (x${(b.p50 / a.p50).toFixed(2)})   p95 ${a.p95.toFixed(1).padStart(6)} ms -> ${b.p95.toFixed(1).padStart(6)} ms (x${(b.p95 / a.p95).toFixed(2)})`;
  console.log(`bench:catalog — npm run dev on this machine, ${SAMPLES} sequential uncached requests per figure (goal: 100,000 within 2x of 1,000)`);
  console.log(`   imported ${smallExtra} titles in ${t1.toFixed(1)} s, then ${LARGE - SMALL} more in ${t2.toFixed(1)} s (${Math.round((LARGE - SMALL) / t2)} titles/s)`);
  console.log(`            ${SMALL.toLocaleString("en")} titles      ->   ${LARGE.toLocaleString("en")} titles`);
  console.log(row("list", small.list, large.list));
  console.log(row("search", small.search, large.search));

  const results = benchResults("catalog");
  results.record({ name: `import rate (${(LARGE - SMALL).toLocaleString("en")} titles)`, value: (LARGE - SMALL) / t2, unit: "titles/s", better: "higher" });
  for (const kind of ["list", "search"] as const)
    for (const p of ["p50", "p95"] as const)
      results.record({
        name: `${kind} ${p}, ${LARGE.toLocaleString("en")} titles`,
        value: large[kind][p],
        unit: "ms",
        baseline: { name: `${kind} ${p}, ${SMALL.toLocaleString("en")} titles`, value: small[kind][p] },
        goal: "ratio ≤ 2",
        better: "lower",
      });
} finally {
  await platform.stop();
  await rm(work, { recursive: true, force: true });
}
