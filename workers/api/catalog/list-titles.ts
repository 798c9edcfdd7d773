// Reads the catalog for the first page: every title the viewer may see, with its genres,
// newest first (the web-app issue replaces this page with rows).
import { asc, desc, eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { genres, titleGenres, titles } from "../../../d1/schema.ts";
import { visibleTo } from "./browse.ts";
import type { Viewer } from "./viewer.ts";

export type TitleCard = {
  id: string;
  kind: "movie" | "series";
  name: string;
  synopsis: string;
  releaseYear: number;
  maturityRating: string;
  runtimeSec: number | null;
  genres: string[];
};

export async function listTitles(db: D1Database, viewer: Viewer = { maturityLevel: 3 }, now = new Date()): Promise<TitleCard[]> {
  const orm = drizzle(db);
  // Two queries in one round trip: the titles, and every (title, genre) pair.
  const [rows, pairs] = await orm.batch([
    orm.select().from(titles).where(visibleTo(viewer, now)).orderBy(desc(titles.releaseYear), asc(titles.name)),
    orm
      .select({ titleId: titleGenres.titleId, name: genres.name })
      .from(titleGenres)
      .innerJoin(genres, eq(genres.id, titleGenres.genreId))
      .orderBy(asc(genres.name)),
  ]);
  const genresByTitle = new Map<string, string[]>();
  for (const pair of pairs) {
    const list = genresByTitle.get(pair.titleId) ?? [];
    list.push(pair.name);
    genresByTitle.set(pair.titleId, list);
  }
  return rows.map((t) => ({
    id: t.id,
    kind: t.kind,
    name: t.name,
    synopsis: t.synopsis,
    releaseYear: t.releaseYear,
    maturityRating: t.maturityRating,
    runtimeSec: t.runtimeSec,
    genres: genresByTitle.get(t.id) ?? [],
  }));
}
