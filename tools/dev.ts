// `npm run dev`: local secrets, web assets, D1 migrations and the demo seed, then both
// Workers in one `wrangler dev`. Extra arguments go to wrangler (`npm run dev -- --port 8790`).
import { spawn } from "node:child_process";
import path from "node:path";
import { buildWeb } from "./build-web.ts";
import { ensureDevVars } from "./dev-vars.ts";
import { apiConfig, mediaConfig, offlineEnv, projectRoot } from "./project.ts";
import { seedLocal } from "./seed.ts";

/** The value of a `--flag value` or `--flag=value` argument. */
function argValue(args: string[], flag: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === flag) return args[i + 1];
    if (arg.startsWith(`${flag}=`)) return arg.slice(flag.length + 1);
  }
  return undefined;
}

const passThrough = process.argv.slice(2);
const persistTo = argValue(passThrough, "--persist-to");

await ensureDevVars();
await buildWeb();
await seedLocal(persistTo);

const child = spawn(
  path.join(projectRoot, "node_modules/.bin/wrangler"),
  ["dev", "--config", apiConfig, "--config", mediaConfig, "--show-interactive-dev-session=false", ...passThrough],
  { cwd: projectRoot, env: offlineEnv, stdio: "inherit" },
);
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
