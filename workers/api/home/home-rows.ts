// The rows of one profile's home page, composed from what the home query read. Each row
// says why it is there; a personal row with nothing to show falls back to a popular one,
// and a failure in the recommendation step costs only the rows it feeds.
import type { CardRow, HomeQueryResult } from "./home-queries.ts";
import { ROW_LENGTH } from "./home-queries.ts";
import { becauseYouWatched, topPicks, type Neighbour, type Scored } from "./recommend.ts";

/** Rows with fewer titles than this fall back, or are left out: a row of two looks broken. */
const MIN_ROW = 4;
/** How many "Because you watched" rows, for the newest seeds. */
const BECAUSE_ROWS = 2;

export type Card = {
  id: string;
  name: string;
  kind: "movie" | "series";
  posterPath: string | null;
  maturityRating: string;
  releaseYear: number;
};

export type Reason =
  | { type: "live_now" }
  | { type: "continue_watching" }
  | { type: "top_10"; country: string }
  | { type: "trending" }
  | { type: "because_you_watched"; titleId: string }
  | { type: "top_picks" }
  | { type: "my_list" }
  | { type: "new_releases" }
  | { type: "genre"; genreId: string }
  | { type: "popular"; instead: string };

export type HomeItem = Card & {
  rank?: number;
  progress?: { positionSec: number; durationSec: number; fraction: number; episode: { id: string; name: string; seasonNumber: number; number: number } | null };
};

export type HomeRow = { id: string; heading: string; reason: Reason; items: HomeItem[] };

export type Recommender = {
  becauseYouWatched: typeof becauseYouWatched;
  topPicks: typeof topPicks;
};

export const defaultRecommender: Recommender = { becauseYouWatched, topPicks };

const toCard = (r: CardRow): Card => ({ id: r.id, name: r.name, kind: r.kind, posterPath: r.poster_path, maturityRating: r.maturity_rating, releaseYear: r.release_year });

function countryName(code: string): string {
  try {
    return new Intl.DisplayNames(["en"], { type: "region" }).of(code) ?? code;
  } catch {
    return code;
  }
}

export type ComposeResult = { rows: HomeRow[]; degraded: string[] };

export function composeHome(q: HomeQueryResult, country: string, recommender: Recommender = defaultRecommender): ComposeResult {
  const degraded: string[] = [];
  const rows: HomeRow[] = [];
  const cardsById = new Map<string, Card>();
  for (const r of [...q.popular, ...q.trending, ...q.newReleases, ...q.myList, ...q.neighbours, ...q.genreRows.flat()]) cardsById.set(r.id, toCard(r));
  const popularExcept = (exclude: Set<string>) => q.popular.filter((r) => !exclude.has(r.id)).slice(0, ROW_LENGTH).map(toCard);
  const fromScored = (scored: Scored[]) => scored.map((s) => cardsById.get(s.id)).filter((c): c is Card => c !== undefined);

  // Live events on now come first, however few: they will not be there later.
  if (q.liveNow.length > 0) rows.push({ id: "live-now", heading: "Live now", reason: { type: "live_now" }, items: q.liveNow.map(toCard) });

  const inProgress = new Set(q.continueWatching.map((r) => r.id));
  if (q.continueWatching.length > 0) {
    rows.push({
      id: "continue-watching",
      heading: "Continue Watching",
      reason: { type: "continue_watching" },
      items: q.continueWatching.map((r) => ({
        ...toCard(r),
        progress: {
          positionSec: r.position_sec,
          durationSec: r.duration_sec,
          fraction: r.duration_sec > 0 ? Math.min(1, r.position_sec / r.duration_sec) : 0,
          episode: r.episode_id ? { id: r.episode_id, name: r.episode_name ?? "", seasonNumber: r.season_number ?? 0, number: r.episode_number ?? 0 } : null,
        },
      })),
    });
  }

  if (q.top10.length >= MIN_ROW) {
    rows.push({ id: "top-10", heading: `Top 10 in ${countryName(country)} today`, reason: { type: "top_10", country }, items: q.top10.map((r, i) => ({ ...toCard(r), rank: i + 1 })) });
  } else {
    degraded.push("top-10");
    rows.push({ id: "top-10", heading: "Top 10 on Marquee", reason: { type: "popular", instead: "top_10" }, items: q.popular.slice(0, 10).map((r, i) => ({ ...toCard(r), rank: i + 1 })) });
  }

  if (q.trending.length >= MIN_ROW) {
    rows.push({ id: "trending", heading: "Trending Now", reason: { type: "trending" }, items: q.trending.slice(0, ROW_LENGTH).map(toCard) });
  } else {
    degraded.push("trending");
    rows.push({ id: "trending", heading: "Popular on Marquee", reason: { type: "popular", instead: "trending" }, items: q.popular.slice(0, ROW_LENGTH).map(toCard) });
  }

  // Personal rows: what the profile finished, thumbed down or is watching is not offered again.
  const exclude = new Set([...q.excluded, ...inProgress]);
  const neighbours: Neighbour[] = q.neighbours.map((n) => ({ seedId: n.seed_id, id: n.id, count: n.count, seedViewers: n.seed_viewers, viewers: n.viewers }));
  let picks: Card[] = [];
  const because: HomeRow[] = [];
  try {
    for (const seed of q.seeds) {
      if (because.length >= BECAUSE_ROWS) break;
      const items = fromScored(recommender.becauseYouWatched(seed.id, neighbours, exclude, ROW_LENGTH));
      if (items.length >= MIN_ROW) {
        because.push({ id: `because-${seed.id}`, heading: `Because you watched ${seed.name}`, reason: { type: "because_you_watched", titleId: seed.id }, items });
      }
    }
    picks = fromScored(recommender.topPicks(q.seeds, neighbours, exclude, ROW_LENGTH));
  } catch {
    degraded.push("recommendations");
    because.length = 0;
    picks = [];
  }
  const name = q.profile?.name ?? "you";
  if (picks.length >= MIN_ROW) {
    rows.push({ id: "top-picks", heading: `Top picks for ${name}`, reason: { type: "top_picks" }, items: picks });
  } else {
    // A new profile (or one whose titles nobody else watched yet): popular, minus its own.
    if (q.seeds.length > 0) degraded.push("top-picks");
    rows.push({ id: "top-picks", heading: `Popular picks for ${name}`, reason: { type: "popular", instead: "top_picks" }, items: popularExcept(new Set([...exclude, ...q.seeds.map((s) => s.id)])) });
  }
  rows.push(...because);

  if (q.myList.length > 0) rows.push({ id: "my-list", heading: "My List", reason: { type: "my_list" }, items: q.myList.slice(0, ROW_LENGTH).map(toCard) });
  if (q.newReleases.length > 0) rows.push({ id: "new-releases", heading: "New Releases", reason: { type: "new_releases" }, items: q.newReleases.map(toCard) });
  for (const genre of q.genreRows) {
    const first = genre[0];
    if (!first || genre.length < MIN_ROW) continue;
    rows.push({ id: `genre-${first.genre_id}`, heading: first.genre_name, reason: { type: "genre", genreId: first.genre_id }, items: genre.map(toCard) });
  }
  return { rows: rows.filter((r) => r.items.length > 0), degraded };
}
