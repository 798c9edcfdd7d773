// Runs wrangler with the project's offline environment: `node tools/wrangler.ts <args>`.
// Also what provision, deploy and the DLQ replay share: the deployed environments, a
// wrangler runner they are given (a fake one in their tests), and each environment's
// config as wrangler resolves it.
import { spawn } from "node:child_process";
import path from "node:path";
import { offlineEnv, projectRoot } from "./project.ts";

const wranglerBin = path.join(projectRoot, "node_modules/.bin/wrangler");

/** Runs wrangler to completion with inherited stdio; rejects on a non-zero exit. */
export function runWrangler(args: string[], options: { quiet?: boolean } = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(wranglerBin, args, {
      cwd: projectRoot,
      env: offlineEnv,
      stdio: options.quiet ? ["ignore", "pipe", "pipe"] : "inherit",
    });
    let output = "";
    child.stdout?.on("data", (d) => (output += d));
    child.stderr?.on("data", (d) => (output += d));
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`wrangler ${args.join(" ")} exited with ${code}\n${output}`)),
    );
  });
}

export type WranglerCall = {
  /** Written to wrangler's stdin (e.g. a secret's value for `secret put`), never to argv. */
  input?: string;
  /** Collect stdout and stderr instead of showing them. */
  capture?: boolean;
};
export type WranglerResult = { code: number; stdout: string; stderr: string };
/** One wrangler command. Never rejects on a non-zero exit: the caller decides what a failure means. */
export type Wrangler = (args: string[], call?: WranglerCall) => Promise<WranglerResult>;

/** The real runner: wrangler from node_modules, in the project root. */
export const wrangler: Wrangler = (args, call = {}) =>
  new Promise((resolve, reject) => {
    const out = call.capture ? "pipe" : "inherit";
    const child = spawn(wranglerBin, args, {
      cwd: projectRoot,
      env: offlineEnv,
      stdio: [call.input === undefined ? "inherit" : "pipe", out, out],
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d) => (stdout += d));
    child.stderr?.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code: code ?? 1, stdout, stderr }));
    if (call.input !== undefined) child.stdin?.end(call.input);
  });

/** Runs a command that must succeed; the error carries what wrangler said. */
export async function mustWrangler(run: Wrangler, args: string[], call?: WranglerCall): Promise<WranglerResult> {
  const result = await run(args, call);
  if (result.code !== 0) {
    const said = `${result.stdout}\n${result.stderr}`.trim();
    throw new Error(`wrangler ${args.join(" ")} exited with ${result.code}${said ? `\n${said}` : ""}`);
  }
  return result;
}

