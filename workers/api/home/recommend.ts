// Item-to-item recommendations from co-watch counts, as plain functions of the rows the
// home query read: similarity normalised against popularity (cosine over co-occurrence),
// "Because you watched X", and Top picks aggregated over the profile's seeds by recency.

/** One co-watch neighbour of a seed title, with both titles' viewer counts. */
export type Neighbour = { seedId: string; id: string; count: number; seedViewers: number; viewers: number };

/** A title the profile watched lately or gave a thumbs up, newest first. */
export type Seed = { id: string; name: string; at: number; kind: "recent" | "up" };

/**
 * Cosine similarity of two titles' viewer sets, from the co-watch count and each one's
 * viewers: raw counts would rank whatever is popular first for every seed; dividing by
 * sqrt(n(x) n(y)) asks how much more often y goes with x than popularity alone explains.
 * The shrinkage term keeps a single co-occurrence between two rare titles from scoring 1.
 */
export function similarity(n: Neighbour, shrink = 2): number {
  if (n.count <= 0 || n.seedViewers <= 0 || n.viewers <= 0) return 0;
  return n.count / (Math.sqrt(n.seedViewers * n.viewers) + shrink);
}

/** A seed's weight: the newest counts most; a thumbs up counts more than a start. */
export function seedWeight(rank: number, kind: Seed["kind"]): number {
  return 0.8 ** rank * (kind === "up" ? 1.5 : 1);
}

export type Scored = { id: string; score: number };

/** Neighbours of one seed, most similar first, without the excluded titles. */
export function becauseYouWatched(seedId: string, neighbours: Neighbour[], exclude: Set<string>, limit: number): Scored[] {
  return neighbours
    .filter((n) => n.seedId === seedId && n.id !== seedId && !exclude.has(n.id))
    .map((n) => ({ id: n.id, score: similarity(n) }))
    .filter((s) => s.score > 0)
    .sort((a, b) => b.score - a.score || a.id.localeCompare(b.id))
    .slice(0, limit);
}

/**
 * Top picks: every seed's neighbours, each similarity weighted by its seed's recency (and
 * thumbs up), summed per title; the seeds themselves and the excluded titles (finished,
 * thumbs down, in Continue Watching) left out. Bounded by seeds x neighbours per seed.
 */
export function topPicks(seeds: Seed[], neighbours: Neighbour[], exclude: Set<string>, limit: number): Scored[] {
  const weightOf = new Map(seeds.map((s, rank) => [s.id, seedWeight(rank, s.kind)]));
  const seedIds = new Set(seeds.map((s) => s.id));
  const scores = new Map<string, number>();
  for (const n of neighbours) {
    const w = weightOf.get(n.seedId);
    if (w === undefined || seedIds.has(n.id) || exclude.has(n.id)) continue;
    const s = similarity(n);
    if (s > 0) scores.set(n.id, (scores.get(n.id) ?? 0) + w * s);
  }
  return [...scores]
    .map(([id, score]) => ({ id, score }))
    .sort((a, b) => b.score - a.score || a.id.localeCompare(b.id))
    .slice(0, limit);
}
