// `npm run provision` against a pretend Cloudflare account (a fake wrangler runner): what
// it creates and what it finds (the watch shards' databases and queues among them), the
// database ids it writes into copies of the real configs, the secrets it sets (never in argv, the playback keys identical on both
// Workers), and that a second run changes nothing. Also the environments of the real
// wrangler.toml files: each repeats every var and binding of the local config.
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { parseVars } from "../dev-vars.ts";
import { apiConfig, mediaConfig, projectRoot } from "../project.ts";
import { checkEnvironment, LOCATION_HINTS, provision, replicaLocationFor, summary, workerSecrets, writeDatabaseId, type ProvisionOptions } from "../provision.ts";
import { generateShards } from "../watch-shards.ts";
import { readEnvironment, type EnvironmentConfig } from "../wrangler.ts";
import { FakeCloudflare } from "./fake-wrangler.ts";

const dir = await mkdtemp(path.join(tmpdir(), "marquee-provision-"));
afterAll(() => rm(dir, { recursive: true, force: true }));

let n = 0;
/** Fresh copies of the real configs, laid out as in the project. */
async function copies() {
  const root = path.join(dir, String(++n));
  const api = path.join(root, "wrangler.toml");
  const media = path.join(root, "workers/media/wrangler.toml");
  await mkdir(path.dirname(media), { recursive: true });
  await copyFile(apiConfig, api);
  await copyFile(mediaConfig, media);
  return { api, media, secretsFile: path.join(root, ".wrangler/provision/secrets.env") };
}

function account(configs: { api: string; media: string }) {
  return new FakeCloudflare((config, env) => `${config === configs.api ? "marquee-api" : "marquee-media"}-${env}`);
}

let seq = 0;
const random = (bytes: number) => `r${++seq}`.padEnd(bytes, "x");
const quiet = () => {};

async function setup() {
  const files = await copies();
  const cf = account(files);
  const options = (over: Partial<ProvisionOptions> = {}): ProvisionOptions => ({
    env: "staging",
    run: cf.run,
    configs: files,
    secretsFile: files.secretsFile,
    random,
    log: quiet,
    given: {},
    ...over,
  });
  return { files, cf, options };
}

beforeEach(() => {
  seq = 0;
});

