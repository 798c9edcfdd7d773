// Counting rows in the local D1 databases `wrangler dev` uses (a state directory's), for the
// scripts that check what landed: `DB`, and the watch shards `WATCH_0` … `WATCH_{N-1}`
// (N = the top-level EVENT_SHARDS of wrangler.toml), whose answers are summed.
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { shardCount } from "../lib/watch-shard-of.ts";
import { apiConfig, offlineEnv, projectRoot } from "./project.ts";
import { readEnvironment } from "./wrangler.ts";

const run = promisify(execFile);

/** The first column of the first row of `sql` on one local database (by binding). */
export async function localD1Number(stateDir: string, binding: string, sql: string): Promise<number> {
  const { stdout } = await run(path.join(projectRoot, "node_modules/.bin/wrangler"), ["d1", "execute", binding, "--local", "--persist-to", stateDir, "--json", "--command", sql], {
    cwd: projectRoot,
    env: offlineEnv,
    maxBuffer: 16 * 1024 * 1024,
  }).catch((err: Error & { stdout?: string; stderr?: string }) => {
    throw new Error(`wrangler d1 execute ${binding} failed: ${(err.stderr || err.stdout || err.message).slice(-600)}`);
  });
  const row = (JSON.parse(stdout) as { results: Record<string, number>[] }[])[0]!.results[0] ?? {};
  return Number(Object.values(row)[0] ?? 0);
}

/** `sql` on every local watch shard, summed (a count over many profiles is the total; one profile's rows are in one shard). */
export async function localWatchNumber(stateDir: string, sql: string): Promise<number> {
  const shards = shardCount((await readEnvironment(apiConfig, undefined)).vars.EVENT_SHARDS);
  let total = 0;
  for (let k = 0; k < shards; k++) total += await localD1Number(stateDir, `WATCH_${k}`, sql);
  return total;
}
