// An episode's (or film's) intro, recap and credits: reading them, replacing them (an
// operator's edit, or the ingest tool's detection), and publishing the ones viewers see
// to R2 for the media Worker's manifests. Kept per asset (d1/schema.ts `skip_segments`).
//
// Who wins: an operator's segments are `manual`; the ingest tool's are `detected`. A
// manual PUT replaces the whole set. A detected PUT replaces only detected rows: it never
// overwrites or removes a manual one, so re-running detection keeps every correction.
// Both rules are conditions of the same statements that write (one D1 batch, one
// transaction), not a read followed by a write, so an edit racing a detection cannot be lost.
import { z } from "zod";
import { mediaOrigins, putEverywhere, type OriginEnv } from "../../../lib/media-origins/origins.ts";
import { ApiError } from "../../../lib/errors.ts";
import { mediaKeys } from "../../../lib/media-layout.ts";
import {
  type EpisodeAnalysis,
  episodeAnalysisSchema,
  type SkipSegment,
  type SkipSegmentKind,
  type PublishedSkipSegments,
  skipSecondsSchema,
  skipSegmentKinds,
  skipSegmentSetSchema,
  visibleSegments,
} from "../../../lib/skip-segments.ts";

const seconds = skipSecondsSchema;

export const skipSegmentInputSchema = z
  .object({
    kind: z.enum(skipSegmentKinds),
    startSec: seconds,
    endSec: seconds,
    /** How sure detection is (0..1); a manual segment is always 1. */
    confidence: z.number().min(0).max(1).optional(),
  })
  .strict();

export const skipSegmentsPutSchema = z
  .object({
    segments: z.array(skipSegmentInputSchema).max(skipSegmentKinds.length),
    /** `manual` (the default): an operator's edit, which replaces the set. `detected`: the ingest tool's, which leaves manual segments alone. */
    source: z.enum(["manual", "detected"]).default("manual"),
  })
  .strict();

export type SkipSegmentsPut = z.infer<typeof skipSegmentsPutSchema>;

/** The video a segment set belongs to, and its length (segments must lie within it). */
export type SegmentTarget = { assetId: string; durationSec: number };

type TargetRow = { asset_id: string | null; duration_sec: number | null; status: string | null };

function targetOf(row: TargetRow | null, what: string): SegmentTarget {
  if (!row) throw new ApiError("NOT_FOUND", `No ${what}.`, { details: { reason: "not_found" } });
  if (!row.asset_id || row.duration_sec === null || row.status === "live") {
    throw new ApiError("NOT_FOUND", `${what[0]!.toUpperCase()}${what.slice(1)} has no published video yet.`, { details: { reason: "no_video" } });
  }
  return { assetId: row.asset_id, durationSec: row.duration_sec };
}

export async function episodeTarget(db: D1Database, titleId: string, season: number, episode: number): Promise<SegmentTarget> {
  const row = await db
    .prepare(
      `SELECT e.asset_id, a.duration_sec, a.status FROM episodes e JOIN seasons s ON s.id = e.season_id LEFT JOIN assets a ON a.id = e.asset_id
       WHERE s.title_id = ?1 AND s.number = ?2 AND e.number = ?3`,
    )
    .bind(titleId, season, episode)
    .first<TargetRow>();
  return targetOf(row, `episode ${episode} of season ${season} of ${titleId}`);
}

/** A film's video; a series has none of its own (its episodes do). */
export async function movieTarget(db: D1Database, titleId: string): Promise<SegmentTarget> {
  const row = await db
    .prepare(`SELECT t.kind, t.asset_id, a.duration_sec, a.status FROM titles t LEFT JOIN assets a ON a.id = t.asset_id WHERE t.id = ?1`)
    .bind(titleId)
    .first<TargetRow & { kind: string }>();
  if (row?.kind === "series") throw new ApiError("NOT_FOUND", `${titleId} is a series: its episodes have the segments.`, { details: { reason: "series" } });
  return targetOf(row, `title ${titleId}`);
}

type Row = { kind: SkipSegmentKind; start_ms: number; end_ms: number; source: "detected" | "manual"; confidence: number };

const fromRow = (r: Row): SkipSegment => ({ kind: r.kind, startSec: r.start_ms / 1000, endSec: r.end_ms / 1000, source: r.source, confidence: r.confidence });

const SELECT = `SELECT kind, start_ms, end_ms, source, confidence FROM skip_segments WHERE asset_id = ?1 ORDER BY start_ms`;

export async function readSkipSegments(db: D1Database, assetId: string): Promise<SkipSegment[]> {
  const { results } = await db.prepare(SELECT).bind(assetId).all<Row>();
  return results.map(fromRow);
}

/** Checks a PUT body against the video; a 400 naming the first problem, before anything is written. */
function checked(input: SkipSegmentsPut, target: SegmentTarget): SkipSegment[] {
  const list: SkipSegment[] = input.segments.map((s) => ({
    kind: s.kind,
    startSec: Math.round(s.startSec * 1000) / 1000,
    endSec: Math.round(s.endSec * 1000) / 1000,
    source: input.source,
    confidence: input.source === "manual" ? 1 : (s.confidence ?? 1),
  }));
  const parsed = skipSegmentSetSchema.safeParse(list);
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => ({ path: ["segments", ...i.path].join("."), message: i.message }));
  // Half a second of slack: a detected end of credits may round past the last frame.
  list.forEach((s, i) => {
    if (s.endSec > target.durationSec + 0.5) problems.push({ path: `segments.${i}.endSec`, message: `ends after the video (${target.durationSec.toFixed(3)} s)` });
  });
  if (problems.length) throw new ApiError("VALIDATION_FAILED", `The segments are not valid: ${problems[0]!.message}.`, { details: problems });
  return list;
}