describe("provision", () => {
  it("creates every resource the staging configs name, writes the database id, and sets the secrets", async () => {
    const { files, cf, options } = await setup();
    const report = await provision(options());

    expect(cf.commands[0]).toBe("whoami");
    expect(cf.commands.filter((c) => c.startsWith("d1 create"))).toEqual([
      "d1 create marquee-staging",
      "d1 create marquee-staging-watch-0",
      "d1 create marquee-staging-watch-1",
    ]);
    // One list to find them all, one to read the new ids back.
    expect(cf.commands.filter((c) => c.startsWith("d1 list"))).toHaveLength(2);
    expect(cf.commands).toContain("r2 bucket create marquee-media-staging");
    // The replica across an ocean from the primary (no --location given: R2 places the primary).
    expect(cf.commands).toContain("r2 bucket create marquee-media-replica-staging --location enam");
    expect(report.buckets).toEqual([
      { binding: "MEDIA", name: "marquee-media-staging", created: true, location: undefined },
      { binding: "MEDIA_REPLICA", name: "marquee-media-replica-staging", created: true, location: "enam" },
    ]);
    expect(cf.commands).toContain("queues create watch-events-staging-0");
    expect(cf.commands).toContain("queues create watch-events-staging-1");
    expect(cf.commands).toContain("queues create watch-events-staging-dlq --message-retention-period-secs 1209600");
    expect(cf.commands).toContain("queues create qoe-staging");
    expect([...cf.buckets].sort()).toEqual(["marquee-media-replica-staging", "marquee-media-staging"]);
    expect([...cf.queues.keys()].sort()).toEqual(["qoe-staging", "watch-events-staging-0", "watch-events-staging-1", "watch-events-staging-dlq"]);

    // The ids wrangler reports are now what the staging environment binds, and only it.
    const [id, id0, id1] = cf.databases.map((d) => d.uuid);
    expect(report.database).toEqual({ name: "marquee-staging", id, created: true });
    expect(report.watchDatabases).toEqual([
      { binding: "WATCH_0", name: "marquee-staging-watch-0", id: id0, created: true },
      { binding: "WATCH_1", name: "marquee-staging-watch-1", id: id1, created: true },
    ]);
    expect((await readEnvironment(files.api, "staging")).d1).toEqual([
      { binding: "DB", name: "marquee-staging", id },
      { binding: "WATCH_0", name: "marquee-staging-watch-0", id: id0 },
      { binding: "WATCH_1", name: "marquee-staging-watch-1", id: id1 },
    ]);
    expect((await readEnvironment(files.api, "production")).d1.every((d) => d.id === undefined)).toBe(true);
    expect(report.configChanged).toBe(true);
    // The shard ids went into the generated block the way `npm run shards` keeps them.
    const written = await readFile(files.api, "utf8");
    expect(generateShards(written).text).toBe(written);

    const api = cf.workers.get("marquee-api-staging")!;
    const media = cf.workers.get("marquee-media-staging")!;
    expect([...media.keys()]).toEqual(["PLAYBACK_TOKEN_KEYS"]);
    expect(api.get("PLAYBACK_TOKEN_KEYS")).toBe(media.get("PLAYBACK_TOKEN_KEYS"));
    expect(api.get("PLAYBACK_TOKEN_KEYS")).toMatch(/^k1:.{32}$/);
    expect(api.get("ADMIN_TOKEN")).toHaveLength(32);
    // Staging without Stripe values on a terminal-less run: left unset, and said so.
    expect(api.has("STRIPE_SECRET_KEY")).toBe(false);
    expect(report.secrets.filter((s) => s.action === "missing").map((s) => s.name)).toEqual(["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"]);

    // Values go through stdin only; media gets the playback keys before the api.
    const puts = cf.calls.filter((c) => c.args[0] === "secret" && c.args[1] === "put");
    for (const value of [...api.values()]) expect(cf.calls.some((c) => c.args.some((a) => a.includes(value)))).toBe(false);
    expect(puts.map((c) => `${c.args[2]} ${c.args[4] === files.media ? "media" : "api"}`)).toEqual([
      "PLAYBACK_TOKEN_KEYS media",
      "ADMIN_TOKEN api",
      "PLAYBACK_TOKEN_KEYS api",
    ]);
    expect(puts.every((c) => c.args.includes("--env") && c.args[c.args.indexOf("--env") + 1] === "staging")).toBe(true);

    // The generated values are kept for the operator, readable by them only.
    const saved = parseVars(await readFile(files.secretsFile, "utf8"));
    expect(saved.get("ADMIN_TOKEN")).toBe(api.get("ADMIN_TOKEN"));
    expect(saved.get("PLAYBACK_TOKEN_KEYS")).toBe(api.get("PLAYBACK_TOKEN_KEYS"));
    expect((await stat(files.secretsFile)).mode & 0o777).toBe(0o600);
  });

  it("is idempotent: a second run finds everything, creates nothing, rotates no secret", async () => {
    const { files, cf, options } = await setup();
    await provision(options());
    const config = await readFile(files.api, "utf8");
    const secrets = JSON.stringify([...cf.workers].map(([k, v]) => [k, [...v]]));
    const saved = await readFile(files.secretsFile, "utf8");
    cf.calls = [];

    const again = await provision(options());
    expect(cf.commands.filter((c) => / create |^secret put/.test(c))).toEqual([]);
    expect(again.configChanged).toBe(false);
    expect(again.database.created).toBe(false);
    expect(again.watchDatabases.every((d) => !d.created)).toBe(true);
    expect(cf.commands.filter((c) => c.startsWith("d1 list"))).toHaveLength(1);
    expect(again.buckets.every((b) => !b.created) && again.queues.every((q) => !q.created)).toBe(true);
    expect(await readFile(files.api, "utf8")).toBe(config);
    expect(JSON.stringify([...cf.workers].map(([k, v]) => [k, [...v]]))).toBe(secrets);
    expect(await readFile(files.secretsFile, "utf8")).toBe(saved);
  });

  it("finds resources that already exist by name and writes their id", async () => {
    const { files, cf, options } = await setup();
    cf.databases.push(
      { name: "someone-else", uuid: "11111111-0000-4000-8000-000000000000" },
      { name: "marquee-production", uuid: "22222222-0000-4000-8000-000000000000" },
      ...Array.from({ length: 15 }, (_, k) => ({ name: `marquee-production-watch-${k}`, uuid: `5ca1ab1e-0000-4000-8000-0000000000${String(k).padStart(2, "0")}` })),
    );
    cf.buckets.add("marquee-media-production");
    for (let k = 0; k < 16; k++) cf.queues.set(`watch-events-production-${k}`, { id: `3333333${k.toString(16)}-0000-4000-8000-000000000000` });
    cf.queues.set("qoe-production", { id: "44444444-0000-4000-8000-000000000000" });
    const report = await provision(options({ env: "production", given: { STRIPE_SECRET_KEY: "sk_live_x", STRIPE_WEBHOOK_SECRET: "whsec_x" } }));

    expect(report.database).toEqual({ name: "marquee-production", id: "22222222-0000-4000-8000-000000000000", created: false });
    // EVENT_SHARDS = "16": shards 0-14 were there, 15 is made.
    expect(report.watchDatabases.map((d) => [d.binding, d.created])).toEqual(Array.from({ length: 16 }, (_, k) => [`WATCH_${k}`, k === 15]));
    expect(cf.commands.filter((c) => c.includes(" create "))).toEqual([
      "d1 create marquee-production-watch-15",
      // A deployment from before replicas: its replica bucket is made now.
      "r2 bucket create marquee-media-replica-production --location enam",
      "queues create watch-events-production-dlq --message-retention-period-secs 1209600",
    ]);
    const d1 = (await readEnvironment(files.api, "production")).d1;
    expect(d1[0]!.id).toBe("22222222-0000-4000-8000-000000000000");
    expect(d1.slice(1, 16).map((d) => d.id)).toEqual(Array.from({ length: 15 }, (_, k) => `5ca1ab1e-0000-4000-8000-0000000000${String(k).padStart(2, "0")}`));
    expect(d1[16]!.id).toBe(cf.databases.find((d) => d.name === "marquee-production-watch-15")!.uuid);
    expect((await readEnvironment(files.api, "staging")).d1.every((d) => d.id === undefined)).toBe(true);
    expect(cf.workers.get("marquee-api-production")!.get("STRIPE_SECRET_KEY")).toBe("sk_live_x");
    expect(report.secrets.find((s) => s.name === "STRIPE_WEBHOOK_SECRET")!.action).toBe("set-given");
  });

  it("turns on D1 read replication for DB and every shard when given API credentials, and only then", async () => {
    const { cf, options } = await setup();
    const calls: { url: string; method: string | undefined; auth: string | null; body: unknown }[] = [];
    const fetch = (async (url: string, init: RequestInit) => {
      calls.push({ url, method: init.method, auth: new Headers(init.headers).get("Authorization"), body: JSON.parse(String(init.body)) });
      return Response.json({ success: true, errors: [], result: {} });
    }) as typeof globalThis.fetch;

    const lines: string[] = [];
    const without = await provision(options({ fetch, log: (l) => lines.push(l) }));
    expect(without.readReplication).toBe("unchanged");
    expect(calls).toEqual([]);
    expect(lines.find((l) => l.startsWith("D1 read replication"))).toMatch(/needs CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID[\s\S]*curl -X PUT/);

    const report = await provision(options({ fetch, credentials: { apiToken: "tok", accountId: "acct" } }));
    expect(report.readReplication).toBe("auto");
    expect(calls.map((c) => c.url)).toEqual(cf.databases.map((d) => `https://api.cloudflare.com/client/v4/accounts/acct/d1/database/${d.uuid}`));
    expect(calls).toHaveLength(3); // marquee-staging and its two watch shards
    for (const c of calls) expect([c.method, c.auth, c.body]).toEqual(["PUT", "Bearer tok", { read_replication: { mode: "auto" } }]);
  });

  it("stops on a refused read-replication call, before any secret is set", async () => {
    const { cf, options } = await setup();
    const fetch = (async () => Response.json({ success: false, errors: [{ code: 10000, message: "Authentication error" }] }, { status: 403 })) as unknown as typeof globalThis.fetch;
    await expect(provision(options({ fetch, credentials: { apiToken: "tok", accountId: "acct" } }))).rejects.toThrow(/read replication for D1 database marquee-staging failed \(403\).*Authentication error/);
    expect(cf.commands.filter((c) => c.startsWith("secret put"))).toEqual([]);
  });

  it("refuses production without the Stripe secrets, before setting any secret", async () => {
    const { cf, options } = await setup();
    await expect(provision(options({ env: "production" }))).rejects.toThrow(/STRIPE_SECRET_KEY is not set[\s\S]*STRIPE_WEBHOOK_SECRET is not set/);
    expect(cf.commands.filter((c) => c.startsWith("secret put"))).toEqual([]);
  });

  it("asks for the Stripe secrets on a terminal", async () => {
    const { cf, options } = await setup();
    const asked: string[] = [];
    await provision(options({ env: "production", prompt: async (q) => (asked.push(q), q.startsWith("STRIPE_SECRET_KEY") ? "sk_live_typed" : "whsec_typed") }));
    expect(asked.map((q) => q.split(" ")[0])).toEqual(["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"]);
    expect(cf.workers.get("marquee-api-production")!.get("STRIPE_WEBHOOK_SECRET")).toBe("whsec_typed");
  });

  it("sets a value given in the environment even when the secret exists: new playback keys reach media first", async () => {
    const { cf, options } = await setup();
    await provision(options());
    cf.calls = [];
    await provision(options({ given: { PLAYBACK_TOKEN_KEYS: "k2:new-key,k1:old-key" } }));
    expect(cf.commands.filter((c) => c.startsWith("secret put")).map((c) => c.split(" ").slice(0, 3).join(" "))).toEqual([
      "secret put PLAYBACK_TOKEN_KEYS",
      "secret put PLAYBACK_TOKEN_KEYS",
    ]);
    expect(cf.calls.find((c) => c.args[1] === "put")!.args[4]).toMatch(/workers\/media\/wrangler\.toml$/);
    expect(cf.workers.get("marquee-media-staging")!.get("PLAYBACK_TOKEN_KEYS")).toBe("k2:new-key,k1:old-key");
    expect(cf.workers.get("marquee-api-staging")!.get("PLAYBACK_TOKEN_KEYS")).toBe("k2:new-key,k1:old-key");
  });

  it("will not make the two Workers' playback keys differ", async () => {
    const { cf, options } = await setup();
    cf.workers.set("marquee-api-staging", new Map([["PLAYBACK_TOKEN_KEYS", "k1:only-here"], ["ADMIN_TOKEN", "a".repeat(32)]]));
    await expect(provision(options())).rejects.toThrow(/PLAYBACK_TOKEN_KEYS is set on the api Worker but not on the media one/);
    expect(cf.commands.filter((c) => c.startsWith("secret put"))).toEqual([]);
  });

  it("stops before creating anything when wrangler is not signed in", async () => {
    const { cf, options } = await setup();
    cf.loggedIn = false;
    await expect(provision(options())).rejects.toThrow(/wrangler login/);
    expect(cf.commands).toEqual(["whoami"]);
  });
});

