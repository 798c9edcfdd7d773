// May this profile play this title now, and what exactly: one D1 batch reads the profile,
// the subscription, the title with its asset, its episodes and the resume point; plain
// functions then decide, refusing with a reason a client can act on.
import { and, asc, eq, inArray, or, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { assets, episodes, profiles, seasons, skipSegments, subscriptions, titles } from "../../../d1/schema.ts";
import { watchProgress } from "../../../d1/watch-schema.ts";
import { ApiError } from "../../../lib/errors.ts";
import { drizzleOf, type D1Queryable } from "../d1-sessions/queryable.ts";
import type { AssetExtras } from "../../../lib/media-index.ts";
import { planById, type Plan } from "../../../lib/plans.ts";
import type { Auth } from "../auth/auth-context.ts";
import { visibleSegments, type VisibleSkipSegment } from "../../../lib/skip-segments.ts";

/** Subscriptions that may stream: past_due keeps watching while the provider retries the payment. */
export const PLAYING_STATUSES: ReadonlySet<string> = new Set(["active", "trialing", "past_due"]);

/** Past this share of its length a title (or episode) counts as watched: Play goes on to the next one. */
export const FINISHED_SHARE = 0.95;

export type PlayRequest = { titleId: string; episodeId?: string | undefined; profileId?: string | undefined };

type AssetInfo = { id: string; status: "pending" | "live" | "published"; durationSec: number; extras: AssetExtras } | null;

export type EpisodeChoice = { id: string; seasonNumber: number; number: number; name: string; asset: AssetInfo };

export type PlayPlan = {
  profile: { id: string; name: string };
  plan: Plan;
  title: { id: string; kind: "movie" | "series"; name: string };
  episode: EpisodeChoice | null;
  /** `live`: a live event on now (no length yet, played from its live edge). */
  asset: { id: string; durationSec: number; extras: AssetExtras; live: boolean };
  resumeSec: number;
  nextEpisode: EpisodeChoice | null;
  /** The asset's intro, recap and credits a viewer is shown, in time order. */
  skipSegments: VisibleSkipSegment[];
  /** The profile skips intros and recaps without a press. */
  autoSkip: boolean;
  /** The name other devices of the account see: "First Light", "Second Wind: S1 E2 Relapse". */
  displayName: string;
};

const refuse = (code: "FORBIDDEN" | "NOT_FOUND", message: string, reason: string, extra: Record<string, unknown> = {}) =>
  new ApiError(code, message, { details: { reason, ...extra } });

/** The one round trip: everything the decision needs, whatever the title turns out to be. */
/**
 * Everything Play decides from, read at once: one DB batch, and the resume point from the
 * profile's watch shard (`shardDb`). A position the account's Durable Object holds and
 * has not written yet (at most POSITION_FLUSH_MS old; a pause or stop is written at once)
 * is not read here: Play stays one round trip.
 */
export async function loadPlayContext(db: D1Queryable, shardDb: D1Database, accountId: string, profileId: string, titleId: string) {
  const orm = drizzleOf(db);
  // Joined tables share column names (id, number), which D1's batch results cannot tell
  // apart: the assets come in a query of their own, the season number under an alias.
  const episodesOfTitle = orm
    .select({ assetId: episodes.assetId })
    .from(episodes)
    .innerJoin(seasons, eq(seasons.id, episodes.seasonId))
    .where(eq(seasons.titleId, titleId));
  const progress = drizzle(shardDb)
    .select({ episodeId: watchProgress.episodeId, positionSec: watchProgress.positionSec, durationSec: watchProgress.durationSec })
    .from(watchProgress)
    .where(and(eq(watchProgress.profileId, profileId), eq(watchProgress.titleId, titleId)));
  const assetsOfTitle = or(inArray(assets.id, orm.select({ assetId: titles.assetId }).from(titles).where(eq(titles.id, titleId))), inArray(assets.id, episodesOfTitle));
  const [[profileRows, subscriptionRows, titleRows, episodeRows, assetRows, segmentRows], progressRows] = await Promise.all([orm.batch([
    orm
      .select({ id: profiles.id, name: profiles.name, maturityLevel: profiles.maturityLevel, pinHash: profiles.pinHash, autoSkipIntros: profiles.autoSkipIntros })
      .from(profiles)
      .where(and(eq(profiles.id, profileId), eq(profiles.accountId, accountId))),
    orm.select({ planId: subscriptions.planId, status: subscriptions.status, updatedAt: subscriptions.updatedAt }).from(subscriptions).where(eq(subscriptions.accountId, accountId)),
    orm
      .select({
        id: titles.id,
        kind: titles.kind,
        name: titles.name,
        maturityLevel: titles.maturityLevel,
        availableFrom: titles.availableFrom,
        availableUntil: titles.availableUntil,
        assetId: titles.assetId,
      })
      .from(titles)
      .where(eq(titles.id, titleId)),
    orm
      .select({ id: episodes.id, seasonNumber: sql<number>`${seasons.number}`.as("season_number"), number: episodes.number, name: episodes.name, assetId: episodes.assetId })
      .from(episodes)
      .innerJoin(seasons, eq(seasons.id, episodes.seasonId))
      .where(eq(seasons.titleId, titleId))
      .orderBy(asc(seasons.number), asc(episodes.number)),
    orm
      .select({ id: assets.id, status: assets.status, durationSec: assets.durationSec, extras: assets.extras })
      .from(assets)
      .where(assetsOfTitle),
    // Every asset's segments: which episode plays is decided after this read.
    orm
      .select({ assetId: skipSegments.assetId, kind: skipSegments.kind, startMs: skipSegments.startMs, endMs: skipSegments.endMs, source: skipSegments.source, confidence: skipSegments.confidence })
      .from(skipSegments)
      .where(or(inArray(skipSegments.assetId, orm.select({ assetId: titles.assetId }).from(titles).where(eq(titles.id, titleId))), inArray(skipSegments.assetId, episodesOfTitle))),
  ]), progress]);
  const storedByAsset = Map.groupBy(segmentRows, (r) => r.assetId);
  const segmentsByAsset = new Map<string, VisibleSkipSegment[]>(
    [...storedByAsset].map(([assetId, rows]) => [assetId, visibleSegments(rows.map((r) => ({ kind: r.kind, startSec: r.startMs / 1000, endSec: r.endMs / 1000, source: r.source, confidence: r.confidence })))]),
  );
  const assetById = new Map<string, NonNullable<AssetInfo>>(assetRows.map((a) => [a.id, a]));
  const assetOf = (id: string | null): AssetInfo => (id === null ? null : (assetById.get(id) ?? null));
  const profile = profileRows[0];
  const title = titleRows[0];
  return {
    profile: profile ? { id: profile.id, name: profile.name, maturityLevel: profile.maturityLevel, hasPin: profile.pinHash !== null, autoSkipIntros: profile.autoSkipIntros } : null,
    subscription: subscriptionRows[0] ?? null,
    title: title ? { ...title, asset: assetOf(title.assetId) } : null,
    episodes: episodeRows.map((e): EpisodeChoice => ({ id: e.id, seasonNumber: e.seasonNumber, number: e.number, name: e.name, asset: assetOf(e.assetId) })),
    progress: progressRows[0] ?? null,
    segmentsByAsset,
  };
}

export type PlayContext = Awaited<ReturnType<typeof loadPlayContext>>;

/**
 * Which profile a stream is for: the one named, else the one entered on this device. A
 * profile with a PIN plays only where it was entered (with the PIN), and a device in a
 * kids profile cannot play as anyone else.
 */
export function chooseProfileId(auth: Auth, requested: string | undefined): string {
  const profileId = requested ?? auth.profileId;
  if (profileId === null) throw refuse("FORBIDDEN", "Choose who is watching first.", "profile_required");
  if (auth.isKidsProfile && profileId !== auth.profileId) {
    throw refuse("FORBIDDEN", "A kids profile cannot start playback for another profile.", "kids_profile");
  }
  return profileId;
}

const playable = (e: EpisodeChoice) => e.asset?.status === "published" || e.asset?.status === "live";

/** Watched: past FINISHED_SHARE of its length, or into its credits when it has them. */
const finishedIn = (segments: readonly VisibleSkipSegment[] | undefined, positionSec: number, durationSec: number) => {
  const credits = segments?.find((s) => s.kind === "credits");
  return (durationSec > 0 && positionSec >= durationSec * FINISHED_SHARE) || (credits !== undefined && positionSec >= credits.startSec);
};

/** Decides from what `loadPlayContext` read; throws the refusal, or answers what to play from where. */
export function decidePlay(auth: Auth, request: PlayRequest, ctx: PlayContext, now: Date): PlayPlan {
  const { profile, subscription, title, progress } = ctx;
  const segmentsOf = (asset: AssetInfo) => (asset ? ctx.segmentsByAsset.get(asset.id) : undefined);
  const finished = (asset: AssetInfo, positionSec: number, durationSec: number) => finishedIn(segmentsOf(asset), positionSec, durationSec);
  if (!profile) throw refuse("NOT_FOUND", "No such profile on this account.", "wrong_profile");
  if (profile.hasPin && auth.profileId !== profile.id) {
    throw refuse("FORBIDDEN", "This profile is locked: enter it with its PIN on this device first.", "profile_locked");
  }
  const plan = subscription && PLAYING_STATUSES.has(subscription.status) ? planById(subscription.planId) : undefined;
  if (!plan) {
    throw refuse("FORBIDDEN", "Choose a plan to start watching.", "no_subscription", { status: subscription?.status ?? "none" });
  }
  const inWindow = title && (title.availableFrom === null || title.availableFrom <= now) && (title.availableUntil === null || title.availableUntil > now);
  if (!title || !inWindow) throw refuse("NOT_FOUND", "No such title.", "unknown_title");
  if (title.maturityLevel > profile.maturityLevel) {
    throw refuse("FORBIDDEN", "This title is above this profile's maturity level.", "maturity", { titleLevel: title.maturityLevel, profileLevel: profile.maturityLevel });
  }

  let episode: EpisodeChoice | null = null;
  let resumeSec = 0;
  let assetRow: AssetInfo;
  if (title.kind === "series") {
    if (request.episodeId !== undefined) {
      episode = ctx.episodes.find((e) => e.id === request.episodeId) ?? null;
      if (!episode) throw refuse("NOT_FOUND", "No such episode of this series.", "unknown_episode");
    } else {
      // "Play" on a series: where the profile left off, the next episode once that one is
      // finished, else the first episode that can play.
      const last = progress?.episodeId ? ctx.episodes.find((e) => e.id === progress.episodeId) : undefined;
      if (last && progress && finished(last.asset, progress.positionSec, progress.durationSec)) episode = nextPlayable(ctx.episodes, last) ?? last;
      else episode = last ?? ctx.episodes.find(playable) ?? ctx.episodes[0] ?? null;
      if (!episode) throw refuse("NOT_FOUND", "This series has no episodes yet.", "no_published_asset");
    }
    assetRow = episode.asset;
    if (progress && progress.episodeId === episode.id && !finished(episode.asset, progress.positionSec, progress.durationSec)) resumeSec = progress.positionSec;
  } else {
    if (request.episodeId !== undefined) throw refuse("NOT_FOUND", "A movie has no episodes.", "unknown_episode");
    assetRow = title.asset;
    if (progress && progress.episodeId === null && !finished(title.asset, progress.positionSec, progress.durationSec)) resumeSec = progress.positionSec;
  }
  if (!assetRow || assetRow.status === "pending") {
    throw refuse("NOT_FOUND", "This title cannot be played yet: its video is not published.", "no_published_asset");
  }
  const live = assetRow.status === "live";
  const displayName = episode ? `${title.name}: S${episode.seasonNumber} E${episode.number} ${episode.name}` : title.name;
  return {
    profile: { id: profile.id, name: profile.name },
    plan,
    title: { id: title.id, kind: title.kind, name: title.name },
    episode,
    asset: { id: assetRow.id, durationSec: assetRow.durationSec, extras: assetRow.extras, live },
    resumeSec: live ? 0 : Math.min(resumeSec, assetRow.durationSec),
    nextEpisode: episode ? nextPlayable(ctx.episodes, episode) : null,
    // A live event's times would move with its window: none until it is a recording.
    skipSegments: live ? [] : (segmentsOf(assetRow) ?? []),
    autoSkip: profile.autoSkipIntros,
    displayName,
  };
}

/** The first playable episode after `current` in season and episode order. */
function nextPlayable(all: EpisodeChoice[], current: EpisodeChoice): EpisodeChoice | null {
  const at = all.findIndex((e) => e.id === current.id);
  return all.slice(at + 1).find(playable) ?? null;
}