/**
 * Replaces the set (see the rules at the top) in one batch, and answers what is stored
 * after it. Then publishes the visible ones for the media Worker.
 */
export async function putSkipSegments(env: { DB: D1Database; MEDIA: R2Bucket }, target: SegmentTarget, input: SkipSegmentsPut, now: Date): Promise<SkipSegment[]> {
  const list = checked(input, target);
  const rows = JSON.stringify(list.map((s) => [s.kind, Math.round(s.startSec * 1000), Math.round(s.endSec * 1000), s.confidence]));
  const manual = input.source === "manual";
  const db = env.DB;
  const results = await db.batch<Row>([
    // Kinds the body leaves out go; a detected body removes only detected rows.
    db
      .prepare(
        `DELETE FROM skip_segments WHERE asset_id = ?1 AND kind NOT IN (SELECT json_extract(value, '$[0]') FROM json_each(?2))
         AND (?3 OR source = 'detected')`,
      )
      .bind(target.assetId, rows, manual ? 1 : 0),
    db
      .prepare(
        `INSERT INTO skip_segments (asset_id, kind, start_ms, end_ms, source, confidence, updated_at)
         SELECT ?1, json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), ?3, json_extract(value, '$[3]'), ?4
         FROM json_each(?2) WHERE true
         ON CONFLICT (asset_id, kind) DO UPDATE SET
           start_ms = excluded.start_ms, end_ms = excluded.end_ms, source = excluded.source, confidence = excluded.confidence, updated_at = excluded.updated_at
         WHERE excluded.source = 'manual' OR skip_segments.source = 'detected'`,
      )
      .bind(target.assetId, rows, input.source, now.getTime()),
    db.prepare(SELECT).bind(target.assetId),
  ]);
  const stored = (results[2]?.results ?? []).map(fromRow);
  await publishLatest(env, target.assetId, stored);
  return stored;
}

const sameVisible = (a: readonly SkipSegment[], b: readonly SkipSegment[]) => JSON.stringify(visibleSegments(a)) === JSON.stringify(visibleSegments(b));

/**
 * Two PUTs racing could land their R2 writes in the other order than their D1 writes,
 * leaving the older set published. So each writer reads D1 again after its write and,
 * if the set moved on meanwhile, publishes the newer one: the last write to R2 is then
 * always followed by a read that found it current. Bounded: a set that keeps changing
 * under three rounds answers 503 (the caller's retry publishes it).
 */
async function publishLatest(env: { DB: D1Database; MEDIA: R2Bucket }, assetId: string, stored: SkipSegment[]): Promise<void> {
  let current = stored;
  for (let round = 0; round < 3; round++) {
    await publishSkipSegments(env, assetId, current);
    const now = await readSkipSegments(env.DB, assetId);
    if (sameVisible(now, current)) return;
    current = now;
  }
  throw new ApiError("UNAVAILABLE", "The segments are stored, but kept changing while the manifests were updated; send the same request again.", {
    details: { reason: "publish_failed" },
  });
}

/**
 * `assets/{id}/skip-segments.json`, what the media Worker's manifests carry: the visible
 * segments only, in every origin (a replica serves the manifests when the primary is
 * down). Written after D1, so a failure of the primary here (a 503 the caller retries; the
 * PUT is idempotent) never leaves a manifest showing what D1 does not have; a replica that
 * misses it is logged and catches up at the next write.
 */
export async function publishSkipSegments(env: OriginEnv, assetId: string, stored: readonly SkipSegment[]): Promise<void> {
  const published: PublishedSkipSegments = { version: 1, segments: visibleSegments(stored) };
  try {
    await putEverywhere(mediaOrigins(env).all, mediaKeys.skipSegments(assetId), JSON.stringify(published));
  } catch {
    throw new ApiError("UNAVAILABLE", "The segments are stored, but the manifests could not be updated; send the same request again.", {
      details: { reason: "publish_failed" },
    });
  }
}

/**
 * Stores what the ingest tool measured of an asset (lib/skip-segments.ts
 * `episodeAnalysisSchema`), so a season can be detected again without its source files.
 * Only for an asset D1 knows; the body names the asset it is about.
 */
export async function putAnalysis(env: { DB: D1Database; MEDIA: R2Bucket }, assetId: string, analysis: EpisodeAnalysis): Promise<void> {
  if (analysis.assetId !== assetId) throw new ApiError("VALIDATION_FAILED", "The analysis is of another asset.", { details: [{ path: "assetId", message: `not ${assetId}` }] });
  const known = await env.DB.prepare(`SELECT 1 AS ok FROM assets WHERE id = ?1`).bind(assetId).first();
  if (!known) throw new ApiError("NOT_FOUND", `No asset ${assetId}.`);
  await env.MEDIA.put(mediaKeys.analysis(assetId), JSON.stringify(analysis), { httpMetadata: { contentType: "application/json" } });
}

export async function readAnalysis(bucket: R2Bucket, assetId: string): Promise<EpisodeAnalysis> {
  const object = await bucket.get(mediaKeys.analysis(assetId));
  if (!object) throw new ApiError("NOT_FOUND", `Asset ${assetId} has no analysis: ingest its source again to make one.`);
  // Written by putAnalysis from a checked body; parsed again so a damaged object is a clear error, not a crash.
  const parsed = episodeAnalysisSchema.safeParse(await object.json().catch(() => null));
  if (!parsed.success) throw new ApiError("NOT_FOUND", `Asset ${assetId}'s analysis is unreadable: ingest its source again.`);
  return parsed.data;
}
