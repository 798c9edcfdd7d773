// `npm run build`: the web assets, then a minified dry-run deploy of both Workers into
// dist/ — offline, exactly what `npm run deploy` would upload.
import path from "node:path";
import { buildVersion } from "./build-version.ts";
import { buildWeb } from "./build-web.ts";
import { apiConfig, mediaConfig, projectRoot } from "./project.ts";
import { runWrangler } from "./wrangler.ts";

export const workers = [
  { name: "marquee-api", config: apiConfig },
  { name: "marquee-media", config: mediaConfig },
] as const;

/** Dry-run deploys one Worker into dist/{name}; `--outdir` must be absolute with `--config`. */
export async function buildWorker(worker: (typeof workers)[number], version: string, quiet = false): Promise<string> {
  const outdir = path.join(projectRoot, "dist", worker.name);
  await runWrangler(
    ["deploy", "--dry-run", "--minify", "--config", worker.config, "--outdir", outdir, "--var", `BUILD_VERSION:${version}`],
    { quiet },
  );
  return outdir;
}

if (import.meta.main) {
  await buildWeb();
  const version = buildVersion();
  for (const worker of workers) console.log(`${worker.name}: ${await buildWorker(worker, version)}`);
}
