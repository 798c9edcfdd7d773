// Bundles a Worker into one ES module the way wrangler would, for running it outside
// wrangler's own build: the media Worker as an auxiliary Worker in the api tests, and
// pinned Workers in the benchmarks.
import { build } from "esbuild";
import path from "node:path";
import { fileURLToPath } from "node:url";

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export async function bundleWorker(entry: string, outfile: string): Promise<string> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: "esm",
    target: "es2022",
    platform: "browser",
    conditions: ["workerd", "worker", "browser"],
    external: ["cloudflare:*"],
    logLevel: "warning",
  });
  return outfile;
}

export function bundleMediaWorker(): Promise<string> {
  return bundleWorker(path.join(projectRoot, "workers/media/index.ts"), path.join(projectRoot, ".wrangler/test/marquee-media.mjs"));
}
