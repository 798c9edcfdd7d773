// `npm run provision -- --env staging|production`: once per environment (and safe to run
// again), creates — or finds by name — the D1 databases (DB and the EVENT_SHARDS watch
// shards WATCH_{k}), the R2 buckets (the primary, bound as MEDIA, and each replica's: any
// other binding) and the queues (each shard's, the dead-letter queue, qoe) that the
// environment's config names, writes each database's id into wrangler.toml,
// turns on D1 read replication (given API credentials), and sets the Workers' secrets.
// Needs `wrangler login` or CLOUDFLARE_API_TOKEN; see docs/deploy.md. Resource names come
// from the configs, never from here, so the configs stay the one place they are written
// down.
//
// Location hints (weur, eeur, apac, oc, wnam, enam): `--location` is the D1 databases' and
// the primary bucket's (none: Cloudflare picks, near whoever runs this). A replica bucket
// is made in `--replica-location`, which must differ from `--location`, so one region's
// trouble is not both origins' (docs/media-origin.md). Without it, across an ocean: `weur`
// when the primary is `wnam` or `enam`, else (Europe, Asia-Pacific, Oceania, or no hint)
// `enam` (replicaLocationFor). A bucket that already exists keeps the location it has.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { createInterface } from "node:readline";
import { parsePathways, PathwaySpecError, PRIMARY_BINDING } from "../lib/media-origins/pathways.ts";
import { parseVars } from "./dev-vars.ts";
import { apiConfig, mediaConfig, projectRoot } from "./project.ts";
import { configuredShards } from "./watch-shards.ts";
import {
  environmentFlag,
  flagValue,
  jsonOutput,
  mustWrangler,
  outputOf,
  readEnvironment,
  UsageError,
  wrangler,
  type DeployEnvironment,
  type EnvironmentConfig,
  type Wrangler,
} from "./wrangler.ts";

