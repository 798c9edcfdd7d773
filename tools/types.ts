// `npm run types`: regenerates each Worker's binding types from its wrangler.toml (one
// `wrangler types` run per Worker). With `--check`, fails if a committed file is stale.
// Paths are relative to the project (wrangler runs there) so the files' headers are too.
import { runWrangler } from "./wrangler.ts";

export const typeTargets = [
  { config: "wrangler.toml", out: "workers/api/worker-configuration.d.ts", envInterface: "ApiEnv" },
  { config: "workers/media/wrangler.toml", out: "workers/media/worker-configuration.d.ts", envInterface: "MediaEnv" },
];

export async function generateTypes(check: boolean, quiet = false): Promise<void> {
  for (const t of typeTargets) {
    await runWrangler(
      [
        "types",
        t.out,
        "--config", t.config,
        "--env-interface", t.envInterface,
        // Runtime types come from @cloudflare/workers-types; two generated copies would clash.
        "--include-runtime=false",
        // Vars are typed `string`: production values differ from wrangler.toml's defaults.
        "--strict-vars=false",
        // Secret names from the committed .dev.vars.example beside each config (wrangler
        // resolves the path from the config's folder), never from a developer's .dev.vars.
        "--env-file", ".dev.vars.example",
        ...(check ? ["--check"] : []),
      ],
      { quiet },
    );
  }
}

if (import.meta.main) await generateTypes(process.argv.includes("--check"));
