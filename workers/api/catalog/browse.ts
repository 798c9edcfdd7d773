// Public catalog reads: lists (filtered, sorted, keyset-paginated so a page costs the same
// at title 100,000 as at title 10) and one title with its genres, credits, seasons and
// episodes. Only what the viewer may see: inside its availability window, at or below
// the viewer's maturity level.
import { and, asc, desc, eq, gt, inArray, isNull, lt, lte, or, type SQL } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { z } from "zod";
import { genres, titleGenres, titles } from "../../../d1/schema.ts";
import { base64UrlDecode, base64UrlEncode } from "../../../lib/base64url.ts";
import { titleCreditsQuery, titleEpisodesQuery, titleSeasonsQuery } from "./title-parts.ts";
import type { Viewer } from "./viewer.ts";

export const listQuerySchema = z.object({
  genre: z.string().min(1).max(40).optional(),
  type: z.enum(["movie", "series"]).optional(),
  sort: z.enum(["popularity", "newest"]).default("popularity"),
  cursor: z.string().max(400).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(24),
});

export type ListQuery = z.infer<typeof listQuerySchema>;

/** Where the previous page ended, in the sort's own terms. */
const cursorSchema = z.discriminatedUnion("s", [
  z.object({ s: z.literal("popularity"), p: z.number(), id: z.string() }),
  z.object({ s: z.literal("newest"), y: z.number(), c: z.number(), id: z.string() }),
]);
type Cursor = z.infer<typeof cursorSchema>;

export class BadCursor extends Error {}

function encodeCursor(cursor: Cursor): string {
  return base64UrlEncode(new TextEncoder().encode(JSON.stringify(cursor)));
}

function decodeCursor(text: string, sort: ListQuery["sort"]): Cursor {
  const bytes = base64UrlDecode(text);
  try {
    const cursor = cursorSchema.parse(JSON.parse(new TextDecoder().decode(bytes ?? new Uint8Array())));
    if (cursor.s !== sort) throw new BadCursor("the cursor belongs to another sort order");
    return cursor;
  } catch (err) {
    throw err instanceof BadCursor ? err : new BadCursor("the cursor is not one this API gave out");
  }
}

/** Inside the availability window, and at or below the viewer's level. */
export function visibleTo(viewer: Viewer, now: Date): SQL {
  return and(
    lte(titles.maturityLevel, viewer.maturityLevel),
    or(isNull(titles.availableFrom), lte(titles.availableFrom, now)),
    or(isNull(titles.availableUntil), gt(titles.availableUntil, now)),
  )!;
}

const card = {
  id: titles.id,
  kind: titles.kind,
  name: titles.name,
  synopsis: titles.synopsis,
  releaseYear: titles.releaseYear,
  maturityRating: titles.maturityRating,
  runtimeSec: titles.runtimeSec,
  posterPath: titles.posterPath,
  popularity: titles.popularity,
  createdAt: titles.createdAt,
};

type Db = D1Database | D1DatabaseSession;

export async function listTitles(db: Db, viewer: Viewer, query: ListQuery, now: Date) {
  const orm = drizzle(db as D1Database);
  const after = query.cursor ? decodeCursor(query.cursor, query.sort) : null;
  const conditions: (SQL | undefined)[] = [visibleTo(viewer, now)];
  if (query.type) conditions.push(eq(titles.kind, query.type));
  if (query.genre) {
    conditions.push(inArray(titles.id, orm.select({ id: titleGenres.titleId }).from(titleGenres).where(eq(titleGenres.genreId, query.genre))));
  }
  if (after?.s === "popularity") {
    conditions.push(or(lt(titles.popularity, after.p), and(eq(titles.popularity, after.p), gt(titles.id, after.id))));
  } else if (after?.s === "newest") {
    const c = new Date(after.c);
    conditions.push(
      or(
        lt(titles.releaseYear, after.y),
        and(eq(titles.releaseYear, after.y), lt(titles.createdAt, c)),
        and(eq(titles.releaseYear, after.y), eq(titles.createdAt, c), gt(titles.id, after.id)),
      ),
    );
  }
  const order =
    query.sort === "popularity"
      ? [desc(titles.popularity), asc(titles.id)]
      : [desc(titles.releaseYear), desc(titles.createdAt), asc(titles.id)];
  // One more than asked: whether there is a next page, without counting.
  const rows = await orm
    .select(card)
    .from(titles)
    .where(and(...conditions))
    .orderBy(...order)
    .limit(query.limit + 1);
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  const nextCursor =
    rows.length > query.limit && last
      ? encodeCursor(
          query.sort === "popularity"
            ? { s: "popularity", p: last.popularity, id: last.id }
            : { s: "newest", y: last.releaseYear, c: last.createdAt.getTime(), id: last.id },
        )
      : null;
  return { titles: page.map(({ createdAt: _, ...t }) => t), nextCursor };
}

/** One title as a viewer sees it, or null (also when it exists but is not for this viewer). */
export async function getTitle(db: Db, viewer: Viewer, id: string, now: Date) {
  const orm = drizzle(db as D1Database);
  // One round trip for everything the title page shows.
  const [found, genreRows, creditRows, seasonRows, episodeRows] = await orm.batch([
    orm.select(card).from(titles).where(and(eq(titles.id, id), visibleTo(viewer, now))),
    orm.select({ id: genres.id, name: genres.name }).from(titleGenres).innerJoin(genres, eq(genres.id, titleGenres.genreId)).where(eq(titleGenres.titleId, id)),
    titleCreditsQuery(orm, id),
    titleSeasonsQuery(orm, id),
    titleEpisodesQuery(orm, id),
  ]);
  const title = found[0];
  if (!title) return null;
  const { createdAt: _, ...rest } = title;
  return {
    ...rest,
    genres: genreRows,
    cast: creditRows.filter((c) => c.role === "cast").map((c) => ({ name: c.name, character: c.character })),
    crew: creditRows.filter((c) => c.role !== "cast").map((c) => ({ name: c.name, role: c.role })),
    seasons: seasonRows.map((s) => ({
      number: s.number,
      name: s.name,
      episodes: episodeRows
        .filter((e) => e.seasonId === s.id)
        .map(({ seasonId: __, assetId, ...e }) => ({ ...e, playable: assetId !== null })),
    })),
  };
}