describe("writeDatabaseId", () => {
  const text = [
    "# top comment",
    "[[d1_databases]]",
    'binding = "DB"',
    'database_name = "marquee"',
    "",
    "[[env.staging.d1_databases]]",
    'binding = "OTHER"',
    'database_name = "other"',
    "",
    "[[env.staging.d1_databases]]",
    'binding = "DB"  # the main one',
    'database_name = "marquee-staging"',
    'migrations_dir = "d1/migrations"',
    "",
    "[env.staging.vars]",
    'X = "1"',
    "",
  ].join("\n");

  it("adds the line to the right block only, then replaces it, keeping everything else", async () => {
    const file = path.join(dir, "patch.toml");
    await writeFile(file, text);
    expect(await writeDatabaseId(file, "staging", "DB", "aaaa")).toBe(true);
    const once = await readFile(file, "utf8");
    expect(once).toBe(text.replace('database_name = "marquee-staging"', 'database_name = "marquee-staging"\ndatabase_id = "aaaa"'));
    expect(await writeDatabaseId(file, "staging", "DB", "aaaa")).toBe(false);
    await writeDatabaseId(file, "staging", "DB", "bbbb");
    expect(await readFile(file, "utf8")).toBe(once.replace("aaaa", "bbbb"));
    await expect(writeDatabaseId(file, "production", "DB", "cccc")).rejects.toThrow(/no \[\[env\.production\.d1_databases\]\] block/);
  });
});