const ansi = /\x1b\[[0-9;]*m/g;

/** What a command printed, both streams, without colours. */
export const outputOf = (r: { stdout: string; stderr: string }) => `${r.stdout}\n${r.stderr}`.replace(ansi, "");

/** The JSON document in a command's output (wrangler may print a line or two around it). */
export function jsonOutput<T>(text: string): T {
  const clean = text.replace(ansi, "");
  const start = clean.search(/[[{]/);
  const end = Math.max(clean.lastIndexOf("]"), clean.lastIndexOf("}"));
  if (start < 0 || end < start) throw new Error(`expected JSON from wrangler, got:\n${text.slice(0, 500)}`);
  return JSON.parse(clean.slice(start, end + 1)) as T;
}

/** The deployed environments: `[env.staging]` and `[env.production]` of both configs. */
export const deployEnvironments = ["staging", "production"] as const;
export type DeployEnvironment = (typeof deployEnvironments)[number];

export class UsageError extends Error {}

/** The value of `--env X` or `--env=X`, which must be a deployed environment. */
export function environmentFlag(argv: string[]): DeployEnvironment {
  const i = argv.findIndex((a) => a === "--env" || a === "-e" || a.startsWith("--env="));
  const value = i < 0 ? undefined : argv[i]!.includes("=") ? argv[i]!.slice(argv[i]!.indexOf("=") + 1) : argv[i + 1];
  if (!value || !(deployEnvironments as readonly string[]).includes(value)) {
    throw new UsageError(`name the environment: --env ${deployEnvironments.join("|")}${value ? ` (not "${value}")` : ""}`);
  }
  return value as DeployEnvironment;
}

/** The value of `--name value` or `--name=value`, if given. */
export function flagValue(argv: string[], name: string): string | undefined {
  const i = argv.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (i < 0) return undefined;
  const value = argv[i]!.includes("=") ? argv[i]!.slice(name.length + 1) : argv[i + 1];
  if (value === undefined || value.startsWith("--")) throw new UsageError(`${name} needs a value`);
  return value;
}

/** What an environment of one config resolves to, as far as provision and deploy care. */
export type EnvironmentConfig = {
  name: string;
  vars: Record<string, string>;
  routes: string[];
  workersDev: boolean | undefined;
  d1: { binding: string; name: string; id: string | undefined }[];
  buckets: string[];
  /** R2 bindings: binding name → bucket. */
  bucketBindings: Record<string, string>;
  /** Producer bindings: binding name → queue. */
  producers: Record<string, string>;
  /** Every queue named by a producer, consumer or dead-letter setting. */
  queues: string[];
  /** Consumers: the queue each consumes, and where its dead letters go. */
  consumers: { queue: string; deadLetterQueue: string | undefined }[];
  /** Queues named as some consumer's dead_letter_queue. */
  deadLetterQueues: string[];
  /** Service bindings: binding name → the Worker it calls. */
  services: Record<string, string>;
  define: Record<string, string>;
};

/** The part of wrangler's resolved config read here (its own types do not resolve from the CLI bundle). */
type ResolvedConfig = {
  name?: string;
  vars?: Record<string, unknown>;
  routes?: (string | { pattern: string })[];
  workers_dev?: boolean;
  d1_databases?: { binding: string; database_name?: string; database_id?: string }[];
  r2_buckets?: { binding: string; bucket_name?: string }[];
  services?: { binding: string; service: string }[];
  queues?: { producers?: { binding: string; queue: string }[]; consumers?: { queue: string; dead_letter_queue?: string }[] };
  define?: Record<string, string>;
};

/**
 * Reads one config's environment as wrangler itself resolves it (inheritance included);
 * `undefined` is the top level (local dev and tests).
 */
export async function readEnvironment(configPath: string, env: DeployEnvironment | undefined): Promise<EnvironmentConfig> {
  const { unstable_readConfig } = await import("wrangler");
  const c = unstable_readConfig({ config: configPath, env }, { hideWarnings: true }) as unknown as ResolvedConfig;
  const routes = (c.routes ?? []).map((r) => (typeof r === "string" ? r : r.pattern));
  const consumers = c.queues?.consumers ?? [];
  const deadLetterQueues = consumers.flatMap((q) => (q.dead_letter_queue ? [q.dead_letter_queue] : []));
  const queues = [...(c.queues?.producers ?? []).map((q) => q.queue), ...consumers.map((q) => q.queue), ...deadLetterQueues];
  return {
    name: c.name ?? "",
    vars: Object.fromEntries(Object.entries(c.vars ?? {}).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)])),
    routes,
    workersDev: c.workers_dev,
    d1: (c.d1_databases ?? []).map((d) => ({ binding: d.binding, name: d.database_name ?? "", id: d.database_id || undefined })),
    buckets: (c.r2_buckets ?? []).map((b) => b.bucket_name ?? ""),
    bucketBindings: Object.fromEntries((c.r2_buckets ?? []).map((b) => [b.binding, b.bucket_name ?? ""])),
    producers: Object.fromEntries((c.queues?.producers ?? []).map((q) => [q.binding, q.queue])),
    queues: [...new Set(queues)],
    consumers: consumers.map((q) => ({ queue: q.queue, deadLetterQueue: q.dead_letter_queue || undefined })),
    deadLetterQueues: [...new Set(deadLetterQueues)],
    services: Object.fromEntries((c.services ?? []).map((s) => [s.binding, s.service])),
    define: { ...(c.define ?? {}) },
  };
}

if (import.meta.main) {
  await runWrangler(process.argv.slice(2)).catch((err: Error) => {
    console.error(err.message);
    process.exit(1);
  });
}
