// Statements that rebuild titles' search-index rows (titles_fts, titles_trigram; see
// d1/migrations/0004_titles_fts.sql) for writers that want to repair or force them.
//
// Triggers on titles, credits and people already keep the index in step with every write,
// so a catalog writer does not need these; they are idempotent, so putting them in a
// write's batch anyway is safe (and is how to repair an index after, e.g., a restore that
// bypassed the triggers).

/** D1 accepts at most 100 bound parameters per statement. */
const CHUNK = 100;

const PEOPLE = `coalesce((SELECT group_concat(p.name, ' ') FROM people p WHERE p.id IN (SELECT c.person_id FROM credits c WHERE c.title_id = t.id)), '')`;

/**
 * For each title id: its key, then its rows rebuilt from titles/credits/people, or removed
 * when the title no longer exists. Order within the returned list matters; keep it.
 */
export function reindexTitleStatements(db: D1Database, titleIds: string[]): D1PreparedStatement[] {
  const statements: D1PreparedStatement[] = [];
  const unique = [...new Set(titleIds)];
  for (let i = 0; i < unique.length; i += CHUNK) {
    const ids = unique.slice(i, i + CHUNK);
    const list = ids.map(() => "?").join(", ");
    const keys = `(SELECT id FROM titles_fts_keys WHERE title_id IN (${list}))`;
    const stmt = (sql: string) => db.prepare(sql).bind(...ids);
    statements.push(
      stmt(`INSERT OR IGNORE INTO titles_fts_keys(title_id) SELECT id FROM titles WHERE id IN (${list})`),
      stmt(`DELETE FROM titles_fts WHERE rowid IN ${keys}`),
      stmt(`DELETE FROM titles_trigram WHERE rowid IN ${keys}`),
      stmt(
        `INSERT INTO titles_fts(rowid, name, synopsis, people) SELECT k.id, t.name, t.synopsis, ${PEOPLE} FROM titles t JOIN titles_fts_keys k ON k.title_id = t.id WHERE t.id IN (${list})`,
      ),
      stmt(`INSERT INTO titles_trigram(rowid, name) SELECT k.id, t.name FROM titles t JOIN titles_fts_keys k ON k.title_id = t.id WHERE t.id IN (${list})`),
      stmt(`DELETE FROM titles_fts_keys WHERE title_id IN (${list}) AND title_id NOT IN (SELECT id FROM titles)`),
    );
  }
  return statements;
}
