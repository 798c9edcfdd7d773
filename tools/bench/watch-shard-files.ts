// The local watch shards' SQLite files, read directly (read-only) by a bench while
// `wrangler dev` writes them: counting rows every second or two this way costs a few
// milliseconds, where `wrangler d1 execute --local` starts a whole Miniflare (a second or
// two of CPU on this 2-core machine, taken from the platform it measures, and a second
// writer-capable process on the same files). Miniflare keeps each local D1 database as
// `<persist>/v3/d1/miniflare-D1DatabaseObject/<hash>.sqlite`, in WAL mode, so a reader
// never blocks the Worker's writes. The hash does not say which binding a file is: a
// file is a watch shard when it has `counter_outbox` and no `titles` (DB has both
// `watch_events` and `titles`), and it is shard k when its rows' profiles hash to k.
import { readdir } from "node:fs/promises";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { shardOf } from "../../lib/watch-shard-of.ts";

export type ShardFiles = {
  /** Rows of `table` in every shard file, summed, and per shard (a shard with no rows yet counts 0). */
  count(table: string): { total: number; perShard: number[] };
  /** Every shard's watch_events keys, one list per shard file. */
  eventKeys(): { profile_id: string; event_id: string }[][];
  close(): void;
};

export async function openShardFiles(stateDir: string, shards: number): Promise<ShardFiles> {
  const dir = path.join(stateDir, "v3", "d1", "miniflare-D1DatabaseObject");
  const files = (await readdir(dir)).filter((f) => f.endsWith(".sqlite") && f !== "metadata.sqlite");
  const dbs: { file: string; db: DatabaseSync; shard: number | null }[] = [];
  for (const file of files) {
    const db = new DatabaseSync(path.join(dir, file), { readOnly: true });
    const tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((t) => t.name));
    if (tables.has("counter_outbox") && !tables.has("titles")) dbs.push({ file, db, shard: null });
    else db.close();
  }
  if (dbs.length !== shards) throw new Error(`found ${dbs.length} watch-shard databases in ${dir}, expected ${shards} (EVENT_SHARDS)`);
  const identify = (d: (typeof dbs)[number]) => {
    if (d.shard !== null) return d.shard;
    const one = d.db.prepare("SELECT profile_id FROM watch_events LIMIT 1").get() as { profile_id: string } | undefined;
    if (one) d.shard = shardOf(one.profile_id, shards);
    return d.shard;
  };
  return {
    count(table) {
      const perShard = Array.from({ length: shards }, () => 0);
      let total = 0;
      for (const d of dbs) {
        const n = (d.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
        total += n;
        const k = identify(d);
        if (k !== null) perShard[k]! += n;
        else if (n > 0) throw new Error(`${d.file} has ${n} rows in ${table} but no watch event to tell its shard by`);
      }
      return { total, perShard };
    },
    eventKeys() {
      return dbs.map((d) => d.db.prepare("SELECT profile_id, event_id FROM watch_events").all() as { profile_id: string; event_id: string }[]);
    },
    close() {
      for (const d of dbs) d.db.close();
    },
  };
}
