// The schema of every watch shard (drizzle): the D1 databases `WATCH_0` … `WATCH_{N-1}`,
// one per `EVENT_SHARDS`, each holding the watch data of the profiles that hash to it
// (workers/api/watch-shards/shards.ts). Nothing here joins the accounts and catalog
// database (`DB`): a shard knows profiles and titles by id only. Migrations in
// d1/watch-migrations are generated from this file with `npm run db:generate` and
// applied to every shard; never edit a generated migration by hand.
import { index, integer, primaryKey, real, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * Where each profile is in each title: the resume point of a movie, or of the episode of a
 * series it watched last. Written by the shard's queue consumer (starts, pauses, seeks,
 * stops, completions) and by the account's Durable Object (positions from heartbeats, at
 * most once a minute a stream). `eventAt` is the client time of what set it: a late write
 * never moves a resume point back.
 */
export const watchProgress = sqliteTable(
  "watch_progress",
  {
    profileId: text("profile_id").notNull(),
    titleId: text("title_id").notNull(),
    /** The episode the position is in; null for a movie. */
    episodeId: text("episode_id"),
    positionSec: real("position_sec").notNull(),
    durationSec: real("duration_sec").notNull(),
    /** Finished (past 95 % or the credits): out of Continue Watching, in the history. */
    completed: integer("completed", { mode: "boolean" }).notNull().default(false),
    eventAt: integer("event_at", { mode: "timestamp_ms" }).notNull(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.profileId, t.titleId] }), index("watch_progress_recent").on(t.profileId, t.eventAt)],
);

/**
 * Every watch event the shard's consumer has taken in, by its client-made id (per
 * profile): the record that makes at-least-once delivery count once, and the rows the
 * consumer's set-based statements read (`batchTag` is the consuming batch). Kept for a few
 * days (cron housekeeping), longer than any redelivery or client retry.
 */
export const watchEvents = sqliteTable(
  "watch_events",
  {
    profileId: text("profile_id").notNull(),
    eventId: text("event_id").notNull(),
    batchTag: text("batch_tag").notNull(),
    accountId: text("account_id").notNull(),
    type: text("type").notNull(),
    playbackSessionId: text("playback_session_id").notNull(),
    titleId: text("title_id").notNull(),
    episodeId: text("episode_id"),
    positionSec: real("position_sec").notNull(),
    durationSec: real("duration_sec").notNull(),
    clientAt: integer("client_at").notNull(),
    receivedAt: integer("received_at").notNull(),
    /** UTC day the event was received, YYYY-MM-DD: what daily counts are keyed by. */
    day: text("day").notNull(),
    country: text("country").notNull(),
    rendition: text("rendition"),
    rebufferMs: integer("rebuffer_ms"),
    /** The intro, recap or credits a `segment_skipped` / `segment_watched` event is about. */
    segment: text("segment"),
  },
  (t) => [
    primaryKey({ columns: [t.profileId, t.eventId] }),
    index("watch_events_batch").on(t.batchTag, t.profileId, t.titleId),
    index("watch_events_received").on(t.receivedAt),
  ],
);

/** What each profile finished, newest first; `episodeKey` is the episode id, or "" for a movie. */
export const watchHistory = sqliteTable(
  "watch_history",
  {
    profileId: text("profile_id").notNull(),
    titleId: text("title_id").notNull(),
    episodeKey: text("episode_key").notNull(),
    episodeId: text("episode_id"),
    finishedAt: integer("finished_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.profileId, t.titleId, t.episodeKey] }), index("watch_history_recent").on(t.profileId, t.finishedAt)],
);

/**
 * Which profile has been counted for which title on which day (UTC, by the time the api
 * received the event): a profile adds at most one play a day to a title's Top 10,
 * Trending, co-watch and viewer counts, however many events or streams it sends. The
 * consumer counts only the rows its own batch inserted (`batch_tag`). Kept two days.
 */
export const countedPlays = sqliteTable(
  "counted_plays",
  {
    day: text("day").notNull(),
    profileId: text("profile_id").notNull(),
    titleId: text("title_id").notNull(),
    country: text("country").notNull(),
    batchTag: text("batch_tag").notNull(),
  },
  (t) => [primaryKey({ columns: [t.day, t.profileId, t.titleId] }), index("counted_plays_batch").on(t.batchTag)],
);

/** Each profile's few most recently started titles: what a new title is co-watched with. */
export const profileRecentTitles = sqliteTable(
  "profile_recent_titles",
  {
    profileId: text("profile_id").notNull(),
    titleId: text("title_id").notNull(),
    lastAt: integer("last_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.profileId, t.titleId] }), index("profile_recent_titles_last").on(t.profileId, t.lastAt)],
);

/**
 * What this shard's batches added to the shared counters (daily plays, co-watch, title
 * viewers in `DB`), written in the same transaction as the events that caused it and
 * deleted once folded into `DB` (whose `counter_folds` makes a fold count once). A fold
 * that fails leaves its rows here for the next batch, or the cron, to fold.
 * `kind` plays: (a, b, c) = (day, country, title); co_watch: (title, other title, "");
 * viewers: (title, "", "").
 */
export const counterOutbox = sqliteTable(
  "counter_outbox",
  {
    batchTag: text("batch_tag").notNull(),
    kind: text("kind", { enum: ["plays", "co_watch", "viewers"] }).notNull(),
    a: text("a").notNull(),
    b: text("b").notNull(),
    c: text("c").notNull(),
    delta: integer("delta").notNull(),
  },
  (t) => [primaryKey({ columns: [t.batchTag, t.kind, t.a, t.b, t.c] })],
);
