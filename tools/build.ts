// `npm run build`: the web assets, then a minified dry-run deploy of the production
// environment of both Workers into dist/ — offline, exactly what `npm run deploy -- --env
// production` would upload — and a check that no production bundle carries fault
// injection (the chaos module's messages start with CHAOS_MARKER).
import { readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { buildVersion } from "./build-version.ts";
import { buildWeb } from "./build-web.ts";
import { apiConfig, mediaConfig, projectRoot } from "./project.ts";
import { mustWrangler, wrangler, type DeployEnvironment, type Wrangler } from "./wrangler.ts";

export const workers = [
  { name: "marquee-api", config: apiConfig },
  { name: "marquee-media", config: mediaConfig },
] as const;
export type WorkerTarget = { name: string; config: string };

/** In every injected fault's message (lib/bindings/chaos.ts CHAOS_MARK); never in a production bundle. */
export const CHAOS_MARKER = "chaos: injected";

/**
 * Flags every build or deploy of an environment gets. Production compiles the fault
 * injection out (`__MARQUEE_CHAOS__` false makes its code dead, and esbuild drops it);
 * staging keeps it, honoured only when its CHAOS var says so.
 */
export function environmentFlags(env: DeployEnvironment, version: string): string[] {
  return [
    "--env", env,
    "--var", `BUILD_VERSION:${version}`,
    ...(env === "production" ? ["--define", "__MARQUEE_CHAOS__:false"] : []),
  ];
}

/** The JavaScript files wrangler wrote (not source maps: those quote every source, dead code included). */
async function bundleFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && /\.(m?js|cjs)$/.test(e.name))
    .map((e) => path.join(e.parentPath, e.name));
}

/** Fails if a bundle in `outdir` still contains the fault-injection code. */
export async function assertNoChaos(outdir: string): Promise<void> {
  const files = await bundleFiles(outdir);
  if (files.length === 0) throw new Error(`no bundle in ${outdir}`);
  for (const file of files) {
    if ((await readFile(file, "utf8")).includes(CHAOS_MARKER)) {
      throw new Error(
        `${path.relative(projectRoot, file)} contains "${CHAOS_MARKER}": fault injection reached a production bundle ` +
          `(is every use of it behind __MARQUEE_CHAOS__?)`,
      );
    }
  }
}

export type BuildOptions = { env?: DeployEnvironment; run?: Wrangler; outRoot?: string };

/**
 * Dry-run deploys one Worker's environment (production unless told) into
 * {outRoot}/{name}; a production bundle is checked for fault injection. `--outdir` must be
 * absolute with `--config`.
 */
export async function buildWorker(worker: WorkerTarget, version: string, quiet = false, options: BuildOptions = {}): Promise<string> {
  const env = options.env ?? "production";
  const outdir = path.join(options.outRoot ?? path.join(projectRoot, "dist"), worker.name);
  // A bundle left from an earlier build must not pass (or fail) this one's check.
  await rm(outdir, { recursive: true, force: true });
  await mustWrangler(
    options.run ?? wrangler,
    ["deploy", "--dry-run", "--minify", "--config", worker.config, "--outdir", outdir, ...environmentFlags(env, version)],
    { capture: quiet },
  );
  if (env === "production") await assertNoChaos(outdir);
  return outdir;
}

if (import.meta.main) {
  await buildWeb();
  const version = buildVersion();
  try {
    for (const worker of workers) console.log(`${worker.name} (production): ${await buildWorker(worker, version)}`);
    console.log(`no production bundle contains "${CHAOS_MARKER}"`);
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
}
