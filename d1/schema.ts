// The D1 schema (drizzle). Migrations in d1/migrations are generated from this file with
// `npm run db:generate`; never edit a generated migration by hand.
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import type { AssetExtras } from "../lib/media-index.ts";

/**
 * A packaged video in R2 (`assets/{id}/…`). `pending` while its files upload; viewers see
 * it only once `published` (its index.json written after every file was verified).
 */
export const assets = sqliteTable("assets", {
  id: text("id").primaryKey(),
  /** A live event's asset is `live` from its first complete segment until it ends (then `published`, its recording). */
  status: text("status", { enum: ["pending", "live", "published"] }).notNull(),
  durationSec: real("duration_sec").notNull(),
  /** Resolution class (short side) of the best rendition: what the best plan can get. */
  maxHeight: integer("max_height").notNull(),
  createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  publishedAt: integer("published_at", { mode: "timestamp_ms" }),
  /**
   * What a player needs besides the manifests — subtitle tracks, trick-play thumbnails,
   * poster — copied from the rendition index when it is written, so starting playback
   * reads D1 only, never R2 (lib/media-index.ts `assetExtras`).
   */
  extras: text("extras", { mode: "json" })
    .$type<AssetExtras>()
    .notNull()
    .default({ subtitles: [], thumbnailsVtt: null, poster: null }),
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
    /** From the rating (lib/maturity.ts), kept beside it so lists filter on an index. */
    maturityLevel: integer("maturity_level").notNull().default(3),
    /** Higher is more popular; lists sort by it (the watch-events issue feeds it). */
    popularity: real("popularity").notNull().default(0),
    /** Path of the title's poster under the site's origin, e.g. /artwork/{id}.svg. */
    posterPath: text("poster_path"),
    /** Invisible to viewers before `availableFrom` and from `availableUntil` on (null: open). */
    availableFrom: integer("available_from", { mode: "timestamp_ms" }),
    availableUntil: integer("available_until", { mode: "timestamp_ms" }),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [
    index("titles_release_year").on(t.releaseYear),
    index("titles_popularity").on(t.popularity, t.id),
    index("titles_newest").on(t.releaseYear, t.createdAt, t.id),
  ],
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

/**
 * An asset's intro, recap and credits (lib/skip-segments.ts): at most one of each kind,
 * found at ingest (`detected`, with a confidence) or set by an operator (`manual`). Kept
 * per asset, not per episode: the times belong to that video, and a new video of the
 * episode starts with none. Mirrored for the media Worker in R2 (`skip-segments.json`).
 */
export const skipSegments = sqliteTable(
  "skip_segments",
  {
    assetId: text("asset_id")
      .notNull()
      .references(() => assets.id, { onDelete: "cascade" }),
    kind: text("kind", { enum: ["recap", "intro", "credits"] }).notNull(),
    startMs: integer("start_ms").notNull(),
    endMs: integer("end_ms").notNull(),
    source: text("source", { enum: ["detected", "manual"] }).notNull(),
    confidence: real("confidence").notNull(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.assetId, t.kind] })],
);

/**
 * How far each replica has got with each published asset (workers/api/ingest/replicate.ts):
 * the publish step copies the index's files in order, `files_done` at a time, and sets
 * `completed_at` once the replica has all of them and its index. The media Worker learns
 * the same from `assets/{id}/replicas.json` in the buckets (it never reads D1).
 */
export const assetReplicas = sqliteTable(
  "asset_replicas",
  {
    assetId: text("asset_id")
      .notNull()
      .references(() => assets.id, { onDelete: "cascade" }),
    /** The replica's pathway id (lib/media-origins/pathways.ts): p2 … p9. */
    pathway: text("pathway").notNull(),
    filesDone: integer("files_done").notNull(),
    filesTotal: integer("files_total").notNull(),
    bytesDone: integer("bytes_done").notNull(),
    completedAt: integer("completed_at", { mode: "timestamp_ms" }),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.assetId, t.pathway] })],
);

/** A member: one email, one password, one subscription, up to five profiles. */
export const accounts = sqliteTable("accounts", {
  id: text("id").primaryKey(),
  /** Lowercased and trimmed; unique. */
  email: text("email").notNull().unique(),
  /** A versioned hash string (lib/passwords.ts), never the password. */
  passwordHash: text("password_hash").notNull(),
  createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
});

/**
 * Signed-in devices. The token itself is never stored: `id` is its SHA-256. Sessions end
 * when idle too long, at their absolute expiry, or when deleted (sign out).
 */
