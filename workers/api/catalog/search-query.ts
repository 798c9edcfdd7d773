// Turns a viewer's search text into FTS5 queries that can never carry FTS5 syntax, and
// scores typo-tolerant (trigram) candidates.

/**
 * The words of a query as unicode61 would see them: letters, digits and private-use
 * characters; everything else (quotes, `*`, `:`, `^`, `-`, `+`, parentheses…) separates.
 * NFKC first so full-width letters, ligatures and decomposed accents read like the
 * catalog's text.
 */
export function queryWords(q: string): string[] {
  return q.normalize("NFKC").split(/[^\p{L}\p{N}\p{Co}]+/u).filter((w) => w.length > 0);
}

/**
 * Every word as a quoted string (so `OR`, `NEAR`, `AND`, `NOT` are just words), implicitly
 * AND-ed; the last one is a prefix so results follow the viewer's typing. Null when the
 * query has no words at all.
 */
export function ftsMatchExpression(words: string[]): string | null {
  if (words.length === 0) return null;
  // Words cannot contain `"` (a separator above), so quoting needs no escaping.
  return words.map((w, i) => (i === words.length - 1 ? `"${w}"*` : `"${w}"`)).join(" ");
}

/** Lowercased, accents removed: how the trigram tokenizer (remove_diacritics 1) compares. */
export function fold(s: string): string {
  return s.normalize("NFKD").replace(/\p{M}+/gu, "").toLowerCase();
}

/**
 * The distinct trigrams inside each word (none across words, none from words shorter than
 * three), so "packt pals" keeps pac, ack, ckt, pal, als.
 */
export function wordTrigrams(text: string): Set<string> {
  const out = new Set<string>();
  for (const word of queryWords(fold(text))) {
    const chars = [...word];
    for (let i = 0; i + 3 <= chars.length; i++) out.add(chars.slice(i, i + 3).join(""));
  }
  return out;
}

/** How much of the query a candidate name has (coverage) and how alike the two are (Dice). */
export function trigramSimilarity(query: Set<string>, name: string): { shared: number; coverage: number; dice: number } {
  const nameGrams = wordTrigrams(name);
  let shared = 0;
  for (const g of query) if (nameGrams.has(g)) shared++;
  return { shared, coverage: query.size === 0 ? 0 : shared / query.size, dice: (2 * shared) / (query.size + nameGrams.size || 1) };
}
