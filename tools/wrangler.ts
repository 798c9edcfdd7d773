// Runs wrangler with the project's offline environment: `node tools/wrangler.ts <args>`.
import { spawn } from "node:child_process";
import path from "node:path";
import { offlineEnv, projectRoot } from "./project.ts";

const wranglerBin = path.join(projectRoot, "node_modules/.bin/wrangler");

/** Runs wrangler to completion with inherited stdio; rejects on a non-zero exit. */
export function runWrangler(args: string[], options: { quiet?: boolean } = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(wranglerBin, args, {
      cwd: projectRoot,
      env: offlineEnv,
      stdio: options.quiet ? ["ignore", "pipe", "pipe"] : "inherit",
    });
    let output = "";
    child.stdout?.on("data", (d) => (output += d));
    child.stderr?.on("data", (d) => (output += d));
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`wrangler ${args.join(" ")} exited with ${code}\n${output}`)),
    );
  });
}

if (import.meta.main) {
  await runWrangler(process.argv.slice(2)).catch((err: Error) => {
    console.error(err.message);
    process.exit(1);
  });
}
