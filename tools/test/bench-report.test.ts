// docs/benchmarks.md and its charts, rendered from a fixed results object: the tables say
// what was measured against what, failures and earlier runs are marked, the SVG is
// well-formed XML; and a bench script's figures reach BENCH_RESULT_FILE.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { afterAll, describe, expect, it } from "vitest";
import { figureTable, fmtNumber, goalMet, latencyChart, parseGoal, ratioChart, renderAll, renderMarkdown, type BenchRun, type Machine, type Results } from "../bench/report.ts";
import { benchResults, ratioOf, resultFile, type Figure } from "../bench/results.ts";

const machine: Machine = {
  os: "Debian GNU/Linux 12 (bookworm)",
  kernel: "Linux 6.1.0 x64",
  cpu: "AMD EPYC <test> & co",
  cores: 2,
  ramBytes: 24 * 1024 ** 3,
  node: "v22.18.0",
  wrangler: "4.164.0",
  commit: "0123456789abcdef0123456789abcdef01234567",
  dirty: true,
};

const fig = (bench: string, f: Omit<Figure, "bench" | "ratio">): Figure => ({ bench, ...f, ratio: ratioOf(f.value, f.baseline) });

const LAST = "2026-12-01T10:00:00.000Z";
const EARLIER = "2026-11-20T08:30:00.000Z";
const run = (bench: string, o: Partial<BenchRun> & { figures: Figure[] }): BenchRun => ({
  bench,
  command: `node tools/bench/${bench}.ts`,
  status: "ok",
  exitCode: 0,
  signal: null,
  date: LAST,
  durationSec: 95,
  runId: LAST,
  machine,
  loadavg: { before: 0.5, after: 1.75 },
  ...o,
});

const results: Results = {
  version: 1,
  lastRun: { id: LAST, date: LAST, benches: ["playback", "events"], durationSec: 400, machine },
  runs: [
    { id: EARLIER, date: EARLIER, benches: ["media", "catalog", "playback", "events", "home"], durationSec: 900 },
    { id: LAST, date: LAST, benches: ["playback", "events"], durationSec: 400 },
  ],
  benches: {
    playback: run("playback", {
      figures: [
        fig("playback", { name: "acquire p50, 100 accounts at once", value: 593.4, unit: "ms", baseline: { name: "GET /v1/me p50", value: 500 }, better: "lower" }),
        fig("playback", { name: "Play → first frame (median of 7)", value: 306, unit: "ms", baseline: { name: "static server", value: 279 }, goal: "ratio ≤ 1.2", better: "lower" }),
        fig("playback", { name: "unexpected statuses", value: 0, unit: "responses", baseline: null, goal: "= 0", better: "lower" }),
      ],
    }),
    events: run("events", {
      status: "failed",
      exitCode: 1,
      durationSec: 42,
      outputTail: "distinct events sent 100, landed 99: 1 LOST\n<stack> & more",
      figures: [fig("events", { name: "events lost (of 100 distinct sent)", value: 1, unit: "events", baseline: null, goal: "= 0", better: "lower" })],
      lastOk: {
        ...run("events", { figures: [fig("events", { name: "events landed in D1, sustained", value: 2963, unit: "events/s", baseline: { name: "events accepted", value: 6067 }, better: "higher" })] }),
        date: EARLIER,
        runId: EARLIER,
      },
    }),
    catalog: run("catalog", {
      date: EARLIER,
      runId: EARLIER,
      figures: [
        fig("catalog", { name: "search p50, 100,000 titles", value: 27, unit: "ms", baseline: { name: "search p50, 1,000 titles", value: 14.4 }, goal: "ratio ≤ 2", better: "lower" }),
        fig("catalog", { name: "list p95, 100,000 titles", value: 55.6, unit: "ms", baseline: { name: "list p95, 1,000 titles", value: 20 }, goal: "ratio ≤ 2", better: "lower" }),
      ],
    }),
    home: run("home", {
      date: EARLIER,
      runId: EARLIER,
      machine: { ...machine, cores: 8 },
      figures: [fig("home", { name: "Top picks HR@10", value: 0.405, unit: "", baseline: { name: "popularity", value: 0.1025 }, goal: "ratio ≥ 1.5", better: "higher" })],
    }),
  },
};
const order = ["media", "catalog", "playback", "events", "home"];

