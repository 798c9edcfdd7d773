// `npm run watch:copy -- --env staging|production [--apply]`: once, when a deployment that
// ran before the watch shards is upgraded, copies each profile's viewing from `DB` (the
// tables the code no longer reads) into its watch shard `WATCH_{shardOf(profile, N)}`:
// progress, history, recent titles and the counted plays of the last two days. Without
// `--apply` it only counts what it would copy, per table and shard. Safe to run again, and
// while the new code serves: every write is an upsert that keeps the later of the two
// (a resume point by its event time, a finish by its time), so a copy never moves a
// viewer back. Watch events are not copied: their rows only remember ids for three days of
// redeliveries, and what they did is in the tables above. Needs `wrangler login` or
// CLOUDFLARE_API_TOKEN, like the other remote scripts (docs/scaling.md).
import { shardOf } from "../lib/watch-shard-of.ts";
import { apiConfig } from "./project.ts";
import { environmentFlag, jsonOutput, mustWrangler, readEnvironment, UsageError, wrangler, type DeployEnvironment, type Wrangler } from "./wrangler.ts";
import { configuredShards } from "./watch-shards.ts";

type Value = string | number | null;

/** What is copied from each table, keyed and merged as the shard's own writes are. */
export const copiedTables = [
  {
    table: "watch_progress",
    key: ["profile_id", "title_id"],
    columns: ["profile_id", "title_id", "episode_id", "position_sec", "duration_sec", "completed", "event_at", "updated_at"],
    onConflict: `DO UPDATE SET episode_id = excluded.episode_id, position_sec = excluded.position_sec, duration_sec = excluded.duration_sec,
      completed = excluded.completed, event_at = excluded.event_at, updated_at = excluded.updated_at WHERE excluded.event_at > watch_progress.event_at`,
  },
  {
    table: "watch_history",
    key: ["profile_id", "title_id", "episode_key"],
    columns: ["profile_id", "title_id", "episode_key", "episode_id", "finished_at"],
    onConflict: "DO UPDATE SET finished_at = MAX(finished_at, excluded.finished_at)",
  },
  {
    table: "profile_recent_titles",
    key: ["profile_id", "title_id"],
    columns: ["profile_id", "title_id", "last_at"],
    onConflict: "DO UPDATE SET last_at = MAX(last_at, excluded.last_at)",
  },
  {
    table: "counted_plays",
    key: ["day", "profile_id", "title_id"],
    columns: ["day", "profile_id", "title_id", "country", "batch_tag"],
    onConflict: "DO NOTHING",
    /** Only the days a play can still be refused on (housekeeping keeps two). */
    where: (nowMs: number) => `day >= '${new Date(nowMs - 86_400_000).toISOString().slice(0, 10)}'`,
  },
] as const;

/** Rows read from DB a page, and written to a shard a statement. */
const PAGE = 500;
const ROWS_PER_STATEMENT = 100;

/** A value as an SQL literal: these come from our own database, and are quoted all the same. */
export function sqlLiteral(v: Value): string {
  if (v === null) return "NULL";
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new Error(`not a finite number: ${v}`);
    return String(v);
  }
  return `'${v.replaceAll("'", "''")}'`;
}

export type CopyOptions = { env: DeployEnvironment; run: Wrangler; apply: boolean; config?: string; now?: number; log?: (line: string) => void };
export type CopyReport = Record<string, { read: number; perShard: number[] }>;

export async function copyWatchData(options: CopyOptions): Promise<CopyReport> {
  const { env, run, apply } = options;
  const config = options.config ?? apiConfig;
  const log = options.log ?? console.log;
  const now = options.now ?? Date.now();
  const { shards, problems } = configuredShards(await readEnvironment(config, env), `wrangler.toml [env.${env}]`);
  if (problems.length > 0) throw new UsageError(problems.join("\n"));
  const execute = async (binding: string, sql: string, json: boolean): Promise<{ stdout: string }> =>
    mustWrangler(run, ["d1", "execute", binding, "--remote", "--config", config, "--env", env, "--yes", ...(json ? ["--json"] : []), "--command", sql], { capture: true });

  const report: CopyReport = {};
  for (const t of copiedTables) {
    const entry = { read: 0, perShard: shards.map(() => 0) };
    report[t.table] = entry;
    let after: Value[] | null = null;
    for (;;) {
      const conditions: string[] = [
        ...("where" in t ? [t.where(now)] : []),
        ...(after ? [`(${t.key.join(", ")}) > (${after.map(sqlLiteral).join(", ")})`] : []),
      ];
      const select: string = `SELECT ${t.columns.join(", ")} FROM ${t.table}${conditions.length ? ` WHERE ${conditions.join(" AND ")}` : ""} ORDER BY ${t.key.join(", ")} LIMIT ${PAGE}`;
      const rows: Record<string, Value>[] = (jsonOutput((await execute("DB", select, true)).stdout) as { results: Record<string, Value>[] }[])[0]?.results ?? [];
      if (rows.length === 0) break;
      entry.read += rows.length;
      const byShard = new Map<number, Record<string, Value>[]>();
      for (const row of rows) {
        const k = shardOf(String(row.profile_id), shards.length);
        byShard.set(k, [...(byShard.get(k) ?? []), row]);
        entry.perShard[k]!++;
      }
      if (apply) {
        for (const [k, list] of byShard) {
          const statements: string[] = [];
          for (let i = 0; i < list.length; i += ROWS_PER_STATEMENT) {
            const values = list.slice(i, i + ROWS_PER_STATEMENT).map((r) => `(${t.columns.map((c) => sqlLiteral(r[c] ?? null)).join(", ")})`);
            statements.push(`INSERT INTO ${t.table} (${t.columns.join(", ")}) VALUES ${values.join(", ")} ON CONFLICT (${t.key.join(", ")}) ${t.onConflict};`);
          }
          await execute(shards[k]!.binding, statements.join("\n"), false);
        }
      }
      const last: Record<string, Value> = rows.at(-1)!;
      after = t.key.map((c): Value => last[c] ?? null);
      if (rows.length < PAGE) break;
    }
    log(`${t.table}: ${entry.read} rows in DB; ${entry.perShard.map((n, k) => `${shards[k]!.binding} ${n}`).join(", ")}${apply ? " — copied" : " (a dry run: --apply copies them)"}`);
  }
  return report;
}

if (import.meta.main) {
  const argv = process.argv.slice(2);
  try {
    await copyWatchData({ env: environmentFlag(argv), run: wrangler, apply: argv.includes("--apply") });
  } catch (err) {
    console.error(err instanceof UsageError ? `usage: npm run watch:copy -- --env staging|production [--apply]\n${err.message}` : (err as Error).message);
    process.exit(err instanceof UsageError ? 2 : 1);
  }
}
