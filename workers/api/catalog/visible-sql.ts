// The one SQL condition for "a viewer may see this title now", for the reads written in SQL
// (search, viewing, home rows, My List): inside its availability window, at or below the
// viewer's maturity level. Browsing through drizzle has the same rule as `visibleTo` (browse.ts).

/** `t` is the title; `now` a placeholder for Unix ms, `level` a placeholder or column for the level. */
export function titleVisibleSql(now: string, level: string): string {
  return `(t.available_from IS NULL OR t.available_from <= ${now}) AND (t.available_until IS NULL OR t.available_until > ${now}) AND t.maturity_level <= ${level}`;
}

/** For a profile joined as `p`: its own maturity level. */
export const profileMayWatchSql = (now: string) => titleVisibleSql(now, "p.maturity_level");