/** The secrets each Worker needs (the names in its .dev.vars.example that are not wrangler.toml vars). */
export const workerSecrets = {
  media: ["PLAYBACK_TOKEN_KEYS"],
  api: ["ADMIN_TOKEN", "PLAYBACK_TOKEN_KEYS", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"],
} as const;
type SecretName = (typeof workerSecrets)[keyof typeof workerSecrets][number];

/** Made here when missing; the Stripe ones come from Stripe and can only be given. */
const generated: Partial<Record<SecretName, (random: (bytes: number) => string) => string>> = {
  ADMIN_TOKEN: (random) => random(32),
  PLAYBACK_TOKEN_KEYS: (random) => `k1:${random(32)}`,
};

export type ProvisionOptions = {
  env: DeployEnvironment;
  run: Wrangler;
  configs?: { api: string; media: string };
  /** Where given secret values are looked up (process.env): a value given is always set. */
  given?: Record<string, string | undefined>;
  /** Asks for a value on a terminal; absent without one. */
  prompt?: (question: string) => Promise<string>;
  /** Location hint for a new D1 database and the primary R2 bucket (weur, eeur, apac, oc, wnam, enam). */
  location?: string;
  /** Location hint for new replica buckets, not `location`; by default across an ocean from it (replicaLocationFor). */
  replicaLocation?: string;
  /** Generated secret values are kept here (mode 0600) for the operator to move somewhere safe. */
  secretsFile?: string;
  random?: (bytes: number) => string;
  /**
   * CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID: with both, D1 read replication is turned
   * on for every database (one REST call each; wrangler has no command for it). Without
   * them (`wrangler login`), it is left as it is and the call to make is printed.
   */
  credentials?: { apiToken: string | undefined; accountId: string | undefined };
  fetch?: typeof fetch;
  log?: (line: string) => void;
};

export type SecretOutcome = { worker: string; name: SecretName; action: "set-given" | "set-generated" | "set-prompted" | "kept" | "missing" };
type Database = { name: string; id: string; created: boolean };
export type ProvisionReport = {
  database: Database;
  /** The watch shards' databases, WATCH_0 first. */
  watchDatabases: (Database & { binding: string })[];
  /**
   * The primary's (binding MEDIA) first, then the replicas'. `location`: the hint a bucket
   * was created with (undefined when found, or made without one).
   */
  buckets: { binding: string; name: string; created: boolean; location: string | undefined }[];
  queues: { name: string; created: boolean }[];
  configChanged: boolean;
  /** "auto" when it was turned on for every database; "unchanged" without API credentials. */
  readReplication: "auto" | "unchanged";
  secrets: SecretOutcome[];
  secretsFile: string | undefined;
};

/** What both configs of an environment must agree on before anything is created. */
export function checkEnvironment(env: DeployEnvironment, api: EnvironmentConfig, media: EnvironmentConfig): string[] {
  const problems: string[] = [];
  const db = api.d1.find((d) => d.binding === "DB");
  if (!db?.name) problems.push(`wrangler.toml [env.${env}] has no D1 database bound as DB`);
  if (api.buckets.length === 0) problems.push(`wrangler.toml [env.${env}] has no R2 bucket`);
  else if (!api.bucketBindings[PRIMARY_BINDING]) problems.push(`wrangler.toml [env.${env}] has no R2 bucket bound as ${PRIMARY_BINDING}`);
  const bindings = (c: EnvironmentConfig) => JSON.stringify(Object.entries(c.bucketBindings).sort());
  if (media.buckets.join() !== api.buckets.join() || bindings(media) !== bindings(api)) {
    problems.push(`the api and media Workers of ${env} must share their R2 buckets under the same bindings (api: ${api.buckets.join(", ")}; media: ${media.buckets.join(", ")})`);
  }
  if ((api.vars.MEDIA_REPLICAS ?? "") !== (media.vars.MEDIA_REPLICAS ?? "")) {
    problems.push(`MEDIA_REPLICAS of ${env} differs between the api ("${api.vars.MEDIA_REPLICAS ?? ""}") and media ("${media.vars.MEDIA_REPLICAS ?? ""}") Workers: publishing would copy to other replicas than players are sent to`);
  }
  for (const [binding, name] of Object.entries(api.bucketBindings)) {
    if (binding !== PRIMARY_BINDING && name === api.bucketBindings[PRIMARY_BINDING]) {
      problems.push(`wrangler.toml [env.${env}] binds ${name} as both ${PRIMARY_BINDING} and ${binding}: a replica must be a bucket of its own`);
    }
  }
  try {
    for (const p of parsePathways(api.vars.MEDIA_REPLICAS)) {
      if (p.origin.kind === "r2" && p.origin.binding !== PRIMARY_BINDING && !api.bucketBindings[p.origin.binding]) {
        problems.push(`MEDIA_REPLICAS of ${env} names ${p.id}=r2:${p.origin.binding}, but no R2 bucket is bound as ${p.origin.binding}`);
      }
    }
  } catch (err) {
    if (!(err instanceof PathwaySpecError)) throw err;
    problems.push(`MEDIA_REPLICAS of ${env} cannot be read: ${err.message}`);
  }
  if (api.services.MEDIA_WORKER !== media.name) {
    problems.push(`wrangler.toml [env.${env}] MEDIA_WORKER calls "${api.services.MEDIA_WORKER}", but the media Worker of ${env} is "${media.name}"`);
  }
  problems.push(...configuredShards(api, `wrangler.toml [env.${env}]`).problems);
  for (const dlq of api.deadLetterQueues) {
    // The consumer tells the dead-letter queue's batches from the others by this suffix.
    if (!dlq.endsWith("-dlq")) problems.push(`dead-letter queue "${dlq}" must end in -dlq (workers/api/queue/consume-watch-events.ts)`);
  }
  return problems;
}

/**
 * Writes `database_id` into the `[[env.{env}.d1_databases]]` block binding `binding`,
 * replacing an old value or adding the line after `database_name`. Text-only, so the
 * file's comments and layout survive. Returns whether the file changed.
 */
export async function writeDatabaseId(configPath: string, env: DeployEnvironment, binding: string, id: string): Promise<boolean> {
  const text = await readFile(configPath, "utf8");
  const lines = text.split("\n");
  const header = `[[env.${env}.d1_databases]]`;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== header) continue;
    let end = i + 1;
    while (end < lines.length && !lines[end]!.trim().startsWith("[")) end++;
    const block = lines.slice(i + 1, end);
    if (!block.some((l) => new RegExp(`^\\s*binding\\s*=\\s*"${binding}"`).test(l))) continue;
    const line = `database_id = "${id}"`;
    const at = block.findIndex((l) => /^\s*database_id\s*=/.test(l));
    if (at >= 0) {
      if (block[at]!.trim() === line) return false;
      lines[i + 1 + at] = line;
    } else {
      const nameAt = block.findIndex((l) => /^\s*database_name\s*=/.test(l));
      lines.splice(i + 1 + (nameAt >= 0 ? nameAt + 1 : 0), 0, line);
    }
    await writeFile(configPath, lines.join("\n"));
    return true;
  }
  throw new Error(`${path.relative(projectRoot, configPath)} has no ${header} block with binding = "${binding}"`);
}

