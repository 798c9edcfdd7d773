// `npm run deploy` and `npm run build` against a fake wrangler runner, on copies of the
// real configs: an explicit environment or nothing, a committed tree, a provisioned
// database (and watch shards) and real hostnames before anything runs; remote migrations
// — DB, then every watch shard — before any Worker; media before api; production bundles built without fault injection and refused if it
// is in them.
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildWorker, CHAOS_MARKER, environmentFlags } from "../build.ts";
import { deploy, parseDeployArgs, type DeployOptions } from "../deploy.ts";
import { apiConfig, mediaConfig } from "../project.ts";
import { writeDatabaseId } from "../provision.ts";
import { UsageError } from "../wrangler.ts";
import { FakeCloudflare } from "./fake-wrangler.ts";

const dir = await mkdtemp(path.join(tmpdir(), "marquee-deploy-"));
afterAll(() => rm(dir, { recursive: true, force: true }));

let n = 0;
/** The watch shards of the real wrangler.toml's environments (EVENT_SHARDS). */
const shardsOf = { staging: 2, production: 16 } as const;
const shardIds = (env: keyof typeof shardsOf) => Array.from({ length: shardsOf[env] }, (_, k) => `WATCH_${k}`);

/**
 * Copies of the real configs; `provisioned` writes the database ids (`"DB"`: only DB's, as
 * before the shards were provisioned), `hostnames` replaces example.com.
 */
async function setup(options: { provisioned?: boolean | "DB"; hostnames?: boolean } = {}) {
  const root = path.join(dir, String(++n));
  const api = path.join(root, "wrangler.toml");
  const media = path.join(root, "workers/media/wrangler.toml");
  await mkdir(path.dirname(media), { recursive: true });
  await copyFile(apiConfig, api);
  await copyFile(mediaConfig, media);
  if (options.provisioned !== false) {
    await writeDatabaseId(api, "staging", "DB", "5ca1ab1e-0000-4000-8000-000000000001");
    await writeDatabaseId(api, "production", "DB", "5ca1ab1e-0000-4000-8000-000000000002");
    if (options.provisioned !== "DB") {
      for (const env of ["staging", "production"] as const) {
        for (const [k, binding] of shardIds(env).entries()) await writeDatabaseId(api, env, binding, `5ca1ab1e-0000-4000-8000-0000000${env === "staging" ? 1 : 2}00${String(k).padStart(2, "0")}`);
      }
    }
  }
  if (options.hostnames) {
    for (const file of [api, media]) await writeFile(file, (await readFile(file, "utf8")).replaceAll("example.com", "tv.marquee.test"));
  }
  const cf = new FakeCloudflare((config, env) => `${config === api ? "marquee-api" : "marquee-media"}-${env}`);
  const events: string[] = [];
  const options_ = (over: Partial<DeployOptions> = {}): DeployOptions => ({
    env: "staging",
    allowDirty: false,
    chaos: undefined,
    gradual: false,
    run: async (args, call) => {
      events.push(`wrangler ${args.join(" ")}`);
      return cf.run(args, call);
    },
    version: "abc123def456",
    buildWeb: async () => void events.push("build web"),
    configs: { api, media },
    outRoot: path.join(root, "dist"),
    log: () => {},
    ...over,
  });
  return { api, media, cf, events, options: options_ };
}

const configOf = (command: string) => /--config (\S+)/.exec(command)?.[1];

describe("deploy arguments", () => {
  it("require an explicit, known environment", () => {
    expect(() => parseDeployArgs([])).toThrow(UsageError);
    expect(() => parseDeployArgs(["--env"])).toThrow(/--env staging\|production/);
    expect(() => parseDeployArgs(["--env", "dev"])).toThrow(/not "dev"/);
    expect(parseDeployArgs(["--env", "staging"])).toEqual({ env: "staging", allowDirty: false, chaos: undefined, gradual: false });
    expect(parseDeployArgs(["--env=production", "--gradual"])).toMatchObject({ env: "production", gradual: true });
  });

  it("keep chaos runs and uncommitted code out of production", () => {
    expect(parseDeployArgs(["--env", "staging", "--chaos", "d1=0.1,latency=50ms"]).chaos).toBe("d1=0.1,latency=50ms");
    expect(() => parseDeployArgs(["--env", "production", "--chaos", "d1=0.1"])).toThrow(/--chaos is for staging/);
    expect(() => parseDeployArgs(["--env", "production", "--allow-dirty"])).toThrow(/--allow-dirty is for staging/);
  });
});

