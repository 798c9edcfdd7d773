// `npm run ingest` from browser tests and benches: the CLI against the running platform,
// with `--json`, answering its exit code and the JSON line it printed last.
import { spawn, spawnSync } from "node:child_process";
import { projectRoot } from "../tools/project.ts";

/** Whether this machine has ffmpeg (outside CI, the tests that need it skip without it, saying so). */
export const hasFfmpeg = spawnSync("ffmpeg", ["-version"], { stdio: "ignore" }).status === 0;

export function runIngest<Out>(baseUrl: string, args: string[]): Promise<{ exitCode: number; out: Out }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["tools/ingest/cli.ts", ...args, "--api", baseUrl, "--json"], { cwd: projectRoot, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("exit", (code) => {
      try {
        resolve({ exitCode: code ?? 1, out: JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as Out });
      } catch {
        reject(new Error(`ingest printed no JSON (exit ${code}):\n${stdout}\n${stderr}`));
      }
    });
  });
}
