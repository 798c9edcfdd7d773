// `npm run capacity -- --viewers N [--results PATH] [--json] [--set key=value …]`: the load N
// concurrent viewers put on every binding, against Cloudflare's published limits, the shards
// and replicas it takes, and the monthly bill (tools/capacity/model.ts; docs/scaling.md,
// "The capacity model"). Reads docs/benchmarks/results.json for the measured inputs; writes
// nothing.
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import type { Results } from "../bench/report.ts";
import { projectRoot } from "../project.ts";
import { capacity, fmt, fmtBytes, paramKeys, PUBLISHED_READ_ON, resolveInputs, sourceText, type Line, type ParamKey, type Report } from "./model.ts";

export class UsageError extends Error {}

export const usage = `usage: npm run capacity -- --viewers N [--results PATH] [--json] [--set key=value …]
  --viewers N        concurrent viewers at the peak (a positive whole number, e.g. 1000000)
  --results PATH     bench results to take measured inputs from (default docs/benchmarks/results.json)
  --json             the whole report as JSON
  --set key=value    replace one input (repeatable), e.g. --set cacheHitRatio=0.95; keys are listed under "Inputs"`;

/** `results` is null for the default file. */
export type CliArgs = { viewers: number; results: string | null; json: boolean; overrides: Partial<Record<ParamKey, number>> };

const DEFAULT_RESULTS = "docs/benchmarks/results.json";

export function parseCliArgs(argv: string[]): CliArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        viewers: { type: "string" },
        results: { type: "string" },
        json: { type: "boolean", default: false },
        set: { type: "string", multiple: true },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const raw = parsed.values.viewers;
  if (raw === undefined) throw new UsageError("--viewers N is required");
  // Canonical: digits only, no sign, no leading zero, no exponent, within exact integers.
  if (!/^[1-9][0-9]*$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw new UsageError(`--viewers must be a positive whole number written in digits (not "${raw}")`);
  }
  const overrides: Partial<Record<ParamKey, number>> = {};
  for (const item of parsed.values.set ?? []) {
    const eq = item.indexOf("=");
    const key = item.slice(0, eq);
    const text = item.slice(eq + 1);
    if (eq < 1 || !(paramKeys as string[]).includes(key)) throw new UsageError(`--set takes key=value with a key from the inputs list (not "${item}")`);
    const value = Number(text);
    if (text.trim() === "" || !Number.isFinite(value) || value < 0) throw new UsageError(`--set ${key} needs a number ≥ 0 (not "${text}")`);
    overrides[key as ParamKey] = value;
  }
  return { viewers: Number(raw), results: parsed.values.results ?? null, json: parsed.values.json ?? false, overrides };
}

export function readResults(file: string): Results {
  const text = readFileSync(file, "utf8");
  const parsed = JSON.parse(text) as Results;
  if (!parsed || typeof parsed !== "object" || typeof parsed.benches !== "object" || parsed.benches === null) {
    throw new Error(`${file} is not a bench results file (no "benches")`);
  }
  return parsed;
}

// ---------------------------------------------------------------- the text report

function value(l: Line): string {
  if (l.unit === "bytes") return fmtBytes(l.value);
  if (l.unit === "bit/s") return `${fmt(l.value)}${/[0-9]$/.test(fmt(l.value)) ? " " : ""}bit/s`.replace(/ B(?=bit)/, " G");
  return `${fmt(l.value)} ${l.unit}`;
}

function limitText(l: Line): string {
  if (l.limit === null) return l.limitNote ?? "";
  const lim = l.unit === "bytes" ? fmtBytes(l.limit) : fmt(l.limit);
  const u = l.utilisation === null ? "" : ` (${l.utilisation >= 10 ? `${fmt(l.utilisation)}×` : `${Math.round(l.utilisation * 100)} %`})`;
  return `limit ${lim}${u}${l.crossed ? "  ◀ CROSSED" : ""}${l.limitNote ? `, ${l.limitNote}` : ""}`;
}

const pad = (s: string, n: number) => (s.length >= n ? s : s + " ".repeat(n - s.length));
const padStart = (s: string, n: number) => (s.length >= n ? s : " ".repeat(n - s.length) + s);

export function renderText(r: Report): string {
  const out: string[] = [];
  out.push(`Marquee capacity at ${r.viewers.toLocaleString("en")} concurrent viewers (Cloudflare's published limits and prices, read ${PUBLISHED_READ_ON})`);
  for (const s of r.sections) {
    out.push("", s.binding);
    for (const l of s.lines) {
      out.push(`  ${pad(l.what, 52)} ${padStart(value(l), 20)}   ${limitText(l)}`.trimEnd());
      if (l.note) out.push(`  ${" ".repeat(52)} ${" ".repeat(20)}   ${l.note}`);
    }
  }
  out.push("", r.crossed.length ? `Limits crossed (${r.crossed.length})` : "Limits crossed: none");
  for (const c of r.crossed) out.push(`  - ${c}`);
  out.push("", "Needed (to stay under the limits × targetUtilisation)");
  for (const n of r.needs) out.push(`  ${pad(n.what, 52)} ${padStart(String(n.n), 6)}   ${n.because}`);
  out.push("", `Monthly, at meanToPeak × the peak on average (${fmt(r.monthly.viewingHours)} viewing hours)`);
  for (const m of r.monthly.lines) {
    out.push(`  ${pad(m.item, 38)} ${padStart(`${fmt(m.quantity)} ${m.unit}`, 22)}   ${pad(m.price, 40)} ${padStart(`$${dollars(m.dollars)}`, 14)}`);
    if (m.note) out.push(`  ${" ".repeat(38)} ${" ".repeat(22)}   ${m.note}`);
  }
  out.push(`  ${pad("total", 38)} ${" ".repeat(22)}   ${" ".repeat(40)} ${padStart(`$${dollars(r.monthly.total)}`, 14)}`);
  out.push("", "Inputs (override with --set key=value)");
  for (const k of paramKeys) {
    const i = r.inputs[k];
    out.push(`  ${pad(`${k} = ${fmtInput(i.value)}${i.unit ? ` ${i.unit}` : ""}`, 44)} ${i.label} — ${sourceText(i.source)}`);
  }
  return out.join("\n") + "\n";
}

const dollars = (d: number) => d.toLocaleString("en", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const fmtInput = (v: number) => (Number.isInteger(v) ? v.toLocaleString("en") : String(Math.round(v * 1000) / 1000));

// ---------------------------------------------------------------- main

export function main(argv: string[]): number {
  let args: CliArgs;
  try {
    args = parseCliArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`capacity: ${err.message}\n${usage}`);
    return 2;
  }
  let results: Results;
  const file = args.results === null ? path.join(projectRoot, DEFAULT_RESULTS) : path.resolve(args.results);
  try {
    results = readResults(file);
  } catch (err) {
    console.error(`capacity: cannot read bench results ${args.results ?? DEFAULT_RESULTS}: ${(err as Error).message}`);
    return 1;
  }
  const report = capacity(args.viewers, resolveInputs(results, args.overrides));
  process.stdout.write(args.json ? JSON.stringify(report, null, 2) + "\n" : renderText(report));
  return 0;
}

if (import.meta.main) process.exit(main(process.argv.slice(2)));
