// `npm run watch:copy` against real SQLite (node:sqlite) standing in for the remote D1
// databases wrangler would reach: production's DB with viewing from before the shards, and
// its 16 watch shards. A dry run writes nothing; --apply puts every row in its profile's
// shard and nowhere else, across pages, keeps the later of two positions and finishes, skips
// counted plays of days gone by, quotes what needs quoting, and a second run changes nothing.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { describe, expect, it } from "vitest";
import { shardOf } from "../../lib/watch-shard-of.ts";
import { projectRoot } from "../project.ts";
import { copyWatchData, sqlLiteral } from "../watch-copy.ts";
import type { Wrangler } from "../wrangler.ts";

const SHARDS = 16;
const now = Date.UTC(2026, 11, 6, 12);
const today = "2026-12-06";

async function databases() {
  const schema = await readFile(path.join(projectRoot, "d1/watch-migrations/0000_watch_shard.sql"), "utf8");
  const open = () => {
    const db = new DatabaseSync(":memory:");
    for (const statement of schema.split("--> statement-breakpoint")) if (statement.trim()) db.exec(statement);
    return db;
  };
  // DB's tables from before the shards have the same columns as a shard's.
  const dbs = new Map<string, DatabaseSync>([["DB", open()]]);
  for (let k = 0; k < SHARDS; k++) dbs.set(`WATCH_${k}`, open());
  return dbs;
}

/** wrangler d1 execute, answered by the SQLite database of the binding named. */
function runner(dbs: Map<string, DatabaseSync>, calls: string[]): Wrangler {
  return async (args) => {
    if (args[0] !== "d1" || args[1] !== "execute") return { code: 1, stdout: "", stderr: `unexpected: ${args.join(" ")}` };
    const binding = args[2]!;
    const sql = args[args.indexOf("--command") + 1]!;
    calls.push(`${binding}: ${sql.slice(0, 30)}`);
    const db = dbs.get(binding);
    if (!db || !args.includes("--remote") || !args.includes("--env")) return { code: 1, stdout: "", stderr: `no such database ${binding}` };
    if (args.includes("--json")) return { code: 0, stdout: JSON.stringify([{ results: db.prepare(sql).all(), success: true }]), stderr: "" };
    db.exec(sql);
    return { code: 0, stdout: "", stderr: "" };
  };
}

function seed(db: DatabaseSync) {
  const progress = db.prepare("INSERT INTO watch_progress VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  const history = db.prepare("INSERT INTO watch_history VALUES (?, ?, ?, ?, ?)");
  const recent = db.prepare("INSERT INTO profile_recent_titles VALUES (?, ?, ?)");
  for (let p = 0; p < 300; p++) {
    const profile = p === 7 ? "prf_o'brien" : `prf_${p}`;
    for (let t = 0; t < 4; t++) progress.run(profile, `title-${t}`, t === 3 ? `title-3-s1e${p % 5}` : null, 100 + p, 6000, 0, now - 3_600_000 + p, now - 3_600_000);
    history.run(profile, "title-9", "", null, now - 86_400_000 + p);
    recent.run(profile, "title-0", now - 7_200_000);
  }
  const plays = db.prepare("INSERT INTO counted_plays VALUES (?, ?, ?, ?, ?)");
  plays.run(today, "prf_1", "title-0", "GB", "b1");
  plays.run("2026-12-05", "prf_2", "title-0", "GB", "b1");
  plays.run("2026-12-01", "prf_3", "title-0", "GB", "b1");
}

const count = (db: DatabaseSync, sql: string, ...params: (string | number)[]) => (db.prepare(sql).get(...params) as { n: number }).n;

describe("npm run watch:copy", () => {
  it("quotes values as SQL literals", () => {
    expect(sqlLiteral("o'brien")).toBe("'o''brien'");
    expect(sqlLiteral(null)).toBe("NULL");
    expect(sqlLiteral(1.5)).toBe("1.5");
    expect(() => sqlLiteral(Number.NaN)).toThrow();
  });

  it("copies each profile's viewing into its own shard, keeps the later of two, and a second run changes nothing", async () => {
    const dbs = await databases();
    const db = dbs.get("DB")!;
    seed(db);
    // The shard already has newer viewing for one title (the new code served while the copy ran) and older for another.
    const shard1 = dbs.get(`WATCH_${shardOf("prf_1", SHARDS)}`)!;
    shard1.prepare("INSERT INTO watch_progress VALUES ('prf_1', 'title-0', NULL, 4242, 6000, 0, ?, ?)").run(now, now);
    shard1.prepare("INSERT INTO watch_progress VALUES ('prf_1', 'title-1', NULL, 1, 6000, 0, ?, ?)").run(now - 9_000_000, now - 9_000_000);
    const calls: string[] = [];
    const lines: string[] = [];

    const dry = await copyWatchData({ env: "production", run: runner(dbs, calls), apply: false, now, log: (l) => lines.push(l) });
    expect(dry.watch_progress!.read).toBe(1200);
    expect(dry.counted_plays!.read).toBe(2); // today and yesterday, not the 1st
    expect(calls.every((c) => c.startsWith("DB: SELECT"))).toBe(true);
    expect(lines[0]).toMatch(/watch_progress: 1200 rows in DB; WATCH_0 \d+, .* \(a dry run/);

    const applied = await copyWatchData({ env: "production", run: runner(dbs, calls), apply: true, now, log: () => {} });
    expect(applied).toEqual(dry);
    for (const [table, rows] of [["watch_progress", 1200], ["watch_history", 300], ["profile_recent_titles", 300], ["counted_plays", 2]] as const) {
      let total = 0;
      for (let k = 0; k < SHARDS; k++) {
        const shard = dbs.get(`WATCH_${k}`)!;
        const here = shard.prepare(`SELECT DISTINCT profile_id FROM ${table}`).all() as { profile_id: string }[];
        // Nothing in a shard but its own profiles.
        expect(here.every((r) => shardOf(r.profile_id, SHARDS) === k), `${table} in WATCH_${k}`).toBe(true);
        total += count(shard, `SELECT COUNT(*) AS n FROM ${table}`);
      }
      expect(total, table).toBe(rows);
    }
    const own = dbs.get(`WATCH_${shardOf("prf_o'brien", SHARDS)}`)!;
    expect(count(own, "SELECT COUNT(*) AS n FROM watch_progress WHERE profile_id = ?", "prf_o'brien")).toBe(4);
    // The later position stays, whichever side it was on.
    expect(count(shard1, "SELECT position_sec AS n FROM watch_progress WHERE profile_id = 'prf_1' AND title_id = 'title-0'")).toBe(4242);
    expect(count(shard1, "SELECT position_sec AS n FROM watch_progress WHERE profile_id = 'prf_1' AND title_id = 'title-1'")).toBe(101);

    const snapshot = () => [...dbs.entries()].filter(([b]) => b !== "DB").map(([, s]) => JSON.stringify(s.prepare("SELECT * FROM watch_progress ORDER BY profile_id, title_id").all()));
    const before = snapshot();
    await copyWatchData({ env: "production", run: runner(dbs, calls), apply: true, now, log: () => {} });
    expect(snapshot()).toEqual(before);
  });
});
