// `npm run deploy -- --env staging|production`: checks the environment's config, applies
// the remote D1 migrations (d1/migrations to DB, d1/watch-migrations to every watch shard
// WATCH_{k}), then deploys the media Worker and the api Worker (in that
// order: the api's service binding needs media to exist), each stamped with the git
// version. Production bundles are dry-run first and refused if fault injection is in
// them, and are built with `__MARQUEE_CHAOS__` false. `--gradual` uploads new versions
// without sending them traffic (`wrangler versions deploy` then splits it). Needs
// `wrangler login` or CLOUDFLARE_API_TOKEN; see docs/deploy.md.
import { buildVersion } from "./build-version.ts";
import { buildWeb } from "./build-web.ts";
import { buildWorker, environmentFlags, type WorkerTarget } from "./build.ts";
import { apiConfig, mediaConfig } from "./project.ts";
import { configuredShards } from "./watch-shards.ts";
import {
  environmentFlag,
  flagValue,
  mustWrangler,
  readEnvironment,
  UsageError,
  wrangler,
  type DeployEnvironment,
  type EnvironmentConfig,
  type Wrangler,
} from "./wrangler.ts";

export type DeployRequest = {
  env: DeployEnvironment;
  allowDirty: boolean;
  /** A CHAOS spec for both Workers of staging (a chaos run); never for production. */
  chaos: string | undefined;
  /** Upload versions only (`wrangler versions upload`); traffic moves with `wrangler versions deploy`. */
  gradual: boolean;
};

export function parseDeployArgs(argv: string[]): DeployRequest {
  const env = environmentFlag(argv);
  const chaos = flagValue(argv, "--chaos");
  const allowDirty = argv.includes("--allow-dirty");
  if (env === "production" && chaos !== undefined) throw new UsageError("--chaos is for staging: production builds contain no fault injection");
  if (env === "production" && allowDirty) throw new UsageError("--allow-dirty is for staging: production deploys only committed code");
  return { env, allowDirty, chaos, gradual: argv.includes("--gradual") };
}

/** Placeholder hostnames that must be replaced before production is deployed. */
const PLACEHOLDER = /(^|[./])example\.com\b/;

/** Why this environment cannot be deployed yet, checked offline before anything runs. */
export function preflight(env: DeployEnvironment, api: EnvironmentConfig, media: EnvironmentConfig): string[] {
  const problems: string[] = [];
  const db = api.d1.find((d) => d.binding === "DB");
  if (!db?.id) {
    problems.push(`wrangler.toml [env.${env}] has no database_id for DB: run \`npm run provision -- --env ${env}\` and commit wrangler.toml`);
  }
  const { shards, problems: shardProblems } = configuredShards(api, `wrangler.toml [env.${env}]`);
  problems.push(...shardProblems);
  const unprovisioned = shards.filter((s) => !s.databaseId).map((s) => s.binding);
  if (unprovisioned.length > 0) {
    problems.push(`wrangler.toml [env.${env}] has no database_id for ${unprovisioned.join(", ")}: run \`npm run provision -- --env ${env}\` and commit wrangler.toml`);
  }
  if (api.services.MEDIA_WORKER !== media.name) {
    problems.push(`the api's MEDIA_WORKER calls "${api.services.MEDIA_WORKER}", but the media Worker of ${env} is "${media.name}"`);
  }
  if (env === "production") {
    for (const [label, cfg] of [["wrangler.toml", api], ["workers/media/wrangler.toml", media]] as const) {
      const placeholders = [...cfg.routes, ...Object.values(cfg.vars)].filter((v) => PLACEHOLDER.test(v));
      if (placeholders.length > 0) {
        problems.push(`${label} [env.production] still names example.com (${placeholders.join(", ")}): put your own hostnames in its routes and vars`);
      }
      if (cfg.vars.ENVIRONMENT !== "production") problems.push(`${label} [env.production] must set ENVIRONMENT = "production"`);
    }
  }
  return problems;
}

export type DeployOptions = DeployRequest & {
  run: Wrangler;
  version: string;
  buildWeb: () => Promise<void>;
  configs?: { api: string; media: string };
  /** Where production's pre-deploy dry-run bundles go (dist/ by default). */
  outRoot?: string;
  log?: (line: string) => void;
};

export async function deploy(options: DeployOptions): Promise<void> {
  const { env, run, version } = options;
  const log = options.log ?? console.log;
  const configs = options.configs ?? { api: apiConfig, media: mediaConfig };
  if (version.endsWith("-dirty") && !options.allowDirty) {
    throw new Error(`refusing to deploy uncommitted changes (${version}); commit them${env === "staging" ? " or pass --allow-dirty" : ""}`);
  }
  const api = await readEnvironment(configs.api, env);
  const media = await readEnvironment(configs.media, env);
  const problems = preflight(env, api, media);
  if (problems.length > 0) throw new Error(problems.join("\n"));

  await options.buildWeb();
  // In the order they deploy: the api's service binding needs its media Worker to exist.
  const targets: (WorkerTarget & { deployed: string })[] = [
    { name: "marquee-media", config: configs.media, deployed: media.name },
    { name: "marquee-api", config: configs.api, deployed: api.name },
  ];
  if (env === "production") {
    // What is about to be uploaded, built the same way, must not contain fault injection.
    for (const t of targets) await buildWorker(t, version, true, { env, run, outRoot: options.outRoot });
    log("production bundles checked: no fault injection");
  }

  // Before any new code runs, so new code never meets an old schema. Migrations must keep
  // the running version working too (docs/operations.md): it serves until the deploy ends.
  // DB first, then every watch shard in turn: a failure stops the deploy before any Worker.
  const databases = ["DB", ...configuredShards(api, `wrangler.toml [env.${env}]`).shards.map((s) => s.binding)];
  for (const binding of databases) {
    await mustWrangler(run, ["d1", "migrations", "apply", binding, "--remote", "--config", configs.api, "--env", env]);
  }
  log(`migrations applied to ${databases.join(", ")}`);

  const chaos = options.chaos !== undefined ? ["--var", `CHAOS:${options.chaos}`] : [];
  for (const t of targets) {
    const command = options.gradual ? ["versions", "upload"] : ["deploy"];
    await mustWrangler(run, [...command, "--minify", "--config", t.config, ...environmentFlags(env, version), ...chaos, "--message", `marquee ${version}`]);
    log(`${options.gradual ? "uploaded a version of" : "deployed"} ${t.deployed} (${version})`);
  }
  if (options.gradual) {
    log(
      `\nNo traffic moved yet. Send some to the new versions, media first (docs/deploy.md "Gradual rollouts"):\n` +
        `  npx wrangler versions deploy --config workers/media/wrangler.toml --env ${env}\n` +
        `  npx wrangler versions deploy --config wrangler.toml --env ${env}`,
    );
  }
}

if (import.meta.main) {
  try {
    const request = parseDeployArgs(process.argv.slice(2));
    const version = buildVersion();
    await deploy({ ...request, run: wrangler, version, buildWeb: async () => void (await buildWeb()) });
    console.log(`\n${request.gradual ? "uploaded" : "deployed"} ${version} to ${request.env}; GET /healthz on each origin reports it`);
  } catch (err) {
    console.error(
      err instanceof UsageError
        ? `usage: npm run deploy -- --env staging|production [--gradual] [--chaos SPEC] [--allow-dirty]\n${err.message}`
        : (err as Error).message,
    );
    process.exit(err instanceof UsageError ? 2 : 1);
  }
}
