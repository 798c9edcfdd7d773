// Machine-readable figures of a bench, beside its printout: when `BENCH_RESULT_FILE` is set
// (or the script was given `--json <file>`), every figure recorded is written there as a
// JSON list, rewritten after each one, so a bench that fails half-way still leaves what it
// measured. `npm run bench` (tools/bench/all.ts) collects these into docs/benchmarks.md.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

export type Figure = {
  /** The bench's name without "bench:": media, ingest, auth, … */
  bench: string;
  name: string;
  value: number;
  unit: string;
  /** What the figure is compared with, measured in the same run (same unit). */
  baseline: { name: string; value: number } | null;
  /** value / baseline.value, or null without a baseline (or with a baseline of 0). */
  ratio: number | null;
  /**
   * The target as a comparison, e.g. "ratio ≤ 1.2", "ratio ≥ 0.9", "= 0" (on the value when
   * it does not start with "ratio"). Anything after the number is a note for people.
   */
  goal?: string;
  better: "lower" | "higher";
};

export type FigureInput = Omit<Figure, "bench" | "ratio" | "baseline"> & { baseline?: Figure["baseline"] };

/** Where the figures go: `--json <file>` on the command line, else BENCH_RESULT_FILE, else nowhere. */
export function resultFile(argv = process.argv, env = process.env): string | null {
  const i = argv.indexOf("--json");
  if (i >= 0 && argv[i + 1]) return path.resolve(argv[i + 1]!);
  return env.BENCH_RESULT_FILE ? path.resolve(env.BENCH_RESULT_FILE) : null;
}

export function ratioOf(value: number, baseline: Figure["baseline"]): number | null {
  if (!baseline || !Number.isFinite(value) || !Number.isFinite(baseline.value) || baseline.value === 0) return null;
  return value / baseline.value;
}

/** A recorder for one bench: `record(...)` beside each printed figure. */
export function benchResults(bench: string, file = resultFile()) {
  const figures: Figure[] = [];
  const write = () => {
    if (!file) return;
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(figures, null, 2) + "\n");
  };
  // An empty list from the start: a bench that fails before its first figure says so.
  write();
  return {
    figures,
    record(f: FigureInput): void {
      const baseline = f.baseline ?? null;
      // NaN is not JSON: it is written as null and read back as "not measured".
      const figure: Figure = { bench, name: f.name, value: f.value, unit: f.unit, baseline, ratio: ratioOf(f.value, baseline), better: f.better };
      if (f.goal) figure.goal = f.goal;
      figures.push(figure);
      write();
    },
  };
}