describe("deploy", () => {
  it("staging: web assets, remote migrations (DB, then each watch shard), then media, then api, each stamped with the version", async () => {
    const { api, media, events, options } = await setup();
    await deploy(options());
    expect(events).toEqual([
      "build web",
      `wrangler d1 migrations apply DB --remote --config ${api} --env staging`,
      `wrangler d1 migrations apply WATCH_0 --remote --config ${api} --env staging`,
      `wrangler d1 migrations apply WATCH_1 --remote --config ${api} --env staging`,
      `wrangler deploy --minify --config ${media} --env staging --var BUILD_VERSION:abc123def456 --message marquee abc123def456`,
      `wrangler deploy --minify --config ${api} --env staging --var BUILD_VERSION:abc123def456 --message marquee abc123def456`,
    ]);
  });

  it("staging with --chaos: both Workers get the CHAOS var, and still no --define", async () => {
    const { events, options } = await setup();
    await deploy(options({ chaos: "d1=0.1,r2=0.05,latency=50ms" }));
    const deploys = events.filter((e) => e.startsWith("wrangler deploy"));
    expect(deploys).toHaveLength(2);
    for (const d of deploys) {
      expect(d).toContain("--var CHAOS:d1=0.1,r2=0.05,latency=50ms");
      expect(d).not.toContain("__MARQUEE_CHAOS__");
    }
  });

  it("production: dry-runs both bundles without fault injection first, then migrations, media, api, all with --define __MARQUEE_CHAOS__:false", async () => {
    const { api, media, cf, events, options } = await setup({ hostnames: true });
    await deploy(options({ env: "production" }));
    const wranglerCalls = events.filter((e) => e.startsWith("wrangler"));
    expect(wranglerCalls.map((e) => `${e.split(" ").slice(1, 3).join(" ")} ${configOf(e) === api ? "api" : "media"}`)).toEqual([
      "deploy --dry-run media",
      "deploy --dry-run api",
      ...Array.from({ length: 17 }, () => "d1 migrations api"),
      "deploy --minify media",
      "deploy --minify api",
    ]);
    for (const e of wranglerCalls.filter((e) => e.startsWith("wrangler deploy"))) {
      expect(e).toContain("--env production");
      expect(e).toContain("--define __MARQUEE_CHAOS__:false");
    }
    expect(events[0]).toBe("build web");
    expect(wranglerCalls.slice(2, 19)).toEqual(
      ["DB", ...shardIds("production")].map((db) => `wrangler d1 migrations apply ${db} --remote --config ${api} --env production`),
    );
    expect(cf.deployed).toEqual(["marquee-media-production", "marquee-api-production"]);
    void media;
  });

  it("production: a bundle that still contains fault injection stops the deploy before migrations", async () => {
    const { cf, events, options } = await setup({ hostnames: true });
    cf.bundle = `export default { fetch() { throw new Error("${CHAOS_MARKER} d1 fault (x)") } };`;
    await expect(deploy(options({ env: "production" }))).rejects.toThrow(/contains "chaos: injected"/);
    expect(events.filter((e) => e.includes("migrations") || (e.startsWith("wrangler deploy") && !e.includes("--dry-run")))).toEqual([]);
    expect(cf.deployed).toEqual([]);
  });

  it("production: refused while the configs still name example.com, before anything runs", async () => {
    const { events, options } = await setup();
    await expect(deploy(options({ env: "production" }))).rejects.toThrow(/example\.com.*put your own hostnames/s);
    expect(events).toEqual([]);
  });

  it("refuses an environment that was never provisioned", async () => {
    const { events, options } = await setup({ provisioned: false });
    await expect(deploy(options())).rejects.toThrow(/no database_id for DB: run `npm run provision -- --env staging`/);
    expect(events).toEqual([]);
  });

  it("refuses uncommitted changes unless --allow-dirty (staging)", async () => {
    const { events, options } = await setup();
    await expect(deploy(options({ version: "abc123def456-dirty" }))).rejects.toThrow(/refusing to deploy uncommitted changes/);
    expect(events).toEqual([]);
    await deploy(options({ version: "abc123def456-dirty", allowDirty: true }));
    expect(events.some((e) => e.includes("BUILD_VERSION:abc123def456-dirty"))).toBe(true);
  });

  it("refuses an environment whose watch shards were never provisioned, naming them", async () => {
    const { events, options } = await setup({ provisioned: "DB" });
    await expect(deploy(options())).rejects.toThrow(/no database_id for WATCH_0, WATCH_1: run `npm run provision -- --env staging`/);
    expect(events).toEqual([]);
  });

  it("refuses watch shards that do not match EVENT_SHARDS", async () => {
    const { api, events, options } = await setup();
    const text = await readFile(api, "utf8");
    const at = text.indexOf("[env.staging.vars]");
    await writeFile(api, text.slice(0, at) + text.slice(at).replace('EVENT_SHARDS = "2"', 'EVENT_SHARDS = "3"'));
    await expect(deploy(options())).rejects.toThrow(/EVENT_SHARDS = "3" but no D1 database bound as WATCH_2 \(run `npm run shards`\)/);
    expect(events).toEqual([]);
  });

  it("a failed shard migration stops the deploy too: no Worker is deployed", async () => {
    const { cf, events, options } = await setup();
    cf.handle = (args) => (args[1] === "migrations" && args[3] === "WATCH_1" ? { code: 1, stdout: "", stderr: "✘ [ERROR] no such table: nope" } : undefined);
    await expect(deploy(options())).rejects.toThrow(/migrations apply WATCH_1[\s\S]*no such table/);
    expect(events.filter((e) => e.includes("migrations apply")).map((e) => e.split(" ")[4])).toEqual(["DB", "WATCH_0", "WATCH_1"]);
    expect(cf.deployed).toEqual([]);
  });

  it("stops at a failed migration: no Worker is deployed", async () => {
    const { cf, options } = await setup();
    cf.handle = (args) => (args[1] === "migrations" ? { code: 1, stdout: "", stderr: "✘ [ERROR] no such table: nope" } : undefined);
    await expect(deploy(options())).rejects.toThrow(/migrations apply[\s\S]*no such table/);
    expect(cf.deployed).toEqual([]);
  });

  it("--gradual uploads versions, media first, and moves no traffic", async () => {
    const { api, media, events, options } = await setup();
    await deploy(options({ gradual: true }));
    const uploads = events.filter((e) => e.startsWith("wrangler versions upload"));
    expect(uploads.map(configOf)).toEqual([media, api]);
    expect(events.some((e) => e.startsWith("wrangler deploy") || e.includes("versions deploy"))).toBe(false);
  });
});