describe("the replica's location", () => {
  const bucketCreates = (cf: FakeCloudflare) => cf.commands.filter((c) => c.startsWith("r2 bucket create"));

  it("is --replica-location when given, else across an ocean from --location; a hint R2 does not have is refused first", async () => {
    const given = await setup();
    const report = await provision(given.options({ location: "weur", replicaLocation: "apac" }));
    expect(bucketCreates(given.cf)).toEqual(["r2 bucket create marquee-media-staging --location weur", "r2 bucket create marquee-media-replica-staging --location apac"]);
    expect(report.buckets.map((b) => [b.binding, b.location])).toEqual([["MEDIA", "weur"], ["MEDIA_REPLICA", "apac"]]);
    // Given alone: the primary's is Cloudflare's choice, the replica's is the one given.
    const alone = await setup();
    await provision(alone.options({ replicaLocation: "oc" }));
    expect(bucketCreates(alone.cf)).toEqual(["r2 bucket create marquee-media-staging", "r2 bucket create marquee-media-replica-staging --location oc"]);
    const american = await setup();
    await provision(american.options({ location: "wnam" }));
    expect(bucketCreates(american.cf)).toEqual(["r2 bucket create marquee-media-staging --location wnam", "r2 bucket create marquee-media-replica-staging --location weur"]);
    const european = await setup();
    await provision(european.options({ location: "eeur" }));
    expect(bucketCreates(european.cf)).toEqual(["r2 bucket create marquee-media-staging --location eeur", "r2 bucket create marquee-media-replica-staging --location enam"]);
    const wrong = await setup();
    await expect(provision(wrong.options({ replicaLocation: "mars" }))).rejects.toThrow(/not an R2 location hint/);
    expect(wrong.cf.commands.filter((c) => c.includes(" create "))).toEqual([]);
  });

  it("is never the primary's: the same hint given twice is refused before anything is created", async () => {
    const same = await setup();
    await expect(provision(same.options({ location: "enam", replicaLocation: "enam" }))).rejects.toThrow(/--replica-location must differ from --location/);
    expect(same.cf.commands).toEqual([]);
    // The default rule never lands on the primary's hint.
    expect(LOCATION_HINTS.map((hint) => [hint, replicaLocationFor(hint)])).toEqual([
      ["weur", "enam"],
      ["eeur", "enam"],
      ["apac", "enam"],
      ["oc", "enam"],
      ["wnam", "weur"],
      ["enam", "weur"],
    ]);
    expect(replicaLocationFor(undefined)).toBe("enam");
  });

  it("is left alone on a replica bucket that exists; the summary names each bucket, its role and location", async () => {
    const { cf, options } = await setup();
    const first = await provision(options({ location: "weur" }));
    expect(summary("staging", first)).toContain(
      "R2 primary marquee-media-staging (created in weur), replica MEDIA_REPLICA marquee-media-replica-staging (created in enam), queues ",
    );
    cf.calls = [];
    const again = await provision(options({ location: "weur", replicaLocation: "apac" }));
    expect(bucketCreates(cf)).toEqual([]);
    expect(summary("staging", again)).toContain(
      "R2 primary marquee-media-staging (found, location unchanged), replica MEDIA_REPLICA marquee-media-replica-staging (found, location unchanged), queues ",
    );
    const unhinted = await setup();
    expect(summary("staging", await provision(unhinted.options()))).toMatch(/^provisioned staging: .*R2 primary marquee-media-staging \(created, location chosen by Cloudflare\), replica MEDIA_REPLICA marquee-media-replica-staging \(created in enam\)/);
  });
});

