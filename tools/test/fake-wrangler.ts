// A pretend Cloudflare account behind a fake wrangler runner, for the provision, deploy
// and DLQ-replay tests: it answers the commands those tools issue the way wrangler 4
// prints them, keeps what they create, and records every call. Nothing reaches a network.
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Wrangler, WranglerResult } from "../wrangler.ts";

export type Call = { args: string[]; input: string | undefined };

const ok = (stdout = ""): WranglerResult => ({ code: 0, stdout, stderr: "" });
const fail = (stderr: string): WranglerResult => ({ code: 1, stdout: "", stderr: `✘ [ERROR] ${stderr}` });

export class FakeCloudflare {
  loggedIn = true;
  databases: { name: string; uuid: string }[] = [];
  buckets = new Set<string>();
  queues = new Map<string, { id: string; retention?: string }>();
  /** Worker name → its secrets. A Worker exists once it has been deployed or given a secret. */
  workers = new Map<string, Map<string, string>>();
  deployed: string[] = [];
  /** What a dry-run writes as the bundle (index.js in --outdir). */
  bundle = "export default { fetch() { return new Response('ok') } };";
  calls: Call[] = [];
  /** Extra commands a test answers itself (e.g. `d1 execute`). */
  handle: ((args: string[], input: string | undefined) => WranglerResult | undefined) | undefined;
  private next = 1;

  constructor(private readonly workerName: (config: string, env: string) => string) {}

  /** The commands issued, as strings, for order and shape assertions. */
  get commands(): string[] {
    return this.calls.map((c) => c.args.join(" "));
  }

  private id(): string {
    return `${(this.next++).toString(16).padStart(8, "0")}-0000-4000-8000-000000000000`;
  }

  private flag(args: string[], name: string): string | undefined {
    const i = args.indexOf(name);
    return i < 0 ? undefined : args[i + 1];
  }

  run: Wrangler = async (args, call = {}) => {
    this.calls.push({ args: [...args], input: call.input });
    const own = this.handle?.(args, call.input);
    if (own) return own;
    const [a, b, c] = args;
    const worker = () => this.workerName(this.flag(args, "--config") ?? "", this.flag(args, "--env") ?? "");
    if (a === "whoami") return this.loggedIn ? ok("You are logged in.") : fail("You are not authenticated. Please run `wrangler login`.");
    if (!this.loggedIn) return fail("Not logged in.");
    if (a === "d1" && b === "list") return ok(JSON.stringify(this.databases.map((d) => ({ ...d, version: "production", created_at: "2026-11-30T00:00:00Z" })), null, 2));
    if (a === "d1" && b === "create") {
      if (this.databases.some((d) => d.name === c)) return fail(`A database with that name already exists [code: 7502]`);
      const uuid = this.id();
      this.databases.push({ name: c!, uuid });
      return ok(`✅ Successfully created DB '${c}'\n[[d1_databases]]\nbinding = "DB"\ndatabase_name = "${c}"\ndatabase_id = "${uuid}"`);
    }
    if (a === "d1" && b === "migrations" && c === "apply") return ok("Migrations applied.");
    if (a === "r2" && b === "bucket" && c === "list") {
      return ok(`Listing buckets...\n${[...this.buckets].map((n) => `name:           ${n}\ncreation_date:  2026-11-30T00:00:00.000Z`).join("\n\n")}`);
    }
    if (a === "r2" && b === "bucket" && c === "create") {
      const name = args[3]!;
      if (this.buckets.has(name)) return fail("The bucket you tried to create already exists, and you own it. [code: 10004]");
      this.buckets.add(name);
      return ok(`Creating bucket '${name}'...\n✅ Created bucket '${name}'`);
    }
    if (a === "queues" && b === "info") {
      const q = this.queues.get(c!);
      return q ? ok(`Queue Name: ${c}\nQueue ID: ${q.id.replaceAll("-", "")}\nCreated On: 2026-11-30`) : fail(`Queue "${c}" does not exist. To create it, run: wrangler queues create ${c}`);
    }
    if (a === "queues" && b === "create") {
      if (this.queues.has(c!)) return fail("A queue with this name already exists [code: 11009]");
      this.queues.set(c!, { id: this.id(), retention: this.flag(args, "--message-retention-period-secs") });
      return ok(`Creating queue ${c}\nCreated queue ${c}.`);
    }
    if (a === "secret" && b === "list") {
      const secrets = this.workers.get(worker());
      if (!secrets) return fail(`This Worker does not exist on your account. [code: 10007]`);
      return ok(JSON.stringify([...secrets.keys()].map((name) => ({ name, type: "secret_text" }))));
    }
    if (a === "secret" && b === "put") {
      if (call.input === undefined) return fail("no value on stdin");
      const name = worker();
      if (!this.workers.has(name)) this.workers.set(name, new Map());
      this.workers.get(name)!.set(c!, call.input);
      return ok(`✨ Success! Uploaded secret ${c}`);
    }
    if (a === "deploy" && args.includes("--dry-run")) {
      const outdir = this.flag(args, "--outdir")!;
      await mkdir(outdir, { recursive: true });
      await writeFile(path.join(outdir, "index.js"), this.bundle);
      await writeFile(path.join(outdir, "index.js.map"), JSON.stringify({ sourcesContent: ["chaos: injected"] }));
      return ok("--dry-run: exiting now.");
    }
    if ((a === "deploy" || (a === "versions" && b === "upload")) && !args.includes("--dry-run")) {
      const name = worker();
      if (!this.workers.has(name)) this.workers.set(name, new Map());
      this.deployed.push(name);
      return ok(`Uploaded ${name}`);
    }
    return { code: 99, stdout: "", stderr: `fake wrangler does not know: ${args.join(" ")}` };
  };
}
