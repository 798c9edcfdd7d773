// Catalog search: ranked full-text matches (FTS5, bm25), topped up with typo-tolerant
// trigram matches on names when the full-text query finds little.
import { ftsMatchExpression, queryWords, trigramSimilarity, wordTrigrams } from "./search-query.ts";
import { titleVisibleSql } from "./visible-sql.ts";

export type SearchHit = {
  id: string;
  kind: "movie" | "series";
  name: string;
  releaseYear: number;
  maturityRating: string;
  posterPath: string | null;
  synopsis: string;
  match: "fulltext" | "fuzzy";
};

type Row = {
  id: string;
  kind: "movie" | "series";
  name: string;
  release_year: number;
  maturity_rating: string;
  poster_path: string | null;
  synopsis: string;
  popularity: number;
};

/** Below this many full-text results the fuzzy fallback runs. */
export const FUZZY_BELOW = 3;
/**
 * A fuzzy candidate shares two or more trigrams with the query, and either is alike as a
 * whole (Dice coefficient) or contains most of the query (coverage). Dice alone would
 * drop a long name for a typo in one of its words; coverage alone lets "night" find
 * "Harbour Lights" (igh, ght).
 */
const MIN_SHARED = 2;
const MIN_DICE = 0.45;
const MIN_COVERAGE = 0.75;
/** Bounds the OR query; a 100-character query has at most 98. */
const MAX_TRIGRAMS = 48;
const SYNOPSIS_CHARS = 200;
/**
 * Text matches ranked before visibility and popularity are applied. Popularity moves a
 * score by at most 10%, so it only reorders near-ties within these; a viewer who may see
 * under 1 in 25 of the best matches can get fewer results than asked for.
 */
const CANDIDATES = 500;

// Name matters most, then synopsis, then cast/crew (bm25 weights, in column order).
const BM25 = "bm25(titles_fts, 10.0, 3.0, 1.0)";
// Popularity only nudges: at most 10% of the text score, saturating, so it breaks near-ties
// without lifting a synopsis-only match over a name match.
const POPULARITY_BOOST = "(1.0 + 0.1 * max(t.popularity, 0) / (max(t.popularity, 0) + 100.0))";

const COLUMNS = "t.id, t.kind, t.name, t.release_year, t.maturity_rating, t.poster_path, t.synopsis, t.popularity";
// ?1 is now (ms), ?2 the viewer's maturity level.
const VISIBLE = titleVisibleSql("?1", "?2");

export async function searchTitles(db: D1Database, q: string, options: { limit: number; now: Date; maxLevel: number }): Promise<SearchHit[]> {
  const { limit, now, maxLevel } = options;
  const match = ftsMatchExpression(queryWords(q));
  if (!match) return [];
  const fulltext = await rankedVisible(db, { table: "titles_fts", score: BM25, order: `c.score * ${POPULARITY_BOOST}`, limit }, match, now, maxLevel);
  const hits = fulltext.map((r) => hit(r, "fulltext"));
  if (hits.length >= Math.min(FUZZY_BELOW, limit)) return hits;
  const seen = new Set(hits.map((h) => h.id));
  const fuzzy = (await fuzzyTitles(db, q, now, maxLevel)).filter((r) => !seen.has(r.id));
  return [...hits, ...fuzzy.slice(0, limit - hits.length).map((r) => hit(r, "fuzzy"))];
}

/**
 * Two stages: FTS5 alone ranks every match by text score and keeps the best few hundred
 * (cheap), and only those are joined to titles for visibility and the final order.
 * Joining every match first made a common word cost in proportion to the catalog.
 * `table`, `score` and `order` are constants of this module, never user input.
 */
async function rankedVisible(
  db: D1Database,
  query: { table: "titles_fts" | "titles_trigram"; score: string; order: string; limit: number },
  match: string,
  now: Date,
  maxLevel: number,
): Promise<Row[]> {
  const { results } = await db
    .prepare(
      `WITH candidates AS (
         SELECT rowid AS key, ${query.score} AS score FROM ${query.table}
         WHERE ${query.table} MATCH ?3
         ORDER BY score
         LIMIT ${CANDIDATES}
       )
       SELECT ${COLUMNS} FROM candidates c
       JOIN titles_fts_keys k ON k.id = c.key
       JOIN titles t ON t.id = k.title_id
       WHERE ${VISIBLE}
       ORDER BY ${query.order}, t.id
       LIMIT ?4`,
    )
    .bind(now.getTime(), maxLevel, match, query.limit)
    .all<Row>();
  return results;
}

/**
 * Names sharing enough of the query's in-word trigrams. D1 refuses a UNION of one lookup
 * per trigram (its compound-SELECT limit), so one FTS5 query ORs them: bm25 over trigrams
 * already favours names with more, and rarer, shared trigrams relative to their length;
 * the best 200 candidates are then scored exactly here.
 */
async function fuzzyTitles(db: D1Database, q: string, now: Date, maxLevel: number): Promise<Row[]> {
  const grams = [...wordTrigrams(q)].slice(0, MAX_TRIGRAMS);
  if (grams.length < MIN_SHARED) return [];
  // Each trigram as a quoted string of letters and digits only (wordTrigrams): no syntax.
  const match = grams.map((g) => `"${g}"`).join(" OR ");
  const results = await rankedVisible(db, { table: "titles_trigram", score: "bm25(titles_trigram)", order: "c.score", limit: 200 }, match, now, maxLevel);
  const querySet = new Set(grams);
  return results
    .map((row) => ({ row, score: trigramSimilarity(querySet, row.name) }))
    .filter(({ score }) => score.shared >= MIN_SHARED && (score.dice >= MIN_DICE || score.coverage >= MIN_COVERAGE))
    .sort((a, b) => b.score.dice - a.score.dice || b.row.popularity - a.row.popularity || (a.row.id < b.row.id ? -1 : 1))
    .map(({ row }) => row);
}

function hit(row: Row, match: SearchHit["match"]): SearchHit {
  return {
    id: row.id,
    kind: row.kind,
    name: row.name,
    releaseYear: row.release_year,
    maturityRating: row.maturity_rating,
    posterPath: row.poster_path,
    synopsis: truncate(row.synopsis, SYNOPSIS_CHARS),
    match,
  };
}

/** Cut at a word boundary, by code points so no surrogate pair is split. */
export function truncate(text: string, max: number): string {
  const chars = [...text];
  if (chars.length <= max) return text;
  const cut = chars.slice(0, max - 1).join("");
  const space = cut.lastIndexOf(" ");
  return `${(space > max / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}
