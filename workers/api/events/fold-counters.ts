// Folding a watch shard's counter deltas (its `counter_outbox`, written with the events
// that caused them) into the counters every member reads in `DB`: daily plays (Top 10,
// Trending), co-watch counts and title viewers (recommendations). One D1 batch: the fold
// first claims its (shard, batch) pairs in `counter_folds` under a fresh attempt id, and
// each counter statement adds only the rows whose batch it claimed itself — so a fold
// retried after a lost answer, or run twice on rows not yet deleted, adds nothing twice.
// The shard deletes folded rows afterwards (the next batch's first statement, or the
// cron's sweep). Each counter row is written once per fold, whatever the number of events.
import type { OutboxRow } from "./apply-events.ts";

const rowsCte = `r AS (
  SELECT json_extract(value, '$[0]') AS batch_tag, json_extract(value, '$[1]') AS kind, json_extract(value, '$[2]') AS a,
         json_extract(value, '$[3]') AS b, json_extract(value, '$[4]') AS c, json_extract(value, '$[5]') AS delta
  FROM json_each(?3)),
mine AS (
  SELECT r.* FROM r JOIN counter_folds f ON f.shard = ?1 AND f.batch_tag = r.batch_tag AND f.attempt = ?2)`;

/** Adds the rows' deltas to the shared counters, each batch once. Returns the batch tags now folded (to delete from the shard). */
export async function foldCounters(db: D1Database, shard: number, rows: OutboxRow[], nowMs: number): Promise<string[]> {
  if (rows.length === 0) return [];
  // The same pending row may have been read twice (one fold after several tries of a batch): once each.
  rows = [...new Map(rows.map((r) => [JSON.stringify([r.batch_tag, r.kind, r.a, r.b, r.c]), r])).values()];
  const tags = [...new Set(rows.map((r) => r.batch_tag))];
  const attempt = crypto.randomUUID();
  const json = JSON.stringify(rows.map((r) => [r.batch_tag, r.kind, r.a, r.b, r.c, r.delta]));
  const s = (sql: string) => db.prepare(sql).bind(shard, attempt, json);
  await db.batch([
    db
      .prepare("INSERT INTO counter_folds (shard, batch_tag, attempt, folded_at) SELECT ?1, value, ?2, ?3 FROM json_each(?4) WHERE true ON CONFLICT (shard, batch_tag) DO NOTHING")
      .bind(shard, attempt, nowMs, JSON.stringify(tags)),
    s(`WITH ${rowsCte}
       INSERT INTO title_plays_daily (day, country, title_id, plays)
       SELECT a, b, c, SUM(delta) FROM mine WHERE kind = 'plays' GROUP BY a, b, c
       ON CONFLICT (day, country, title_id) DO UPDATE SET plays = plays + excluded.plays`),
    s(`WITH ${rowsCte}
       INSERT INTO co_watch (title_id, other_title_id, count)
       SELECT a, b, SUM(delta) FROM mine WHERE kind = 'co_watch' GROUP BY a, b
       ON CONFLICT (title_id, other_title_id) DO UPDATE SET count = count + excluded.count`),
    s(`WITH ${rowsCte}
       INSERT INTO title_stats (title_id, viewers)
       SELECT a, SUM(delta) FROM mine WHERE kind = 'viewers' GROUP BY a
       ON CONFLICT (title_id) DO UPDATE SET viewers = viewers + excluded.viewers`),
  ]);
  return tags;
}