describe("checkEnvironment", () => {
  const base = (over: Partial<EnvironmentConfig> = {}): EnvironmentConfig => ({
    name: "marquee-api-staging",
    routes: [],
    workersDev: true,
    vars: { EVENT_SHARDS: "1" },
    d1: [
      { binding: "DB", name: "marquee-staging", id: undefined },
      { binding: "WATCH_0", name: "marquee-staging-watch-0", id: undefined },
    ],
    buckets: ["b", "b-replica"],
    bucketBindings: { MEDIA: "b", MEDIA_REPLICA: "b-replica" },
    producers: { WATCH_EVENTS_0: "q-0", WATCH_EVENTS_DLQ: "q-dlq" },
    queues: ["q-0", "q-dlq"],
    consumers: [{ queue: "q-0", deadLetterQueue: "q-dlq" }],
    deadLetterQueues: ["q-dlq"],
    services: { MEDIA_WORKER: "marquee-media-staging" },
    define: {},
    ...over,
  });
  const media = base({ name: "marquee-media-staging", d1: [], services: {}, queues: [], deadLetterQueues: [] });

  it("accepts the real configs' environments", async () => {
    for (const env of ["staging", "production"] as const) {
      expect(checkEnvironment(env, await readEnvironment(apiConfig, env), await readEnvironment(mediaConfig, env))).toEqual([]);
    }
  });

  it("refuses buckets not shared alike, replicas that differ, a service binding to another Worker, and a DLQ the consumer would not recognise", () => {
    expect(checkEnvironment("staging", base(), media)).toEqual([]);
    expect(checkEnvironment("staging", base(), { ...media, buckets: ["c"], bucketBindings: { MEDIA: "c" } })[0]).toMatch(/share their R2 buckets under the same bindings/);
    // The same buckets under swapped bindings: the media Worker would serve the replica as the primary.
    expect(checkEnvironment("staging", base(), { ...media, bucketBindings: { MEDIA: "b-replica", MEDIA_REPLICA: "b" } })[0]).toMatch(/same bindings/);
    expect(checkEnvironment("staging", base({ vars: { EVENT_SHARDS: "1", MEDIA_REPLICAS: "p2=r2:MEDIA_REPLICA" } }), media)[0]).toMatch(/MEDIA_REPLICAS of staging differs/);
    // A replica bound by one Worker only.
    expect(checkEnvironment("staging", base(), { ...media, buckets: ["b"], bucketBindings: { MEDIA: "b" } })[0]).toMatch(/share their R2 buckets under the same bindings/);
    expect(checkEnvironment("staging", base({ vars: { EVENT_SHARDS: "1", MEDIA_REPLICAS: "p2=r2:MEDIA_REPLICA" } }), { ...media, vars: { EVENT_SHARDS: "1", MEDIA_REPLICAS: "p2=r2:MEDIA_REPLICA" } })).toEqual([]);
    expect(checkEnvironment("staging", base({ services: { MEDIA_WORKER: "marquee-media" } }), media)[0]).toMatch(/MEDIA_WORKER calls "marquee-media"/);
    expect(checkEnvironment("staging", base({ deadLetterQueues: ["dead"] }), media)[0]).toMatch(/must end in -dlq/);
  });

  it("refuses MEDIA_REPLICAS naming an unbound bucket or not readable, a replica that is the primary's bucket, and no MEDIA", () => {
    const both = (over: Partial<EnvironmentConfig>) => checkEnvironment("staging", base(over), { ...media, ...over });
    const replicas = (spec: string) => ({ vars: { EVENT_SHARDS: "1", MEDIA_REPLICAS: spec } });
    expect(both(replicas("p2=r2:MEDIA_REPLICA,p3=r2:MEDIA_EXTRA"))).toEqual([
      "MEDIA_REPLICAS of staging names p3=r2:MEDIA_EXTRA, but no R2 bucket is bound as MEDIA_EXTRA",
    ]);
    expect(both(replicas("p2=r2:MEDIA"))).toEqual([expect.stringMatching(/^MEDIA_REPLICAS of staging cannot be read: p2: "MEDIA" is not an R2 binding name/)]);
    // An S3 replica needs no bucket binding.
    expect(both(replicas("p2=r2:MEDIA_REPLICA,p3=s3:https://s3.eu-central-1.amazonaws.com/marquee@eu-central-1"))).toEqual([]);
    expect(both({ bucketBindings: { MEDIA: "b", MEDIA_REPLICA: "b" }, buckets: ["b", "b"] })).toEqual([
      "wrangler.toml [env.staging] binds b as both MEDIA and MEDIA_REPLICA: a replica must be a bucket of its own",
    ]);
    expect(both({ bucketBindings: { MEDIA_REPLICA: "b-replica" }, buckets: ["b-replica"] })).toEqual(["wrangler.toml [env.staging] has no R2 bucket bound as MEDIA"]);
  });

  it("refuses watch shards that do not match EVENT_SHARDS (before anything is created)", () => {
    expect(checkEnvironment("staging", base({ vars: { EVENT_SHARDS: "2" } }), media)).toEqual([
      'wrangler.toml [env.staging] has EVENT_SHARDS = "2" but no D1 database bound as WATCH_1 (run `npm run shards`)',
      'wrangler.toml [env.staging] has EVENT_SHARDS = "2" but no queue producer WATCH_EVENTS_1 (run `npm run shards`)',
    ]);
    expect(checkEnvironment("staging", base({ vars: {} }), media)[0]).toMatch(/EVENT_SHARDS is not set/);
  });
});

