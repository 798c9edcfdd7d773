// Maturity levels: what a profile may watch, and the level of a title's rating.

/** 0 little kids, 1 older kids, 2 teens, 3 adults. */
export const MATURITY_LEVELS = [0, 1, 2, 3] as const;
export type MaturityLevel = (typeof MATURITY_LEVELS)[number];

/** The most a kids profile may be set to. */
export const KIDS_MAX_LEVEL: MaturityLevel = 1;

const levelByRating: Record<string, MaturityLevel> = {
  G: 0,
  "TV-Y": 0,
  "TV-G": 0,
  PG: 1,
  "TV-Y7": 1,
  "TV-PG": 1,
  "PG-13": 2,
  "TV-14": 2,
  R: 3,
  "NC-17": 3,
  "TV-MA": 3,
};

/** A rating board label's level; unknown or unrated ("NR") titles count as adult. */
export function ratingLevel(rating: string): MaturityLevel {
  return levelByRating[rating.toUpperCase()] ?? 3;
}
