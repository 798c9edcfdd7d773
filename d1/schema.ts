// The D1 schema (drizzle). Migrations in d1/migrations are generated from this file with
// `npm run db:generate`; never edit a generated migration by hand.
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/**
 * A packaged video in R2 (`assets/{id}/…`). `pending` while its files upload; viewers see
 * it only once `published` (its index.json written after every file was verified).
 */
export const assets = sqliteTable("assets", {
  id: text("id").primaryKey(),
  status: text("status", { enum: ["pending", "published"] }).notNull(),
  durationSec: real("duration_sec").notNull(),
  /** Resolution class (short side) of the best rendition: what the best plan can get. */
  maxHeight: integer("max_height").notNull(),
  createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  publishedAt: integer("published_at", { mode: "timestamp_ms" }),
});

export const titles = sqliteTable(
  "titles",
  {
    id: text("id").primaryKey(),
    kind: text("kind", { enum: ["movie", "series"] }).notNull(),
    name: text("name").notNull(),
    synopsis: text("synopsis").notNull(),
    releaseYear: integer("release_year").notNull(),
    /** A rating board's label such as `PG-13` or `TV-MA`. */
    maturityRating: text("maturity_rating").notNull(),
    runtimeSec: integer("runtime_sec"),
    /** The movie's video; null for series (episodes carry their own) and unreleased titles. */
    assetId: text("asset_id").references(() => assets.id),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [index("titles_release_year").on(t.releaseYear)],
);

export const genres = sqliteTable("genres", {
  id: text("id").primaryKey(),
  name: text("name").notNull().unique(),
});

export const titleGenres = sqliteTable(
  "title_genres",
  {
    titleId: text("title_id")
      .notNull()
      .references(() => titles.id, { onDelete: "cascade" }),
    genreId: text("genre_id")
      .notNull()
      .references(() => genres.id, { onDelete: "cascade" }),
  },
  (t) => [primaryKey({ columns: [t.titleId, t.genreId] }), index("title_genres_genre").on(t.genreId)],
);

/** A season of a series. */
export const seasons = sqliteTable(
  "seasons",
  {
    id: text("id").primaryKey(),
    titleId: text("title_id")
      .notNull()
      .references(() => titles.id, { onDelete: "cascade" }),
    number: integer("number").notNull(),
    name: text("name").notNull(),
  },
  (t) => [uniqueIndex("seasons_title_number").on(t.titleId, t.number)],
);

/** An episode of a season, with its own video. */
export const episodes = sqliteTable(
  "episodes",
  {
    id: text("id").primaryKey(),
    seasonId: text("season_id")
      .notNull()
      .references(() => seasons.id, { onDelete: "cascade" }),
    number: integer("number").notNull(),
    name: text("name").notNull(),
    synopsis: text("synopsis").notNull(),
    runtimeSec: integer("runtime_sec"),
    assetId: text("asset_id").references(() => assets.id),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [uniqueIndex("episodes_season_number").on(t.seasonId, t.number)],
);
