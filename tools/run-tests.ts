// `npm test`: every check the project has, in order — the watch-shard bindings and the
// binding types up to date, the typecheck, the Workers' vitest projects in workerd, the
// dry-run build of both Workers, and the browser end-to-end tests — summed into one
// closing line `N passed, N failed`.
// `npm run typecheck` and `npm run e2e` run one part: `node tools/run-tests.ts typecheck|e2e`.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { browserAvailable, chromiumPath, installBrowserHint } from "../e2e/browser.ts";
import { buildVersion } from "./build-version.ts";
import { buildWorker, workers } from "./build.ts";
import { buildWeb } from "./build-web.ts";
import { apiConfig, offlineEnv, projectRoot } from "./project.ts";
import { generateTypes } from "./types.ts";
import { writeShards } from "./watch-shards.ts";

type Tally = { passed: number; failed: number; skipped: number };
const total: Tally = { passed: 0, failed: 0, skipped: 0 };
const failures: string[] = [];
const reports = path.join(projectRoot, ".wrangler/reports");
const isCI = process.env.CI === "true" || process.env.CI === "1";

function heading(text: string) {
  console.log(`\n=== ${text} ===`);
}

/** A check that is one pass or one fail. */
async function check(name: string, run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
    total.passed++;
    console.log(`ok   ${name}`);
  } catch (err) {
    total.failed++;
    failures.push(name);
    console.log(`FAIL ${name}\n${(err as Error).message}`);
  }
}

function run(command: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: projectRoot, env: { ...offlineEnv, NO_COLOR: "1" }, stdio: "inherit" });
    child.on("error", reject);
    child.on("exit", (code) => resolve(code ?? 1));
  });
}

const bin = (name: string) => path.join(projectRoot, "node_modules/.bin", name);

async function mustRun(command: string, args: string[]): Promise<void> {
  const code = await run(command, args);
  if (code !== 0) throw new Error(`${path.basename(command)} ${args.join(" ")} exited with ${code}`);
}

async function typecheck(): Promise<void> {
  heading("binding types and typecheck");
  // First: the binding types are generated from what this writes.
  await check("watch-shard bindings match EVENT_SHARDS (npm run shards -- --check)", () => writeShards(apiConfig, { check: true, log: () => {} }));
  await check("generated binding types match wrangler.toml (npm run types)", () => generateTypes(true, true));
  // The pages import the web build's manifest, so the web assets come first.
  await check("web assets build", () => buildWeb());
  for (const project of ["tsconfig.json", "workers/api/tsconfig.json", "workers/media/tsconfig.json", "web/tsconfig.json", "e2e/tsconfig.json"]) {
    await check(`tsc -p ${project}`, () => mustRun(bin("tsc"), ["-p", project]));
  }
}

type VitestReport = { numPassedTests: number; numFailedTests: number; numPendingTests: number; numTodoTests: number };

/** Runs vitest with its JSON reporter and adds its own counts to the total. */
async function vitest(label: string, args: string[]): Promise<void> {
  await mkdir(reports, { recursive: true });
  const reportFile = path.join(reports, `${label}.json`);
  const code = await run(bin("vitest"), ["run", ...args, "--reporter=default", "--reporter=json", `--outputFile.json=${reportFile}`]);
  const report = existsSync(reportFile) ? (JSON.parse(await readFile(reportFile, "utf8")) as VitestReport) : null;
  if (report) {
    total.passed += report.numPassedTests;
    total.failed += report.numFailedTests;
    total.skipped += report.numPendingTests + report.numTodoTests;
    if (report.numFailedTests > 0) failures.push(`${label}: ${report.numFailedTests} failed tests`);
  }
  // A file that fails to load, or a setup that throws, fails no test but fails the run.
  if (code !== 0 && (!report || report.numFailedTests === 0)) {
    total.failed++;
    failures.push(`${label}: vitest exited with ${code}`);
  }
}

async function workerTests(): Promise<void> {
  heading("unit and integration tests in workerd (vitest)");
  await vitest("workers", []);
}

async function build(): Promise<void> {
  heading("dry-run build of both Workers");
  const version = buildVersion();
  for (const worker of workers) {
    await check(`wrangler deploy --dry-run ${worker.name}`, async () => {
      const outdir = await buildWorker(worker, version, true);
      const files = await readdir(outdir);
      if (!files.some((f) => f.endsWith(".js"))) throw new Error(`no bundle in ${outdir}`);
    });
  }
}

async function e2e(): Promise<void> {
  heading("browser end-to-end tests (Chromium)");
  if (!browserAvailable()) {
    const files = (await readdir(path.join(projectRoot, "e2e"))).filter((f) => f.endsWith(".test.ts"));
    const message = `Chromium is not installed at ${chromiumPath}: the browser tests (${files.join(", ")}) cannot run.\nInstall it with: ${installBrowserHint}`;
    if (isCI) {
      console.log(`FAIL ${message}`);
      total.failed++;
      failures.push("e2e: no browser under CI");
    } else {
      console.log(`\n${"!".repeat(78)}\nSKIPPED ${message}\n${"!".repeat(78)}`);
      total.skipped += files.length;
    }
    return;
  }
  await vitest("e2e", ["--config", "e2e/vitest.config.ts"]);
}

const parts: Record<string, () => Promise<void>> = { typecheck, workers: workerTests, build, e2e };
const only = process.argv[2];
if (only !== undefined && !(only in parts)) {
  console.error(`unknown part "${only}"; choose one of ${Object.keys(parts).join(", ")}`);
  process.exit(2);
}
for (const [name, part] of Object.entries(parts)) {
  if (only === undefined || only === name) await part();
}

if (failures.length > 0) console.log(`\nFailed:\n- ${failures.join("\n- ")}`);
const summary = `${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ""}`;
await mkdir(reports, { recursive: true });
await writeFile(path.join(reports, "summary.txt"), summary + "\n");
console.log(`\n${summary}`);
process.exit(total.failed > 0 ? 1 : 0);
