// `npm run bench`: runs every `bench:*` script one after another (never two at once: each
// starts wrangler, workerd and often Chromium, and the machine has two cores), collects the
// figures each writes to BENCH_RESULT_FILE (tools/bench/results.ts), records the machine,
// and writes docs/benchmarks.md with its charts from docs/benchmarks/results.json.
//
//   npm run bench                    every bench:* script
//   npm run bench -- media events    only these; the others keep their last results
//   npm run bench -- --render        no bench: re-render the doc from results.json
//   npm run bench -- --timeout-min 30  a bench still running after this is stopped (default 25)
//
// A bench that fails is recorded as failed (exit code, the end of its output) and the
// others still run; the exit code is 1 if any failed. Each bench's full output also goes
// to .wrangler/bench-logs/<bench>.log.
import { execFileSync, spawn } from "node:child_process";
import { createWriteStream, existsSync, readFileSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { projectRoot } from "../project.ts";
import { processTree } from "./proc.ts";
import { renderAll, type BenchRun, type Machine, type Results } from "./report.ts";
import type { Figure } from "./results.ts";

const docsDir = path.join(projectRoot, "docs");
const resultsPath = path.join(docsDir, "benchmarks/results.json");
const logDir = path.join(projectRoot, ".wrangler/bench-logs");
const TAIL_LINES = 30;

type Script = { bench: string; command: string };

function benchScripts(): Script[] {
  const pkg = JSON.parse(readFileSync(path.join(projectRoot, "package.json"), "utf8")) as { scripts: Record<string, string> };
  return Object.entries(pkg.scripts)
    .filter(([name]) => name.startsWith("bench:"))
    .map(([name, command]) => ({ bench: name.slice("bench:".length), command }));
}

function git(args: string[]): string {
  try {
    return execFileSync("git", args, { cwd: projectRoot, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "";
  }
}

function machine(): Machine {
  const osRelease = existsSync("/etc/os-release") ? /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync("/etc/os-release", "utf8"))?.[1] : undefined;
  let wrangler = "?";
  try {
    wrangler = (JSON.parse(readFileSync(path.join(projectRoot, "node_modules/wrangler/package.json"), "utf8")) as { version: string }).version;
  } catch {}
  return {
    os: osRelease ?? `${os.type()}`,
    kernel: `${os.type()} ${os.release()} ${os.arch()}`,
    cpu: os.cpus()[0]?.model.trim() ?? "?",
    cores: os.cpus().length,
    ramBytes: os.totalmem(),
    node: process.version,
    wrangler,
    commit: git(["rev-parse", "HEAD"]) || "?",
    dirty: git(["status", "--porcelain", "--untracked-files=no"]) !== "",
  };
}

async function loadResults(): Promise<Results | null> {
  if (!existsSync(resultsPath)) return null;
  return JSON.parse(await readFile(resultsPath, "utf8")) as Results;
}

async function save(results: Results, order: string[]): Promise<void> {
  await mkdir(path.dirname(resultsPath), { recursive: true });
  await writeFile(resultsPath, JSON.stringify(results, null, 2) + "\n");
  for (const [file, text] of renderAll(results, order)) await writeFile(path.join(docsDir, file), text);
}

/** Every process under pid (itself included), ended by id: TERM, then KILL what is left. */
async function stopTree(pid: number): Promise<void> {
  const pids = processTree(pid, 0).map((p) => p.pid);
  for (const p of pids) {
    try {
      process.kill(p, "SIGTERM");
    } catch {}
  }
  for (let i = 0; i < 50 && pids.some(alive); i++) await sleep(100);
  for (const p of pids.filter(alive)) {
    try {
      process.kill(p, "SIGKILL");
    } catch {}
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

let current: { pid: number } | null = null;
let interrupted: NodeJS.Signals | null = null;

type Outcome = { exitCode: number | null; signal: string | null; tail: string; timedOut: boolean };

/** `npm run bench:<name>` with BENCH_RESULT_FILE set, its output both shown and kept. */
async function runBench(script: Script, resultFile: string, timeoutMs: number): Promise<Outcome> {
  await mkdir(logDir, { recursive: true });
  const log = createWriteStream(path.join(logDir, `${script.bench}.log`));
  const npm = process.env.npm_execpath;
  const [cmd, args] = npm && /\.[cm]?js$/.test(npm) ? [process.execPath, [npm, "run", `bench:${script.bench}`]] : ["npm", ["run", `bench:${script.bench}`]];
  const child = spawn(cmd, args as string[], {
    cwd: projectRoot,
    env: { ...process.env, BENCH_RESULT_FILE: resultFile },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own group: a Ctrl-C here is handled here, which then ends the bench's whole tree.
    detached: true,
  });
  current = { pid: child.pid! };
  const tail: string[] = [];
  const keep = (chunk: Buffer) => {
    const text = chunk.toString("utf8");
    log.write(text);
    for (const line of text.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "").split("\n")) if (line.trim()) tail.push(line);
    if (tail.length > TAIL_LINES * 4) tail.splice(0, tail.length - TAIL_LINES);
  };
  child.stdout!.on("data", (d: Buffer) => (process.stdout.write(d), keep(d)));
  child.stderr!.on("data", (d: Buffer) => (process.stderr.write(d), keep(d)));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    console.error(`\nbench: bench:${script.bench} still running after ${timeoutMs / 60_000} min; stopping it`);
    void stopTree(child.pid!);
  }, timeoutMs);
  const [exitCode, signal] = await new Promise<[number | null, string | null]>((resolve) => child.on("exit", (code, sig) => resolve([code, sig])));
  clearTimeout(timer);
  // What the bench left behind (a platform in its own process group is not below npm any more
  // once npm is gone, but a bench that exits normally stops its own).
  current = null;
  await new Promise((r) => log.end(r));
  if (timedOut) tail.push(`(stopped by npm run bench after ${timeoutMs / 60_000} min)`);
  return { exitCode, signal, tail: tail.slice(-TAIL_LINES).join("\n"), timedOut };
}

async function readFigures(file: string): Promise<Figure[]> {
  try {
    const figures = JSON.parse(await readFile(file, "utf8")) as Figure[];
    return Array.isArray(figures) ? figures : [];
  } catch {
    return [];
  }
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const scripts = benchScripts();
  const order = scripts.map((s) => s.bench);
  let timeoutMin = 25;
  const names: string[] = [];
  let renderOnly = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--render") renderOnly = true;
    else if (a === "--timeout-min") timeoutMin = Number(argv[++i]);
    else if (a.startsWith("-")) throw new Error(`unknown flag ${a}`);
    else names.push(a.replace(/^bench:/, ""));
  }
  const unknown = names.filter((n) => !order.includes(n));
  if (unknown.length) {
    console.error(`bench: no such bench script: ${unknown.join(", ")} (there are: ${order.join(", ")})`);
    return 2;
  }
  if (!(timeoutMin > 0)) throw new Error("--timeout-min needs a positive number of minutes");

  const previous = await loadResults();
  if (renderOnly) {
    if (!previous) {
      console.error(`bench: nothing to render: ${path.relative(projectRoot, resultsPath)} does not exist yet`);
      return 1;
    }
    await save(previous, order);
    console.log(`bench: rendered docs/benchmarks.md and its charts from ${path.relative(projectRoot, resultsPath)}`);
    return 0;
  }

  const selected = names.length ? scripts.filter((s) => names.includes(s.bench)) : scripts;
  const started = new Date();
  const runId = started.toISOString();
  const t0 = performance.now();
  const thisRun = { id: runId, date: runId, benches: [] as string[], durationSec: 0 };
  const results: Results = {
    version: 1,
    lastRun: { ...thisRun, machine: machine() },
    runs: [],
    benches: { ...(previous?.benches ?? {}) },
  };
  const earlierRuns = previous ? (previous.runs ?? [{ id: previous.lastRun.id, date: previous.lastRun.date, benches: previous.lastRun.benches, durationSec: previous.lastRun.durationSec }]) : [];
  /** The runs whose results are still shown, this one last. */
  const referencedRuns = () => {
    const ids = new Set(Object.values(results.benches).flatMap((b) => [b.runId, ...(b.lastOk ? [b.lastOk.runId] : [])]));
    return [...earlierRuns.filter((r) => r.id !== runId && ids.has(r.id)), { ...thisRun }];
  };
  console.log(`bench: ${selected.length} bench${selected.length === 1 ? "" : "es"}, one after another: ${selected.map((s) => `bench:${s.bench}`).join(", ")}`);
  const failed: string[] = [];
  for (const [i, script] of selected.entries()) {
    if (interrupted) break;
    console.log(`\n=== [${i + 1}/${selected.length}] npm run bench:${script.bench} (${script.command}) ===\n`);
    const resultFile = path.join(os.tmpdir(), `marquee-bench-${process.pid}-${script.bench}.json`);
    await rm(resultFile, { force: true });
    const date = new Date().toISOString();
    const before = os.loadavg()[0]!;
    const benchMachine = machine();
    const b0 = performance.now();
    const outcome = await runBench(script, resultFile, timeoutMin * 60_000);
    const run: BenchRun = {
      bench: script.bench,
      command: script.command,
      status: outcome.exitCode === 0 && !outcome.signal && !outcome.timedOut ? "ok" : "failed",
      exitCode: outcome.exitCode,
      signal: outcome.signal,
      date,
      durationSec: Math.round((performance.now() - b0) / 100) / 10,
      runId,
      machine: benchMachine,
      loadavg: { before, after: os.loadavg()[0]! },
      figures: await readFigures(resultFile),
    };
    await rm(resultFile, { force: true });
    if (run.status === "failed") {
      failed.push(script.bench);
      run.outputTail = outcome.tail;
      const prior = results.benches[script.bench];
      const lastOk = prior?.status === "ok" ? prior : prior?.lastOk;
      if (lastOk) {
        const { lastOk: _, ...flat } = lastOk as BenchRun;
        run.lastOk = flat;
      }
    }
    results.benches[script.bench] = run;
    thisRun.benches.push(script.bench);
    thisRun.durationSec = Math.round((performance.now() - t0) / 1000);
    Object.assign(results.lastRun, thisRun);
    results.runs = referencedRuns();
    // Saved after each bench: an interrupted run keeps what it measured.
    await save(results, order);
    console.log(`\n=== bench:${script.bench}: ${run.status}${run.status === "failed" ? ` (${run.signal ? `signal ${run.signal}` : `exit code ${run.exitCode}`})` : ""} in ${run.durationSec} s, ${run.figures.length} figures ===`);
  }
  const total = (performance.now() - t0) / 1000;
  console.log(`\nbench: ${results.lastRun.benches.length} run in ${(total / 60).toFixed(1)} min; ${failed.length ? `FAILED: ${failed.join(", ")}` : "none failed"}`);
  console.log(`bench: wrote docs/benchmarks.md, docs/benchmarks/*.svg and ${path.relative(projectRoot, resultsPath)}`);
  if (interrupted) return 130;
  return failed.length ? 1 : 0;
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = signal;
    console.error(`\nbench: ${signal}: stopping the bench under way; no further bench starts`);
    if (current) void stopTree(current.pid);
  });
}

try {
  process.exitCode = await main();
} catch (err) {
  console.error(`bench: ${err instanceof Error ? err.message : err}`);
  process.exitCode = 1;
}