export const sessions = sqliteTable(
  "sessions",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    kind: text("kind", { enum: ["web", "device"] }).notNull(),
    deviceName: text("device_name").notNull(),
    /** The profile entered on this device (after its PIN, if it has one). */
    profileId: text("profile_id"),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    lastSeenAt: integer("last_seen_at", { mode: "timestamp_ms" }).notNull(),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [index("sessions_account").on(t.accountId)],
);

export const profiles = sqliteTable(
  "profiles",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    avatar: text("avatar").notNull(),
    language: text("language").notNull(),
    isKids: integer("is_kids", { mode: "boolean" }).notNull(),
    /** 0 little kids, 1 older kids, 2 teens, 3 adults (lib/maturity.ts). */
    maturityLevel: integer("maturity_level").notNull(),
    /** Hash of the optional 4-digit PIN (lib/passwords.ts); null when the profile has none. */
    pinHash: text("pin_hash"),
    /** "Skip intros automatically": the player skips intros and recaps without a press (never credits). */
    autoSkipIntros: integer("auto_skip_intros", { mode: "boolean" }).notNull().default(false),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [index("profiles_account").on(t.accountId)],
);

/** One per account once it has chosen a plan. */
export const subscriptions = sqliteTable("subscriptions", {
  accountId: text("account_id")
    .primaryKey()
    .references(() => accounts.id, { onDelete: "cascade" }),
  planId: text("plan_id", { enum: ["basic", "standard", "premium"] }).notNull(),
  status: text("status", { enum: ["trialing", "active", "past_due", "canceled"] }).notNull(),
  provider: text("provider", { enum: ["dev", "stripe"] }).notNull(),
  providerCustomerId: text("provider_customer_id"),
  providerSubscriptionId: text("provider_subscription_id").unique(),
  currentPeriodEnd: integer("current_period_end", { mode: "timestamp_ms" }),
  /** Time of the newest provider event applied: older events, delivered late, are ignored. */
  lastEventAt: integer("last_event_at", { mode: "timestamp_ms" }),
  updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
});

/** none (no row), trialing, active, past_due, canceled: billing/subscriptions.ts moves them. */
export type SubscriptionStatus = (typeof subscriptions.$inferSelect)["status"];

/** Billing provider events already processed, by their id: a redelivery changes nothing. */
export const billingEvents = sqliteTable("billing_events", {
  id: text("id").primaryKey(),
  type: text("type").notNull(),
  receivedAt: integer("received_at", { mode: "timestamp_ms" }).notNull(),
});

/** People in cast and crew. */
export const people = sqliteTable("people", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
});

/** Who is in or made a title, in billing order. */
export const credits = sqliteTable(
  "credits",
  {
    titleId: text("title_id")
      .notNull()
      .references(() => titles.id, { onDelete: "cascade" }),
    personId: text("person_id")
      .notNull()
      .references(() => people.id, { onDelete: "cascade" }),
    role: text("role", { enum: ["cast", "director", "writer", "creator"] }).notNull(),
    character: text("character"),
    position: integer("position").notNull(),
  },
  (t) => [primaryKey({ columns: [t.titleId, t.personId, t.role] }), index("credits_person").on(t.personId)],
);

/**
 * One row per named counter. `catalog` is bumped by every catalog write: public catalog
 * responses are cached under keys containing it, so an edit shows on the next request.
 */
export const versions = sqliteTable("versions", {
  name: text("name").primaryKey(),
  version: integer("version").notNull(),
});

// ── Before the watch shards ───────────────────────────────────────────────────────────────
// watch_progress, watch_events, watch_history, counted_plays and profile_recent_titles
// live in the watch shards now (d1/watch-schema.ts). Their tables here are no longer
// written or read; they stay so an upgrade deletes nobody's history, and `npm run
// watch:copy` copies them into the shards (docs/scaling.md, "Upgrading a deployment to
// watch shards"); they go in a later release.

/**
 * Where each profile is in each title: the resume point of a movie, or of the episode of a
 * series it watched last. Filled from watch events (the queue consumer); read when a
 * stream starts. `eventAt` is the client time of the event that set it: a late event
 * never moves a resume point back.
 */