/** Finds each database by name (one `d1 list`), creates the missing ones, and reads their ids back. */
async function ensureDatabases(run: Wrangler, names: string[], location: string | undefined, log: (l: string) => void): Promise<Database[]> {
  const list = async () => {
    const out = await mustWrangler(run, ["d1", "list", "--json"], { capture: true });
    return new Map(jsonOutput<{ uuid: string; name: string }[]>(out.stdout).map((d) => [d.name, d.uuid]));
  };
  const before = await list();
  const missing = names.filter((n) => !before.has(n));
  for (const name of missing) await mustWrangler(run, ["d1", "create", name, ...(location ? ["--location", location] : [])]);
  // The ids are read back from the list, not from the create command's prose.
  const after = missing.length > 0 ? await list() : before;
  return names.map((name) => {
    const id = after.get(name);
    if (!id) throw new Error(`created D1 database ${name}, but \`wrangler d1 list\` does not show it`);
    const created = missing.includes(name);
    log(`D1 database ${name}: ${created ? "created" : "found"} (${id})`);
    return { name, id, created };
  });
}

/**
 * Turns on D1 read replication (`read_replication.mode = "auto"`) for each database: the
 * documented REST call `PUT /accounts/{account}/d1/database/{id}`, harmless to repeat.
 * Replicas serve the queries a Worker makes through D1's Sessions API (`withSession`).
 */
async function enableReadReplication(
  databases: Database[],
  options: Pick<ProvisionOptions, "credentials" | "fetch">,
  log: (l: string) => void,
): Promise<ProvisionReport["readReplication"]> {
  const { apiToken, accountId } = options.credentials ?? {};
  const url = (account: string, id: string) => `https://api.cloudflare.com/client/v4/accounts/${account}/d1/database/${id}`;
  const body = JSON.stringify({ read_replication: { mode: "auto" } });
  if (!apiToken || !accountId) {
    log(
      `D1 read replication: left as it is (it needs CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID; wrangler has no command for it). To turn it on, for each database id:\n` +
        `  curl -X PUT ${url("$CLOUDFLARE_ACCOUNT_ID", "<database_id>")} -H "Authorization: Bearer $CLOUDFLARE_API_TOKEN" -H "Content-Type: application/json" -d '${body}'`,
    );
    return "unchanged";
  }
  const send = options.fetch ?? fetch;
  for (const d of databases) {
    const response = await send(url(accountId, d.id), {
      method: "PUT",
      headers: { Authorization: `Bearer ${apiToken}`, "Content-Type": "application/json" },
      body,
    });
    const answer = (await response.json().catch(() => null)) as { success?: boolean; errors?: unknown } | null;
    if (!response.ok || answer?.success !== true) {
      throw new Error(`turning on read replication for D1 database ${d.name} failed (${response.status}): ${JSON.stringify(answer?.errors ?? answer)}`);
    }
  }
  log(`D1 read replication: on (auto) for ${databases.map((d) => d.name).join(", ")}`);
  return "auto";
}

/** R2's location hints. */
export const LOCATION_HINTS = ["weur", "eeur", "apac", "oc", "wnam", "enam"] as const;