describe("goals and numbers", () => {
  it("parses goals on the ratio and on the value, and judges them", () => {
    expect(parseGoal("ratio ≤ 1.2")).toMatchObject({ on: "ratio", op: "≤", target: 1.2 });
    expect(parseGoal(">= 0.9 by throughput")).toMatchObject({ on: "value", op: "≥", target: 0.9 });
    expect(parseGoal("= 0")).toMatchObject({ on: "value", op: "=", target: 0 });
    expect(parseGoal("fast")).toBeNull();
    const [acquire, frame, statuses] = results.benches.playback!.figures;
    expect(goalMet(acquire!)).toBeNull();
    expect(goalMet(frame!)).toBe(true); // 306 / 279 = 1.10
    expect(goalMet(statuses!)).toBe(true);
    expect(goalMet(results.benches.catalog!.figures[1]!)).toBe(false); // 2.78
    expect(goalMet(results.benches.events!.figures[0]!)).toBe(false);
  });

  it("formats figures to about three significant digits", () => {
    expect(fmtNumber(6067.4)).toBe("6,067");
    expect(fmtNumber(27.04)).toBe("27.0");
    expect(fmtNumber(1.104)).toBe("1.10");
    expect(fmtNumber(0.4051)).toBe("0.405");
    expect(fmtNumber(0)).toBe("0");
    expect(fmtNumber(NaN)).toBe("–");
  });
});

describe("renderMarkdown", () => {
  const md = renderMarkdown(results, order);

  it("has a table per bench: figure | value | baseline | ratio | goal", () => {
    expect(md).toContain("| figure | value | baseline | ratio | goal |");
    expect(md).toContain("| Play → first frame (median of 7) | 306 ms | 279 ms (static server) | 1.10× ↓ | ratio ≤ 1.2 — met |");
    expect(md).toContain("| list p95, 100,000 titles | 55.6 ms | 20 ms (list p95, 1,000 titles) | 2.78× ↓ | ratio ≤ 2 — **NOT MET** |");
    expect(md).toContain("| Top picks HR@10 | 0.405 | 0.103 (popularity) | 3.95× ↑ | ratio ≥ 1.5 — met |");
    expect(md).toContain("| unexpected statuses | 0 responses |  |  | = 0 — met |");
    // Sections in the order of the scripts; a bench with no result (media) has none.
    const at = (s: string) => md.indexOf(s);
    expect(at("## `npm run bench:catalog`")).toBeGreaterThan(0);
    expect(at("## `npm run bench:catalog`")).toBeLessThan(at("## `npm run bench:playback`"));
    expect(at("## `npm run bench:playback`")).toBeLessThan(at("## `npm run bench:events`"));
    expect(md).not.toContain("bench:media`");
  });

  it("records the machine, and says the ratios are what matter", () => {
    expect(md).toContain("| CPU | AMD EPYC <test> & co, 2 cores |");
    expect(md).toContain("| RAM | 24.0 GiB |");
    expect(md).toContain("| Node | v22.18.0 |");
    expect(md).toContain("| wrangler | 4.164.0 |");
    expect(md).toContain("| runs | 2026-11-20 08:30 UTC: every bench in 15.0 min<br>2026-12-01 10:00 UTC: bench:playback, bench:events in 6.7 min (the latest) |");
    expect(md).toContain("`0123456789` (plus uncommitted changes in the work tree)");
    expect(md).toMatch(/Read the ratios, not the absolute numbers/);
    expect(md).toContain("![Ratios of every figure to its same-run baseline](benchmarks/ratios.svg)");
    expect(md).toContain("![Latencies beside their baselines](benchmarks/latency.svg)");
  });

  it("marks a failed bench with its exit code, the end of its output and its last good run", () => {
    const section = md.slice(md.indexOf("## `npm run bench:events`"), md.indexOf("## `npm run bench:home`"));
    expect(section).toContain("**FAILED** (exit code 1) after 42 s");
    expect(section).toContain("```\ndistinct events sent 100, landed 99: 1 LOST\n<stack> & more\n```");
    expect(section).toContain("Its last successful run (2026-11-20 08:30 UTC");
    expect(section).toContain("| events landed in D1, sustained | 2,963 events/s | 6,067 events/s (events accepted) | 0.49× ↑ |  |");
    expect(md).toContain("| [bench:events](#npm-run-benchevents) | **FAILED** (exit 1) |");
    expect(md).toMatch(/1 bench failed: events/);
  });

  it("marks results kept from an earlier run with their date, and a different machine", () => {
    const catalog = md.slice(md.indexOf("## `npm run bench:catalog`"), md.indexOf("## `npm run bench:playback`"));
    expect(catalog).toContain("measured in an earlier run, 2026-11-20 08:30 UTC (the latest run did not re-run it)");
    const playback = md.slice(md.indexOf("## `npm run bench:playback`"), md.indexOf("## `npm run bench:events`"));
    expect(playback).toContain("measured in the latest run, 2026-12-01 10:00 UTC");
    expect(md).toContain("Measured on a different machine: cores 8.");
    expect(md).toContain("| [bench:catalog](#npm-run-benchcatalog) | ok | 2026-11-20 08:30 UTC (earlier run), 95 s | 2 | 1 / 2 |");
  });

  it("escapes pipes in cells", () => {
    expect(figureTable([fig("x", { name: "a | b", value: 1, unit: "", baseline: null, better: "lower" })])).toContain("| a \\| b | 1 |");
  });
});

