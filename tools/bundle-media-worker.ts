// Bundles the media Worker into one ES module, so api tests can run it as an auxiliary
// Worker behind the MEDIA_WORKER service binding.
import { build } from "esbuild";
import path from "node:path";
import { projectRoot } from "./project.ts";

export async function bundleMediaWorker(): Promise<string> {
  const outfile = path.join(projectRoot, ".wrangler/test/marquee-media.mjs");
  await build({
    entryPoints: [path.join(projectRoot, "workers/media/index.ts")],
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