const { unstable_readConfig } = await import("wrangler");

describe("the deployed environments of wrangler.toml", () => {
  type Raw = Record<string, any>;
  const resolved = (config: string, env?: string) => unstable_readConfig({ config, env }, { hideWarnings: true }) as unknown as Raw;
  // The watch shards count as one binding each: their number is each environment's own
  // EVENT_SHARDS (tools/test/watch-shards.test.ts checks them against it).
  const shard = (binding: string) => binding.replace(/^(WATCH_(?:EVENTS_)?)\d+$/, "$1{k}");
  const once = (names: string[]) => [...new Set(names)];
  const bindingNames = (c: Raw) => ({
    vars: Object.keys(c.vars ?? {}).sort(),
    d1: once((c.d1_databases ?? []).map((d: Raw) => shard(d.binding))),
    r2: (c.r2_buckets ?? []).map((d: Raw) => d.binding),
    services: (c.services ?? []).map((d: Raw) => d.binding),
    durableObjects: (c.durable_objects?.bindings ?? []).map((d: Raw) => `${d.name}:${d.class_name}`),
    producers: once((c.queues?.producers ?? []).map((d: Raw) => shard(d.binding))),
    consumers: once((c.queues?.consumers ?? []).map((d: Raw) => JSON.stringify([/-\d+$/.test(d.queue) ? "shard" : "", d.max_batch_size, d.max_retries, !!d.dead_letter_queue]))),
  });

  for (const config of [apiConfig, mediaConfig]) {
    const label = path.relative(projectRoot, config);
    it(`${label}: each environment repeats every var and binding of the local config, under its own names`, () => {
      const local = resolved(config);
      for (const env of ["staging", "production"]) {
        const c = resolved(config, env);
        expect(bindingNames(c), `${label} [env.${env}]`).toEqual(bindingNames(local));
        expect(c.name).toBe(`${local.name}-${env}`);
        expect(c.vars.ENVIRONMENT).toBe(env);
        expect(c.vars.CHAOS).toBe("");
        expect(c.observability?.enabled).toBe(true);
        for (const b of c.r2_buckets) expect(b.bucket_name).toBe(b.binding === "MEDIA" ? `marquee-media-${env}` : `marquee-media-replica-${env}`);
        for (const d of c.d1_databases ?? []) expect(d.database_name).toMatch(new RegExp(`^marquee-${env}(-watch-\\d+)?$`));
        for (const q of c.queues?.producers ?? []) expect(q.queue).toMatch(new RegExp(`^(watch-events-${env}(-dlq|-\\d+)?|qoe-${env})$`));
        for (const s of c.services ?? []) expect(s.service).toBe(`marquee-media-${env}`);
      }
      // Production: compiled without fault injection, and reachable only on its own hostname.
      const production = resolved(config, "production");
      expect(production.define).toEqual({ __MARQUEE_CHAOS__: "false" });
      expect(production.workers_dev).toBe(false);
      expect(production.routes?.length).toBe(1);
      expect(resolved(config, "staging").define ?? {}).toEqual({});
    });
  }

  it("the api Worker runs next to D1 (Smart Placement) in both environments", () => {
    for (const env of ["staging", "production"]) expect(resolved(apiConfig, env).placement?.mode).toBe("smart");
  });

  it("provision sets exactly the secrets named in .dev.vars.example (less what wrangler.toml makes a var)", async () => {
    for (const [worker, config, example] of [
      ["api", apiConfig, ".dev.vars.example"],
      ["media", mediaConfig, "workers/media/.dev.vars.example"],
    ] as const) {
      const vars = Object.keys(resolved(config).vars);
      const names = [...parseVars(await readFile(path.join(projectRoot, example), "utf8")).keys()].filter((k) => !vars.includes(k));
      expect([...workerSecrets[worker]].sort()).toEqual(names.sort());
    }
  });
});
