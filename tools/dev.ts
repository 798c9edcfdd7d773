// `npm run dev`: local secrets, web assets, D1 migrations and the demo seed, then both
// Workers in one `wrangler dev`. Extra arguments go to wrangler (`npm run dev -- --port 8790`),
// except `--chaos SPEC`, which turns fault injection on in both Workers (docs/resilience.md),
// and `--chaos-media SPEC`, on in the media Worker alone (e.g. `r2:MEDIA=1@10s`: the primary
// bucket gone ten seconds into playback, docs/media-origin.md).
import { spawn } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
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

const given = process.argv.slice(2);
const chaos = argValue(given, "--chaos");
const mediaChaos = argValue(given, "--chaos-media") ?? chaos;
const ours = ["--chaos", "--chaos-media"];
const passThrough = given.filter((arg, i) => !ours.includes(arg) && !ours.includes(given[i - 1] ?? "") && !ours.some((flag) => arg.startsWith(`${flag}=`)));
const persistTo = argValue(passThrough, "--persist-to");

/**
 * With `--chaos`, each Worker runs from a copy of its config beside the original (so its
 * paths and .dev.vars resolve the same) with the top-level CHAOS var set: wrangler's
 * `--var` reaches only the first Worker of a multi-config `wrangler dev`.
 */
function configWithChaos(config: string, spec: string): string {
  const copy = config.replace(/\.toml$/, ".chaos.toml");
  const text = readFileSync(config, "utf8");
  if (!/^CHAOS = ""$/m.test(text)) throw new Error(`${path.relative(projectRoot, config)} has no top-level CHAOS = "" to set`);
  writeFileSync(copy, `# Made by \`npm run dev -- --chaos\` from ${path.basename(config)}; removed when it stops.\n${text.replace(/^CHAOS = ""$/m, `CHAOS = ${JSON.stringify(spec)}`)}`);
  return copy;
}
const configs = [chaos ? configWithChaos(apiConfig, chaos) : apiConfig, mediaChaos ? configWithChaos(mediaConfig, mediaChaos) : mediaConfig];
if (chaos || mediaChaos) {
  process.on("exit", () => configs.forEach((c) => c.endsWith(".chaos.toml") && rmSync(c, { force: true })));
  if (chaos) console.log(`fault injection on in the api Worker: CHAOS="${chaos}"`);
  if (mediaChaos) console.log(`fault injection on in the media Worker: CHAOS="${mediaChaos}"`);
}

await ensureDevVars();
await buildWeb();
await seedLocal(persistTo);

const child = spawn(
  path.join(projectRoot, "node_modules/.bin/wrangler"),
  ["dev", "--config", configs[0]!, "--config", configs[1]!, "--show-interactive-dev-session=false", ...passThrough],
  { cwd: projectRoot, env: offlineEnv, stdio: "inherit" },
);
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
