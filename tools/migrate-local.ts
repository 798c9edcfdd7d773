// `npm run db:migrate:local [-- --persist-to DIR]`: applies d1/migrations to the local DB
// and d1/watch-migrations to every local watch shard WATCH_{k} (k < EVENT_SHARDS), each
// with `wrangler d1 migrations apply … --local` (so wrangler's own bookkeeping stays
// right). `npm run seed` and `npm run dev` start with this.
import { apiConfig } from "./project.ts";
import { configuredShards } from "./watch-shards.ts";
import { flagValue, outputOf, readEnvironment, UsageError, wrangler, type Wrangler } from "./wrangler.ts";

export type MigratedDatabase = { binding: string; applied: string[] };

/** The local D1 bindings migrations go to: DB, then WATCH_0 … WATCH_{N-1}. */
export async function localDatabases(config = apiConfig): Promise<string[]> {
  const { shards, problems } = configuredShards(await readEnvironment(config, undefined), "wrangler.toml (top level)");
  if (problems.length > 0) throw new Error(problems.join("\n"));
  return ["DB", ...shards.map((s) => s.binding)];
}

/**
 * Migrates every local database, one after the other: wrangler's local D1 processes share
 * state under the persist folder, and two at once fail with SQLITE_BUSY. What each
 * database had applied is returned and logged.
 */
export async function migrateLocal(
  persistTo?: string,
  options: { quiet?: boolean; run?: Wrangler; config?: string } = {},
): Promise<MigratedDatabase[]> {
  const say = options.quiet ? () => {} : console.log;
  const run = options.run ?? wrangler;
  const config = options.config ?? apiConfig;
  const results: MigratedDatabase[] = [];
  for (const binding of await localDatabases(config)) {
    const args = ["d1", "migrations", "apply", binding, "--local", "--config", config, ...(persistTo ? ["--persist-to", persistTo] : [])];
    const result = await run(args, { capture: true });
    const said = outputOf(result);
    if (result.code !== 0) throw new Error(`wrangler ${args.join(" ")} exited with ${result.code}\n${said.trim()}`);
    // wrangler prints a table of what it applied, `│ 0000_name.sql │ ✅ │`, again after each one.
    const applied = [...new Set([...said.matchAll(/│\s*(\S+\.sql)\s*│\s*✅/g)].map((m) => m[1]!))];
    say(`D1 ${binding}: ${applied.length > 0 ? `applied ${applied.join(", ")}` : "migrations up to date"}`);
    results.push({ binding, applied });
  }
  return results;
}

if (import.meta.main) {
  try {
    await migrateLocal(flagValue(process.argv.slice(2), "--persist-to"));
  } catch (err) {
    console.error(err instanceof UsageError ? `usage: npm run db:migrate:local [-- --persist-to DIR]\n${err.message}` : (err as Error).message);
    process.exit(err instanceof UsageError ? 2 : 1);
  }
}