describe("build", () => {
  it("dry-runs the production environment with fault injection compiled out, and checks the bundle (not its source map)", async () => {
    const { cf, options } = await setup();
    const outRoot = path.join(dir, "build-out");
    const out = await buildWorker({ name: "marquee-media", config: mediaConfig }, "v1", true, { run: options().run, outRoot });
    expect(out).toBe(path.join(outRoot, "marquee-media"));
    expect(cf.commands).toEqual([
      `deploy --dry-run --minify --config ${mediaConfig} --outdir ${out} --env production --var BUILD_VERSION:v1 --define __MARQUEE_CHAOS__:false`,
    ]);
    // The fake's source map quotes the marker (as real maps quote chaos.ts): only code counts.
    expect(await readFile(path.join(out, "index.js.map"), "utf8")).toContain(CHAOS_MARKER);
    cf.bundle = `const m = "${CHAOS_MARKER}";`;
    await expect(buildWorker({ name: "marquee-media", config: mediaConfig }, "v1", true, { run: options().run, outRoot })).rejects.toThrow(/fault injection reached a production bundle/);
  });

  it("keeps fault injection in staging builds", () => {
    expect(environmentFlags("staging", "v1")).toEqual(["--env", "staging", "--var", "BUILD_VERSION:v1"]);
    expect(environmentFlags("production", "v1")).toEqual(["--env", "production", "--var", "BUILD_VERSION:v1", "--define", "__MARQUEE_CHAOS__:false"]);
  });
});
