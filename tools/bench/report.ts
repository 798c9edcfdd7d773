// Renders docs/benchmarks.md and its SVG charts from the raw results of `npm run bench`
// (docs/benchmarks/results.json). Pure functions of the results: tools/test/bench-report.test.ts
// renders a fixed results object, and `npm run bench -- --render` re-renders the committed one.
import type { Figure } from "./results.ts";

export type Machine = {
  os: string;
  kernel: string;
  cpu: string;
  cores: number;
  ramBytes: number;
  node: string;
  wrangler: string;
  commit: string;
  /** Uncommitted changes in the work tree when the bench ran. */
  dirty: boolean;
};

export type BenchRun = {
  /** "media" for `npm run bench:media`. */
  bench: string;
  /** What the npm script runs, e.g. "node tools/bench/media.ts". */
  command: string;
  status: "ok" | "failed";
  exitCode: number | null;
  signal: string | null;
  /** When it started (ISO 8601). */
  date: string;
  durationSec: number;
  /** The `npm run bench` invocation that produced it. */
  runId: string;
  machine: Machine;
  /** One-minute load average when it started and when it ended. */
  loadavg: { before: number; after: number };
  figures: Figure[];
  /** The last lines of its output, when it failed. */
  outputTail?: string;
  /** When this run failed: the last run of this bench that did not. */
  lastOk?: Omit<BenchRun, "lastOk">;
};

export type RunInfo = { id: string; date: string; benches: string[]; durationSec: number };

export type Results = {
  version: 1;
  /** The latest `npm run bench` invocation. */
  lastRun: RunInfo & { machine: Machine };
  /** Every invocation that still supplies a result shown (the latest included), oldest first. */
  runs?: RunInfo[];
  /** Each bench's latest result; benches not in the last run keep an earlier one. */
  benches: Record<string, BenchRun>;
};

export const CHARTS = { ratios: "benchmarks/ratios.svg", latency: "benchmarks/latency.svg" } as const;

// ---------------------------------------------------------------- numbers and goals