/**
 * Where a replica goes when `--replica-location` is not given: across an ocean from the
 * primary — eastern North America for a European, Asia-Pacific or unhinted primary (R2
 * then places it near whoever created it, most often Europe or North America), western
 * Europe for a North American one.
 */
export function replicaLocationFor(primary: string | undefined): string {
  return primary === "wnam" || primary === "enam" ? "weur" : "enam";
}

async function ensureBuckets(run: Wrangler, buckets: { binding: string; name: string; location: string | undefined }[], log: (l: string) => void): Promise<ProvisionReport["buckets"]> {
  const list = await mustWrangler(run, ["r2", "bucket", "list"], { capture: true });
  const have = new Set([...outputOf(list).matchAll(/^\s*name:\s+(\S+)\s*$/gm)].map((m) => m[1]!));
  const out: ProvisionReport["buckets"] = [];
  for (const { binding, name, location } of buckets) {
    if (have.has(name)) {
      log(`R2 bucket ${name} (${binding}): found`);
      out.push({ binding, name, created: false, location: undefined });
      continue;
    }
    await mustWrangler(run, ["r2", "bucket", "create", name, ...(location ? ["--location", location] : [])]);
    log(`R2 bucket ${name} (${binding}): created${location ? ` in ${location}` : ""}`);
    out.push({ binding, name, created: true, location });
  }
  return out;
}

/** Dead letters wait the longest a queue allows (14 days): they are what an incident leaves to replay. */
const DLQ_RETENTION_SECS = 14 * 24 * 3600;

async function ensureQueues(run: Wrangler, names: string[], deadLetter: Set<string>, log: (l: string) => void) {
  const out = [];
  for (const name of names) {
    const info = await run(["queues", "info", name], { capture: true });
    if (info.code === 0) {
      log(`queue ${name}: found`);
      out.push({ name, created: false });
      continue;
    }
    if (!/does not exist/i.test(outputOf(info))) throw new Error(`wrangler queues info ${name} failed:\n${outputOf(info).trim()}`);
    const retention = deadLetter.has(name) ? ["--message-retention-period-secs", String(DLQ_RETENTION_SECS)] : [];
    await mustWrangler(run, ["queues", "create", name, ...retention]);
    log(`queue ${name}: created`);
    out.push({ name, created: true });
  }
  return out;
}

/** Names of the secrets a deployed Worker has; none when the Worker does not exist yet. */
async function secretNames(run: Wrangler, config: string, env: DeployEnvironment): Promise<Set<string>> {
  const result = await run(["secret", "list", "--format", "json", "--config", config, "--env", env], { capture: true });
  if (result.code !== 0) {
    if (/10007|does not exist|not found/i.test(outputOf(result))) return new Set();
    throw new Error(`wrangler secret list --env ${env} failed:\n${outputOf(result).trim()}`);
  }
  return new Set(jsonOutput<{ name: string }[]>(result.stdout).map((s) => s.name));
}

/** Decides every secret's value (or that it stays) before any is written. */
async function planSecrets(
  env: DeployEnvironment,
  have: { media: Set<string>; api: Set<string> },
  options: Required<Pick<ProvisionOptions, "given" | "random">> & Pick<ProvisionOptions, "prompt">,
) {
  const values = new Map<SecretName, { value: string; action: SecretOutcome["action"] }>();
  const problems: string[] = [];
  const names = [...new Set([...workerSecrets.media, ...workerSecrets.api])];
  for (const name of names) {
    const given = options.given[name];
    if (given) {
      values.set(name, { value: given, action: "set-given" });
      continue;
    }
    const holders = (["media", "api"] as const).filter((w) => (workerSecrets[w] as readonly string[]).includes(name));
    const present = holders.filter((w) => have[w].has(name));
    if (present.length === holders.length) continue; // kept as it is on every Worker
    if (present.length > 0) {
      // Secrets cannot be read back, and both Workers must hold the same playback keys.
      problems.push(
        `${name} is set on the ${present.join(" and ")} Worker but not on the ${holders.filter((w) => !present.includes(w)).join(" and ")} one; ` +
          `a secret cannot be read back: run again with ${name}=<its value> in the environment (or new keys: see docs/operations.md)`,
      );
      continue;
    }
    const make = generated[name];
    if (make) {
      values.set(name, { value: make(options.random), action: "set-generated" });
      continue;
    }
    const answer = options.prompt ? (await options.prompt(`${name} for ${env} (from the Stripe dashboard): `)).trim() : "";
    if (answer) values.set(name, { value: answer, action: "set-prompted" });
    else if (env === "production") problems.push(`${name} is not set: give it in the environment (${name}=… npm run provision -- --env production) or on a terminal`);
  }
  if (problems.length > 0) throw new Error(problems.join("\n"));
  return values;
}

