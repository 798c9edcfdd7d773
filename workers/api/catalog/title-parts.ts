// The queries for what hangs off one title — its credits, seasons and episodes — shared by
// the public title page and the admin's full read, so both see the same rows in one batch.
import { asc, eq } from "drizzle-orm";
import type { DrizzleD1Database } from "drizzle-orm/d1";
import { credits, episodes, people, seasons } from "../../../d1/schema.ts";

export function titleCreditsQuery(orm: DrizzleD1Database, titleId: string) {
  return orm
    .select({ name: people.name, role: credits.role, character: credits.character })
    .from(credits)
    .innerJoin(people, eq(people.id, credits.personId))
    .where(eq(credits.titleId, titleId))
    .orderBy(asc(credits.position));
}

export function titleSeasonsQuery(orm: DrizzleD1Database, titleId: string) {
  return orm.select().from(seasons).where(eq(seasons.titleId, titleId)).orderBy(asc(seasons.number));
}

export function titleEpisodesQuery(orm: DrizzleD1Database, titleId: string) {
  return orm
    .select({
      id: episodes.id,
      seasonId: episodes.seasonId,
      number: episodes.number,
      name: episodes.name,
      synopsis: episodes.synopsis,
      runtimeSec: episodes.runtimeSec,
      assetId: episodes.assetId,
    })
    .from(episodes)
    .innerJoin(seasons, eq(seasons.id, episodes.seasonId))
    .where(eq(seasons.titleId, titleId))
    .orderBy(asc(seasons.number), asc(episodes.number));
}