/** A figure's value for people: about three significant digits, thousands separated. */
export function fmtNumber(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return "–";
  const a = Math.abs(x);
  if (a === 0) return "0";
  if (Number.isInteger(x) && a < 1e15) return x.toLocaleString("en");
  const digits = a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3;
  return x.toLocaleString("en", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export const fmtRatio = (r: number | null) => (r === null || !Number.isFinite(r) ? "–" : `${r.toFixed(2)}×`);

const withUnit = (x: number | null | undefined, unit: string) => {
  const n = fmtNumber(x);
  if (n === "–" || !unit) return n;
  // "x real time", "of 50": a unit that reads as words keeps its space; so does every other.
  return `${n} ${unit}`;
};

export type Goal = { on: "ratio" | "value"; op: "≤" | "≥" | "=" | "<" | ">"; target: number; text: string };

/** "ratio ≤ 1.2" → on the ratio, ≤, 1.2; "= 0" → on the value. */
export function parseGoal(text: string | undefined): Goal | null {
  if (!text) return null;
  const m = /^\s*(ratio\s*)?(<=|>=|≤|≥|=|<|>)\s*(-?\d+(?:\.\d+)?)/.exec(text);
  if (!m) return null;
  const op = ({ "<=": "≤", ">=": "≥" } as Record<string, Goal["op"]>)[m[2]!] ?? (m[2] as Goal["op"]);
  return { on: m[1] ? "ratio" : "value", op, target: Number(m[3]), text };
}

/** Whether a figure meets its goal: true, false, or null (no goal, or nothing to judge it by). */
export function goalMet(f: Figure): boolean | null {
  const g = parseGoal(f.goal);
  if (!g) return null;
  const x = g.on === "ratio" ? f.ratio : f.value;
  if (x === null || x === undefined || !Number.isFinite(x)) return null;
  switch (g.op) {
    case "≤":
      return x <= g.target + 1e-9;
    case "≥":
      return x >= g.target - 1e-9;
    case "<":
      return x < g.target;
    case ">":
      return x > g.target;
    case "=":
      return Math.abs(x - g.target) <= 1e-9 * Math.max(1, Math.abs(g.target));
  }
}

/** The benches in the order people read them: the order given, then any others by name. */
export function orderedBenches(results: Results, order: string[]): BenchRun[] {
  const names = [...order.filter((n) => results.benches[n]), ...Object.keys(results.benches).filter((n) => !order.includes(n)).sort()];
  return names.map((n) => results.benches[n]!);
}

// ---------------------------------------------------------------- markdown

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
const day = (iso: string) => iso.slice(0, 16).replace("T", " ") + " UTC";
const gb = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
const minutes = (sec: number) => (sec < 120 ? `${Math.round(sec)} s` : `${(sec / 60).toFixed(1)} min`);
const commitText = (m: Machine) => `\`${m.commit.slice(0, 10)}\`${m.dirty ? " (plus uncommitted changes in the work tree)" : ""}`;

function machineDiffers(a: Machine, b: Machine): (keyof Machine)[] {
  const keys: (keyof Machine)[] = ["os", "kernel", "cpu", "cores", "ramBytes", "node", "wrangler"];
  return keys.filter((k) => a[k] !== b[k]);
}

export function figureTable(figures: Figure[]): string {
  const rows = figures.map((f) => {
    const met = goalMet(f);
    const goal = f.goal ? `${f.goal}${met === null ? "" : met ? " — met" : " — **NOT MET**"}` : "";
    const baseline = f.baseline ? `${withUnit(f.baseline.value, f.unit)} (${f.baseline.name})` : "";
    const ratio = f.ratio === null ? "" : `${fmtRatio(f.ratio)} ${f.better === "lower" ? "↓" : "↑"}`;
    return `| ${cell(f.name)} | ${cell(withUnit(f.value, f.unit))} | ${cell(baseline)} | ${ratio} | ${cell(goal)} |`;
  });
  return ["| figure | value | baseline | ratio | goal |", "|---|---:|---|---:|---|", ...rows].join("\n");
}

function benchSection(run: BenchRun, results: Results): string {
  const out: string[] = [`## \`npm run bench:${run.bench}\``, ""];
  const current = run.runId === results.lastRun.id;
  const when = current ? `measured in the latest run, ${day(run.date)}` : `measured in an earlier run, ${day(run.date)} (the latest run did not re-run it)`;
  const status = run.status === "ok" ? `ok in ${minutes(run.durationSec)}` : `**FAILED** (${run.signal ? `signal ${run.signal}` : `exit code ${run.exitCode}`}) after ${minutes(run.durationSec)}`;
  out.push(`\`${run.command}\` — ${status}; ${when}; commit ${commitText(run.machine)}; load average ${run.loadavg.before.toFixed(2)} → ${run.loadavg.after.toFixed(2)}.`);
  const differs = machineDiffers(run.machine, results.lastRun.machine);
  if (differs.length) out.push("", `Measured on a different machine: ${differs.map((k) => `${k} ${k === "ramBytes" ? gb(run.machine.ramBytes) : run.machine[k]}`).join(", ")}.`);
  out.push("");
  if (run.figures.length) out.push(figureTable(run.figures), "");
  else out.push("No figures recorded.", "");
  if (run.status === "failed") {
    if (run.outputTail) out.push("The end of its output:", "", "```", run.outputTail.trimEnd(), "```", "");
    if (run.lastOk) {
      out.push(`Its last successful run (${day(run.lastOk.date)}, commit ${commitText(run.lastOk.machine)}):`, "", figureTable(run.lastOk.figures), "");
    }
  }
  return out.join("\n");
}

export function renderMarkdown(results: Results, order: string[]): string {
  const m = results.lastRun.machine;
  const runs = orderedBenches(results, order);
  const failed = runs.filter((r) => r.status === "failed");
  const all = runs.flatMap((r) => r.figures);
  const judged = all.map(goalMet).filter((x) => x !== null);
  const out = [
    "# Benchmarks",
    "",
    "<!-- Generated by `npm run bench` (tools/bench/all.ts) from docs/benchmarks/results.json: edit those, not this file. -->",
    "",
    "> **Read the ratios, not the absolute numbers.** Every figure below was measured beside a baseline taken in the same run, on the same machine, within seconds of it (a minimal Worker, a static server, a plain request, a smaller catalog…). " +
      "This machine is shared: other engineers' tests and builds ran on its cores during the run, so absolute timings and rates move by tens of percent from one run to the next; " +
      "the ratio (value ÷ baseline) cancels most of that, since both sides saw the same load. ↓ marks a figure where lower is better, ↑ where higher is.",
    "",
    `\`npm run bench\` runs every \`bench:*\` script one after another (never in parallel), collects the figures each writes to \`BENCH_RESULT_FILE\`, and renders this page; ` +
      "`npm run bench -- media events` re-runs some and keeps the others' last results (each section says when it was measured); `npm run bench -- --render` only re-renders. " +
      "Raw results: [benchmarks/results.json](benchmarks/results.json). What each bench measures and why: [testing.md](testing.md#benchmarks).",
    "",
    "## Machine",
    "",
    "| | |",
    "|---|---|",
    `| OS | ${cell(m.os)}, kernel ${cell(m.kernel)} |`,
    `| CPU | ${cell(m.cpu)}, ${m.cores} cores |`,
    `| RAM | ${gb(m.ramBytes)} |`,
    `| Node | ${m.node} |`,
    `| wrangler | ${m.wrangler} |`,
    `| commit | ${commitText(m)} |`,
    `| runs | ${(results.runs?.length ? results.runs : [results.lastRun]).map((r) => `${day(r.date)}: ${r.benches.length === order.length ? "every bench" : r.benches.map((b) => `bench:${b}`).join(", ")} in ${minutes(r.durationSec)}${r.id === results.lastRun.id ? " (the latest)" : ""}`).join("<br>")} |`,
    "",
    "## Summary",
    "",
    "| bench | status | measured | figures | goals met |",
    "|---|---|---|---:|---:|",
    ...runs.map((r) => {
      const goals = r.figures.map(goalMet).filter((x) => x !== null);
      const status = r.status === "ok" ? "ok" : `**FAILED** (${r.signal ? `signal ${r.signal}` : `exit ${r.exitCode}`})`;
      const when = `${day(r.date)}${r.runId === results.lastRun.id ? "" : " (earlier run)"}`;
      return `| [bench:${r.bench}](#npm-run-bench${r.bench}) | ${status} | ${when}, ${minutes(r.durationSec)} | ${r.figures.length} | ${goals.length ? `${goals.filter(Boolean).length} / ${goals.length}` : "–"} |`;
    }),
    "",
    `${all.length} figures; ${judged.length ? `${judged.filter(Boolean).length} of ${judged.length} goals met` : "no goals to judge"}${failed.length ? `; **${failed.length} bench${failed.length > 1 ? "es" : ""} failed: ${failed.map((r) => r.bench).join(", ")}**` : ""}.`,
    "",
    "### Every ratio against its baseline",
    "",
    "Bars run from 1.0 (the baseline) to the ratio, on a log scale; green meets its goal, red does not, grey has none; the dark tick is the goal.",
    "",
    `![Ratios of every figure to its same-run baseline](${CHARTS.ratios})`,
    "",
    "### Latencies against their baselines",
    "",
    "Each figure in milliseconds (filled) beside its baseline (hollow), log scale: the distance between them is the ratio.",
    "",
    `![Latencies beside their baselines](${CHARTS.latency})`,
    "",
    ...runs.map((r) => benchSection(r, results)),
  ];
  return out.join("\n").replace(/\n{3,}/g, "\n\n").trimEnd() + "\n";
}

// ---------------------------------------------------------------- SVG

export const escapeXml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");
const truncate = (s: string, n: number) => (s.length > n ? s.slice(0, n - 1) + "…" : s);
const px = (x: number) => Math.round(x * 10) / 10;

const COLORS = { met: "#2e7d32", missed: "#c62828", none: "#78909c", axis: "#9e9e9e", grid: "#e0e0e0", text: "#212121", muted: "#616161", goal: "#212121" };
const FONT = `font-family="system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif"`;

function svgDocument(width: number, height: number, title: string, body: string[]): string {
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="12">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    ...body,
    `</svg>`,
    "",
  ].join("\n");
}

/** Powers of two (and 1-2-5 steps when the range is narrow) between lo and hi, for a log axis. */
function logTicks(lo: number, hi: number, base: "2" | "125"): number[] {
  const ticks: number[] = [];
  if (base === "2") {
    for (let e = Math.ceil(Math.log2(lo) - 1e-9); e <= Math.floor(Math.log2(hi) + 1e-9); e++) ticks.push(2 ** e);
  } else {
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++)
      for (const m of [1, 2, 5]) {
        const t = m * 10 ** e;
        if (t >= lo - 1e-9 && t <= hi + 1e-9) ticks.push(t);
      }
  }
  return ticks;
}