describe("the SVG charts", () => {
  const parse = (svg: string) => new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "@" }).parse(svg) as { svg: Record<string, any> };
  const texts = (doc: { svg: Record<string, any> }) => ([] as any[]).concat(doc.svg.text ?? []).map((t) => (typeof t === "string" ? t : String(t["#text"])));

  it("are well-formed SVG documents", () => {
    for (const svg of [ratioChart(results, order), latencyChart(results, order)]) {
      expect(XMLValidator.validate(svg)).toBe(true);
      const doc = parse(svg);
      expect(doc.svg["@xmlns"]).toBe("http://www.w3.org/2000/svg");
      expect(Number(doc.svg["@width"])).toBeGreaterThan(0);
      expect(Number(doc.svg["@height"])).toBeGreaterThan(0);
      expect(doc.svg["@viewBox"]).toBe(`0 0 ${doc.svg["@width"]} ${doc.svg["@height"]}`);
    }
  });

  it("draws one bar per figure with a ratio, coloured by its goal, with goal ticks", () => {
    const doc = parse(ratioChart(results, order));
    const withRatio = Object.values(results.benches).flatMap((r) => r.figures).filter((f) => f.ratio !== null);
    const bars = ([] as any[]).concat(doc.svg.rect).filter((r) => r.title);
    expect(bars).toHaveLength(withRatio.length);
    const fill = (name: string) => bars.find((b) => String(b.title).startsWith(name))["@fill"];
    expect(fill("Play → first frame")).toBe("#2e7d32");
    expect(fill("list p95")).toBe("#c62828");
    expect(fill("acquire p50")).toBe("#78909c");
    // The labels and headers are text, escaped where they need to be.
    const labels = texts(doc);
    expect(labels).toContain("bench:catalog · 2026-11-20");
    expect(labels).toContain("bench:playback · 2026-12-01");
    // The failed events run recorded no figure with a baseline: no group of its own.
    expect(labels.some((l) => l.startsWith("bench:events"))).toBe(false);
    expect(labels.some((l) => l.includes("AMD EPYC <test> & co"))).toBe(true);
    expect(labels).toContain("1.10× ↓");
    // Goal ticks: first frame, the two catalog figures, Top picks.
    const goalLines = ([] as any[]).concat(doc.svg.line).filter((l) => l["@stroke-width"] === "2.5");
    expect(goalLines).toHaveLength(4);
  });

  it("puts every millisecond figure with a baseline on the latency chart", () => {
    const doc = parse(latencyChart(results, order));
    const dots = ([] as any[]).concat(doc.svg.circle);
    expect(dots).toHaveLength(2 * 4); // acquire p50, first frame, search p50, list p95
    const labels = texts(doc);
    expect(labels).toContain("306 vs 279 ms");
    expect(labels).not.toContain("Top picks HR@10");
  });

  it("renders an empty results object without failing", () => {
    const empty: Results = { version: 1, lastRun: { id: LAST, date: LAST, benches: [], durationSec: 0, machine }, benches: {} };
    for (const [file, text] of renderAll(empty, order)) {
      if (file.endsWith(".svg")) expect(XMLValidator.validate(text)).toBe(true);
      else expect(text).toContain("0 figures");
    }
  });
});

describe("benchResults", () => {
  const dir = mkdtemp(path.join(tmpdir(), "marquee-bench-results-"));
  afterAll(async () => rm(await dir, { recursive: true, force: true }));

  it("takes --json before BENCH_RESULT_FILE, and nothing without either", () => {
    expect(resultFile(["node", "x.ts", "--json", "/tmp/a.json"], { BENCH_RESULT_FILE: "/tmp/b.json" })).toBe("/tmp/a.json");
    expect(resultFile(["node", "x.ts"], { BENCH_RESULT_FILE: "/tmp/b.json" })).toBe("/tmp/b.json");
    expect(resultFile(["node", "x.ts"], {})).toBeNull();
  });

  it("writes the figures so far after each one, with the ratio", async () => {
    const file = path.join(await dir, "r.json");
    const r = benchResults("auth", file);
    expect(JSON.parse(await readFile(file, "utf8"))).toEqual([]);
    r.record({ name: "GET /v1/profiles CPU", value: 11.4, unit: "ms CPU", baseline: { name: "GET /healthz", value: 7.4 }, better: "lower" });
    r.record({ name: "lost", value: 0, unit: "events", goal: "= 0", better: "lower" });
    const written = JSON.parse(await readFile(file, "utf8")) as Figure[];
    expect(written).toHaveLength(2);
    expect(written[0]).toMatchObject({ bench: "auth", baseline: { value: 7.4 }, better: "lower" });
    expect(written[0]!.ratio).toBeCloseTo(11.4 / 7.4, 10);
    expect(written[1]).toEqual({ bench: "auth", name: "lost", value: 0, unit: "events", baseline: null, ratio: null, goal: "= 0", better: "lower" });
  });
});
