// Bundles a Worker once and writes a `no_bundle` wrangler config for it, so the code under measurement is fixed for the whole run.
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { unstable_readConfig } from "wrangler";
import { bundleWorker } from "../../test-support/config/bundle-worker.ts";

export type PinOptions = {
  config: string;
  outDir: string;
  vars?: Record<string, string>;
  /** Copied beside the generated config, where wrangler looks for a Worker's secrets. */
  devVars?: string;
};

/**
 * With wrangler's own bundling, any edit in the working tree during a run rebuilds and
 * reloads the Worker (and restarts its workerd) in the middle of a measurement. Both Workers
 * are pinned the same way, so neither gets wrangler's dev-only middleware and the other not.
 */
export async function pinWorker(o: PinOptions): Promise<string> {
  const config = unstable_readConfig({ config: o.config });
  if (!config.main) throw new Error(`${o.config} has no main`);
  await mkdir(o.outDir, { recursive: true });
  await bundleWorker(config.main, path.join(o.outDir, "index.mjs"));
  const file = path.join(o.outDir, "wrangler.json");
  await writeFile(
    file,
    JSON.stringify(
      {
        name: config.name,
        main: "index.mjs",
        no_bundle: true,
        compatibility_date: config.compatibility_date,
        compatibility_flags: config.compatibility_flags,
        send_metrics: false,
        vars: { ...config.vars, ...o.vars },
        r2_buckets: config.r2_buckets,
      },
      null,
      2,
    ),
  );
  if (o.devVars) await copyFile(o.devVars, path.join(o.outDir, ".dev.vars"));
  return file;
}