const tickLabel = (t: number) => (t >= 1 ? fmtNumber(t) : String(Number(t.toPrecision(3))));

type Row = { kind: "header"; text: string } | { kind: "figure"; figure: Figure };

function groupedRows(runs: BenchRun[], keep: (f: Figure) => boolean): Row[] {
  const rows: Row[] = [];
  for (const run of runs) {
    const figures = run.figures.filter(keep);
    if (!figures.length) continue;
    rows.push({ kind: "header", text: `bench:${run.bench}${run.status === "failed" ? " (FAILED — partial)" : ""} · ${run.date.slice(0, 10)}` });
    for (const figure of figures) rows.push({ kind: "figure", figure });
  }
  return rows;
}

/** A horizontal bar per figure with a ratio, from 1 to the ratio on a log scale, with its goal. */
export function ratioChart(results: Results, order: string[]): string {
  const runs = orderedBenches(results, order);
  const rows = groupedRows(runs, (f) => f.ratio !== null && Number.isFinite(f.ratio) && f.ratio > 0);
  const values = rows.flatMap((r) => {
    if (r.kind !== "figure") return [];
    const g = parseGoal(r.figure.goal);
    return [r.figure.ratio!, ...(g?.on === "ratio" && g.target > 0 ? [g.target] : [])];
  });
  const lo = Math.min(0.5, 2 ** Math.floor(Math.log2(Math.min(...values, 1))));
  const hi = Math.max(2, 2 ** Math.ceil(Math.log2(Math.max(...values, 1))));
  const W = 980;
  const [labelW, plotX0, plotX1] = [420, 430, 860];
  const top = 56;
  const rowH = 20;
  const H = top + rows.length * rowH + 40;
  const x = (r: number) => plotX0 + ((Math.log2(r) - Math.log2(lo)) / (Math.log2(hi) - Math.log2(lo))) * (plotX1 - plotX0);
  const body: string[] = [
    `<text x="12" y="22" font-size="15" font-weight="600" fill="${COLORS.text}">Every figure ÷ its same-run baseline (log scale; 1 = as fast/small as the baseline)</text>`,
    `<text x="12" y="40" fill="${COLORS.muted}">Last run ${escapeXml(day(results.lastRun.date))} · ${escapeXml(results.lastRun.machine.cpu)}, ${results.lastRun.machine.cores} cores · ↓ lower is better, ↑ higher is better</text>`,
  ];
  const axisBottom = top + rows.length * rowH;
  for (const t of logTicks(lo, hi, "2")) {
    body.push(`<line x1="${px(x(t))}" y1="${top - 4}" x2="${px(x(t))}" y2="${axisBottom}" stroke="${t === 1 ? COLORS.axis : COLORS.grid}" stroke-width="${t === 1 ? 1.5 : 1}"/>`);
    body.push(`<text x="${px(x(t))}" y="${axisBottom + 16}" text-anchor="middle" fill="${COLORS.muted}">${escapeXml(tickLabel(t))}×</text>`);
  }
  rows.forEach((row, i) => {
    const y = top + i * rowH;
    if (row.kind === "header") {
      body.push(`<text x="12" y="${y + 14}" font-weight="600" fill="${COLORS.text}">${escapeXml(row.text)}</text>`);
      return;
    }
    const f = row.figure;
    const met = goalMet(f);
    const color = met === null ? COLORS.none : met ? COLORS.met : COLORS.missed;
    const [a, b] = [x(1), x(Math.min(hi, Math.max(lo, f.ratio!)))];
    body.push(`<text x="${labelW}" y="${y + 14}" text-anchor="end" fill="${COLORS.text}">${escapeXml(truncate(f.name, 64))}</text>`);
    body.push(`<rect x="${px(Math.min(a, b))}" y="${y + 4}" width="${px(Math.max(1, Math.abs(b - a)))}" height="${rowH - 8}" fill="${color}"><title>${escapeXml(`${f.name}: ${fmtRatio(f.ratio)} (${fmtNumber(f.value)} vs ${fmtNumber(f.baseline?.value)} ${f.unit})${f.goal ? `; goal ${f.goal}` : ""}`)}</title></rect>`);
    const g = parseGoal(f.goal);
    if (g?.on === "ratio" && g.target > 0) {
      const gx = px(x(g.target));
      body.push(`<line x1="${gx}" y1="${y + 1}" x2="${gx}" y2="${y + rowH - 1}" stroke="${COLORS.goal}" stroke-width="2.5"/>`);
    }
    body.push(`<text x="${plotX1 + 8}" y="${y + 14}" fill="${color}" font-weight="600">${escapeXml(`${fmtRatio(f.ratio)} ${f.better === "lower" ? "↓" : "↑"}`)}</text>`);
  });
  if (rows.length === 0) body.push(`<text x="12" y="${top + 14}" fill="${COLORS.muted}">No figures with a baseline yet.</text>`);
  return svgDocument(W, Math.max(H, 120), "Ratios of every benchmark figure to its same-run baseline", body);
}