export const watchProgress = sqliteTable(
  "watch_progress",
  {
    profileId: text("profile_id")
      .notNull()
      .references(() => profiles.id, { onDelete: "cascade" }),
    titleId: text("title_id")
      .notNull()
      .references(() => titles.id, { onDelete: "cascade" }),
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
 * Every watch event the consumer has taken in, by its client-made id (per profile): the
 * record that makes at-least-once delivery count once, and the rows the consumer's
 * set-based statements read (`batchTag` is the consuming batch). Kept for a few days
 * (cron housekeeping), longer than any redelivery or client retry.
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
    profileId: text("profile_id")
      .notNull()
      .references(() => profiles.id, { onDelete: "cascade" }),
    titleId: text("title_id")
      .notNull()
      .references(() => titles.id, { onDelete: "cascade" }),
    episodeKey: text("episode_key").notNull(),
    episodeId: text("episode_id"),
    finishedAt: integer("finished_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.profileId, t.titleId, t.episodeKey] }), index("watch_history_recent").on(t.profileId, t.finishedAt)],
);

/** Plays (start events) per UTC day, title and country; country "*" is every country together. */
export const titlePlaysDaily = sqliteTable(
  "title_plays_daily",
  {
    day: text("day").notNull(),
    country: text("country").notNull(),
    titleId: text("title_id").notNull(),
    plays: integer("plays").notNull(),
  },
  (t) => [primaryKey({ columns: [t.day, t.country, t.titleId] }), index("title_plays_daily_rank").on(t.day, t.country, t.plays)],
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

/** Item-to-item co-watch counts: profiles that started `titleId` and `otherTitleId` close together (both directions stored). */
export const coWatch = sqliteTable(
  "co_watch",
  {
    titleId: text("title_id").notNull(),
    otherTitleId: text("other_title_id").notNull(),
    count: integer("count").notNull(),
  },
  (t) => [primaryKey({ columns: [t.titleId, t.otherTitleId] }), index("co_watch_top").on(t.titleId, t.count)],
);

/** Messages the watch-events consumer could not use (or the Queue gave up on), kept for inspection and replay. */
export const deadLetters = sqliteTable("dead_letters", {
  id: text("id").primaryKey(),
  body: text("body").notNull(),
  reason: text("reason").notNull(),
  attempts: integer("attempts").notNull(),
  receivedAt: integer("received_at", { mode: "timestamp_ms" }).notNull(),
});

/**
 * How many profiles started each title lately (a start not among the profile's recent
 * titles): the popularity co-watch counts are normalised against (cosine similarity).
 */
export const titleStats = sqliteTable("title_stats", {
  titleId: text("title_id").primaryKey(),
  viewers: integer("viewers").notNull(),
});

/**
 * Which shard batches' counter deltas (a watch shard's `counter_outbox`) have been folded
 * into the counters above: the fold inserts its (shard, batch) rows first and adds only
 * the deltas of the rows it inserted itself (`attempt`), so a fold retried after a lost
 * answer adds nothing twice. Kept two days (cron housekeeping).
 */
export const counterFolds = sqliteTable(
  "counter_folds",
  {
    shard: integer("shard").notNull(),
    batchTag: text("batch_tag").notNull(),
    attempt: text("attempt").notNull(),
    foldedAt: integer("folded_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.shard, t.batchTag] }), index("counter_folds_at").on(t.foldedAt)],
);

/** My List: what a profile saved to watch later. */
export const profileList = sqliteTable(
  "profile_list",
  {
    profileId: text("profile_id")
      .notNull()
      .references(() => profiles.id, { onDelete: "cascade" }),
    titleId: text("title_id")
      .notNull()
      .references(() => titles.id, { onDelete: "cascade" }),
    addedAt: integer("added_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.profileId, t.titleId] }), index("profile_list_recent").on(t.profileId, t.addedAt)],
);

/** Thumbs up (1) or down (-1) per profile and title. */
export const profileRatings = sqliteTable(
  "profile_ratings",
  {
    profileId: text("profile_id")
      .notNull()
      .references(() => profiles.id, { onDelete: "cascade" }),
    titleId: text("title_id")
      .notNull()
      .references(() => titles.id, { onDelete: "cascade" }),
    rating: integer("rating").notNull(),
    ratedAt: integer("rated_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.profileId, t.titleId] }), index("profile_ratings_recent").on(t.profileId, t.rating, t.ratedAt)],
);

// ── Quality of experience (docs/qoe.md) ─────────────────────────────────────────────────

/**
 * Players' QoE reports as the `qoe` consumer took them in: the id dedupes at-least-once
 * delivery and client resends (kept 3 days, like watch events); `batch_tag` marks the rows
 * one consumed batch inserted, which are the only ones folded into `qoe_minutes`. The
 * report itself stays as JSON: nothing reads it but the fold, by json_extract.
 */
export const qoeReports = sqliteTable(
  "qoe_reports",
  {
    id: text("id").primaryKey(),
    batchTag: text("batch_tag").notNull(),
    receivedAt: integer("received_at").notNull(),
    minute: integer("minute").notNull(),
    titleId: text("title_id").notNull(),
    country: text("country").notNull(),
    device: text("device").notNull(),
    planHeight: integer("plan_height").notNull(),
    body: text("body").notNull(),
  },
  (t) => [index("qoe_reports_batch").on(t.batchTag), index("qoe_reports_received").on(t.receivedAt)],
);

/** The play-delay histogram's columns d0 … d11 (lib/qoe.ts PLAY_DELAY_BUCKETS_MS). */
const delayBuckets = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`d${i}`, integer(`d${i}`).notNull().default(0)])) as Record<
  `d${0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10 | 11}`,
  ReturnType<typeof integer>
>;

/**
 * Per-minute QoE rollups: sums and histogram counts per (minute, title, country, device
 * class, plan height), so any range and grouping reads back p50/p95 and ratios without a
 * raw row. `minute` is Unix minutes of when the api received the report.
 */
export const qoeMinutes = sqliteTable(
  "qoe_minutes",
  {
    minute: integer("minute").notNull(),
    titleId: text("title_id").notNull(),
    country: text("country").notNull(),
    device: text("device").notNull(),
    planHeight: integer("plan_height").notNull(),
    reports: integer("reports").notNull().default(0),
    starts: integer("starts").notNull().default(0),
    startFailures: integer("start_failures").notNull().default(0),
    exitsBeforeVideo: integer("exits_before_video").notNull().default(0),
    playDelayMsSum: integer("play_delay_ms_sum").notNull().default(0),
    ...delayBuckets,
    pageDelayMsSum: integer("page_delay_ms_sum").notNull().default(0),
    pageDelays: integer("page_delays").notNull().default(0),
    playingMs: integer("playing_ms").notNull().default(0),
    stalls: integer("stalls").notNull().default(0),
    stallMs: integer("stall_ms").notNull().default(0),
    switches: integer("switches").notNull().default(0),
    kbpsMs: integer("kbps_ms").notNull().default(0),
    /** Playing time per resolution class (lib/qoe.ts HEIGHT_CLASSES): ≤360, ≤576, ≤720, ≤1080, above. */
    msH0: integer("ms_h0").notNull().default(0),
    msH1: integer("ms_h1").notNull().default(0),
    msH2: integer("ms_h2").notNull().default(0),
    msH3: integer("ms_h3").notNull().default(0),
    msH4: integer("ms_h4").notNull().default(0),
    droppedFrames: integer("dropped_frames").notNull().default(0),
    fatalErrors: integer("fatal_errors").notNull().default(0),
    recoveredErrors: integer("recovered_errors").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.minute, t.titleId, t.country, t.device, t.planHeight] })],
);

/**
 * CMCD of segment and manifest requests, per player session (`sid`) and per stream (the
 * playback token's session, which the client cannot choose): the timeline an operator
 * reads for one viewer's session. Kept 2 days; `CMCD_TIMELINE_SAMPLE` in the media Worker
 * keeps whole sessions for a share of them when every request would be too many rows.
 */
export const cmcdRequests = sqliteTable(
  "cmcd_requests",
  {
    id: text("id").primaryKey(),
    sid: text("sid"),
    streamId: text("stream_id").notNull(),
    assetId: text("asset_id").notNull(),
    at: integer("at").notNull(),
    object: text("object").notNull(),
    ot: text("ot"),
    br: integer("br"),
    bl: integer("bl"),
    mtp: integer("mtp"),
    d: integer("d"),
    su: integer("su"),
    bs: integer("bs"),
  },
  (t) => [index("cmcd_requests_sid").on(t.sid, t.at), index("cmcd_requests_stream").on(t.streamId, t.at), index("cmcd_requests_at").on(t.at)],
);

/**
 * A live event (workers/api/live/): its title and asset, and the state viewers' reads need
 * ("Live now"). The event's timeline, ingest token and errors live in its Durable Object
 * (durable-objects/live-event.ts), which moves `state` on: waiting → live → ended.
 */
export const liveEvents = sqliteTable(
  "live_events",
  {
    id: text("id").primaryKey(),
    titleId: text("title_id")
      .notNull()
      .references(() => titles.id, { onDelete: "cascade" }),
    assetId: text("asset_id")
      .notNull()
      .references(() => assets.id),
    name: text("name").notNull(),
    state: text("state", { enum: ["waiting", "live", "ended"] }).notNull(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    startedAt: integer("started_at", { mode: "timestamp_ms" }),
    endedAt: integer("ended_at", { mode: "timestamp_ms" }),
  },
  (t) => [index("live_events_state").on(t.state, t.startedAt)],
);