async function saveGenerated(file: string, env: DeployEnvironment, values: Map<SecretName, { value: string; action: string }>) {
  const made = [...values].filter(([, v]) => v.action === "set-generated");
  if (made.length === 0) return undefined;
  const old = existsSync(file) ? parseVars(await readFile(file, "utf8")) : new Map<string, string>();
  for (const [name, { value }] of made) old.set(name, value);
  await mkdir(path.dirname(file), { recursive: true });
  const body = [...old].map(([k, v]) => `${k}=${v}`).join("\n");
  await writeFile(file, `# Secrets generated by npm run provision for ${env}. Move them to a password manager, then delete this file.\n${body}\n`, { mode: 0o600 });
  return file;
}

export async function provision(options: ProvisionOptions): Promise<ProvisionReport> {
  const { env, run } = options;
  const configs = options.configs ?? { api: apiConfig, media: mediaConfig };
  const log = options.log ?? console.log;
  const random = options.random ?? ((bytes: number) => randomBytes(bytes).toString("base64url"));

  const api = await readEnvironment(configs.api, env);
  const media = await readEnvironment(configs.media, env);
  const problems = checkEnvironment(env, api, media);
  if (problems.length > 0) throw new Error(problems.join("\n"));
  for (const hint of [options.location, options.replicaLocation]) {
    if (hint !== undefined && !(LOCATION_HINTS as readonly string[]).includes(hint)) throw new UsageError(`"${hint}" is not an R2 location hint (${LOCATION_HINTS.join(", ")})`);
  }
  if (options.replicaLocation !== undefined && options.replicaLocation === options.location) {
    throw new UsageError(`--replica-location must differ from --location (both "${options.location}"): a replica in the primary's region fails with it`);
  }

  const who = await run(["whoami"]);
  if (who.code !== 0) throw new Error("wrangler is not signed in to Cloudflare: run `npx wrangler login`, or set CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID");

  const db = api.d1.find((d) => d.binding === "DB")!;
  const shards = configuredShards(api, `wrangler.toml [env.${env}]`).shards;
  const bindings = [{ binding: "DB", name: db.name }, ...shards.map((s) => ({ binding: s.binding, name: s.database }))];
  const found = await ensureDatabases(run, bindings.map((b) => b.name), options.location, log);
  let configChanged = false;
  for (const [i, { binding }] of bindings.entries()) {
    const { id } = found[i]!;
    if (!(await writeDatabaseId(configs.api, env, binding, id))) continue;
    configChanged = true;
    log(`${path.relative(projectRoot, configs.api)}: [env.${env}] ${binding} database_id = "${id}" (commit it before deploying)`);
  }
  const database = found[0]!;
  const watchDatabases = found.slice(1).map((d, i) => ({ binding: bindings[i + 1]!.binding, ...d }));
  const readReplication = await enableReadReplication(found, options, log);
  const replicaLocation = options.replicaLocation ?? replicaLocationFor(options.location);
  // checkEnvironment made both Workers' bindings the same: the api's are all of them.
  const bucketBindings = Object.entries(api.bucketBindings).sort(([a], [b]) => Number(b === PRIMARY_BINDING) - Number(a === PRIMARY_BINDING));
  const buckets = await ensureBuckets(
    run,
    bucketBindings.map(([binding, name]) => ({ binding, name, location: binding === PRIMARY_BINDING ? options.location : replicaLocation })),
    log,
  );
  const queues = await ensureQueues(run, api.queues, new Set(api.deadLetterQueues), log);

  // Media first: when playback keys change, the Worker that verifies must know a new key
  // before the one that signs starts using it.
  const have = { media: await secretNames(run, configs.media, env), api: await secretNames(run, configs.api, env) };
  const values = await planSecrets(env, have, { given: options.given ?? {}, random, prompt: options.prompt });
  const secrets: SecretOutcome[] = [];
  for (const worker of ["media", "api"] as const) {
    const config = worker === "media" ? configs.media : configs.api;
    const workerName = worker === "media" ? media.name : api.name;
    for (const name of workerSecrets[worker]) {
      const planned = values.get(name);
      if (!planned) {
        const action = have[worker].has(name) ? "kept" : "missing";
        secrets.push({ worker: workerName, name, action });
        log(`secret ${name} on ${workerName}: ${action === "kept" ? "already set, kept" : "NOT SET (billing will fail until it is)"}`);
        continue;
      }
      await mustWrangler(run, ["secret", "put", name, "--config", config, "--env", env], { input: planned.value });
      secrets.push({ worker: workerName, name, action: planned.action });
      log(`secret ${name} on ${workerName}: ${planned.action.replace("set-", "set (")})`);
    }
  }
  const secretsFile = await saveGenerated(options.secretsFile ?? path.join(projectRoot, `.wrangler/provision/${env}.secrets.env`), env, values);
  if (secretsFile) {
    log(`generated values are in ${path.relative(projectRoot, secretsFile)} (mode 600, git-ignored): move them to a password manager and delete the file; Cloudflare never shows a secret again`);
  }
  return { database, watchDatabases, buckets, queues, configChanged, readReplication, secrets, secretsFile };
}