/** Every millisecond figure with a baseline: the figure (filled) and its baseline (hollow) on one log axis. */
export function latencyChart(results: Results, order: string[]): string {
  const runs = orderedBenches(results, order);
  const rows = groupedRows(runs, (f) => f.unit === "ms" && f.baseline !== null && f.value > 0 && f.baseline.value > 0);
  const values = rows.flatMap((r) => (r.kind === "figure" ? [r.figure.value, r.figure.baseline!.value] : []));
  // The axis spans the 1-2-5 steps just outside the data.
  const steps = logTicks(1e-3, 1e7, "125");
  const lo = [...steps].reverse().find((t) => t <= Math.min(...values, 10)) ?? 1e-3;
  const hi = steps.find((t) => t >= Math.max(...values, 100)) ?? 1e7;
  const W = 1040;
  const [labelW, plotX0, plotX1] = [400, 410, 830];
  const top = 56;
  const rowH = 22;
  const H = top + rows.length * rowH + 56;
  const x = (ms: number) => plotX0 + ((Math.log10(ms) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * (plotX1 - plotX0);
  const body: string[] = [
    `<text x="12" y="22" font-size="15" font-weight="600" fill="${COLORS.text}">Latencies (ms, log scale): each figure beside its same-run baseline</text>`,
    `<text x="12" y="40" fill="${COLORS.muted}">● the figure (green: at or below its baseline, red: above) · ○ the baseline · the line between them is the ratio</text>`,
  ];
  const axisBottom = top + rows.length * rowH;
  for (const t of logTicks(lo, hi, "125")) {
    body.push(`<line x1="${px(x(t))}" y1="${top - 4}" x2="${px(x(t))}" y2="${axisBottom}" stroke="${COLORS.grid}"/>`);
    body.push(`<text x="${px(x(t))}" y="${axisBottom + 16}" text-anchor="middle" fill="${COLORS.muted}">${escapeXml(tickLabel(t))}</text>`);
  }
  body.push(`<text x="${(plotX0 + plotX1) / 2}" y="${axisBottom + 34}" text-anchor="middle" fill="${COLORS.muted}">milliseconds</text>`);
  rows.forEach((row, i) => {
    const y = top + i * rowH;
    if (row.kind === "header") {
      body.push(`<text x="12" y="${y + 15}" font-weight="600" fill="${COLORS.text}">${escapeXml(row.text)}</text>`);
      return;
    }
    const f = row.figure;
    const cy = y + rowH / 2;
    const [vx, bx] = [px(x(f.value)), px(x(f.baseline!.value))];
    const worse = f.value > f.baseline!.value;
    const color = worse ? COLORS.missed : COLORS.met;
    body.push(`<text x="${labelW}" y="${y + 15}" text-anchor="end" fill="${COLORS.text}">${escapeXml(truncate(f.name, 62))}</text>`);
    body.push(`<line x1="${Math.min(vx, bx)}" y1="${cy}" x2="${Math.max(vx, bx)}" y2="${cy}" stroke="${color}" stroke-width="3" stroke-opacity="0.5"/>`);
    body.push(`<circle cx="${bx}" cy="${cy}" r="5" fill="#ffffff" stroke="${COLORS.muted}" stroke-width="2"><title>${escapeXml(`${f.baseline!.name}: ${fmtNumber(f.baseline!.value)} ms`)}</title></circle>`);
    body.push(`<circle cx="${vx}" cy="${cy}" r="5" fill="${color}"><title>${escapeXml(`${f.name}: ${fmtNumber(f.value)} ms`)}</title></circle>`);
    body.push(`<text x="${plotX1 + 10}" y="${y + 15}" fill="${COLORS.text}">${escapeXml(`${fmtNumber(f.value)} vs ${fmtNumber(f.baseline!.value)} ms`)}</text>`);
    body.push(`<text x="${W - 12}" y="${y + 15}" text-anchor="end" fill="${color}" font-weight="600">${escapeXml(fmtRatio(f.ratio))}</text>`);
  });
  if (rows.length === 0) body.push(`<text x="12" y="${top + 14}" fill="${COLORS.muted}">No latency figures with a baseline yet.</text>`);
  return svgDocument(W, Math.max(H, 120), "Latencies of the benchmarks beside their same-run baselines", body);
}

/** Everything `npm run bench` writes under docs/: path (relative to docs/) → contents. */
export function renderAll(results: Results, order: string[]): Map<string, string> {
  return new Map([
    ["benchmarks.md", renderMarkdown(results, order)],
    [CHARTS.ratios, ratioChart(results, order)],
    [CHARTS.latency, latencyChart(results, order)],
  ]);
}