/** What the run made, in the lines printed at its end. */
export function summary(env: DeployEnvironment, report: ProvisionReport): string {
  const bucket = (b: ProvisionReport["buckets"][number]) =>
    `${b.binding === PRIMARY_BINDING ? "primary" : `replica ${b.binding}`} ${b.name} (${b.created ? `created${b.location ? ` in ${b.location}` : ", location chosen by Cloudflare"}` : "found, location unchanged"})`;
  return (
    `provisioned ${env}: D1 ${report.database.name} and ${report.watchDatabases.length} watch shards (${report.watchDatabases.map((d) => d.name).join(", ")}), ` +
    `R2 ${report.buckets.map(bucket).join(", ")}, queues ${report.queues.map((q) => q.name).join(", ")}.` +
    (report.configChanged ? `\nNext: commit wrangler.toml, then npm run deploy -- --env ${env}` : `\nNext: npm run deploy -- --env ${env}`)
  );
}

/** A line read from the terminal without echoing it (for API keys). */
function hiddenPrompt(question: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
    const write = (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput;
    rl.question(question, (answer) => {
      rl.close();
      process.stdout.write("\n");
      resolve(answer);
    });
    (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => {
      if (s.startsWith(question)) write.call(rl, s);
    };
  });
}

if (import.meta.main) {
  const argv = process.argv.slice(2);
  try {
    const env = environmentFlag(argv);
    const report = await provision({
      env,
      run: wrangler,
      given: process.env,
      prompt: process.stdin.isTTY ? hiddenPrompt : undefined,
      location: flagValue(argv, "--location"),
      replicaLocation: flagValue(argv, "--replica-location"),
      credentials: { apiToken: process.env.CLOUDFLARE_API_TOKEN, accountId: process.env.CLOUDFLARE_ACCOUNT_ID },
    });
    console.log(`\n${summary(env, report)}`);
  } catch (err) {
    const usage =
      `usage: npm run provision -- --env staging|production [--location HINT] [--replica-location HINT]\n` +
      `  HINT: ${LOCATION_HINTS.join(", ")}; the replica's must differ from --location, and is by default weur for a wnam or enam primary, else enam`;
    console.error(err instanceof UsageError ? `${usage}\n${err.message}` : (err as Error).message);
    process.exit(err instanceof UsageError ? 2 : 1);
  }
}
