// The rendition index (`assets/{assetId}/index.json`): the one description of a packaged
// asset from which the media Worker generates HLS and DASH manifests at the edge.
import { z } from "zod";

/** Asset ids appear in R2 keys and URL paths, so they are kept to a safe alphabet. */
export const assetIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$/, "lowercase letters, digits and inner dashes, 2-64 chars");

/** A track's CMAF segments: `{trackId}/{n}.m4s` for n from startNumber, in order. */
export const segmentListSchema = z.object({
  /** Units per second of `durations`, the track's media timescale. */
  timescale: z.number().int().positive(),
  startNumber: z.number().int().nonnegative(),
  /** Each segment's exact duration in timescale units (DASH SegmentTimeline, HLS EXTINF). */
  durations: z.array(z.number().int().positive()).min(1),
  /** Each segment's size in bytes, in the same order (peak bandwidth, byte budgets); 0 only for a gap. */
  bytes: z.array(z.number().int().nonnegative()).min(1),
  /**
   * Where the media's timeline restarts (a live broadcaster that reconnected): each run's
   * first segment number and that segment's media time in timescale units. Absent: one
   * run from startNumber at time 0. Players are told (HLS EXT-X-DISCONTINUITY, a DASH Period each).
   */
  runs: z.array(z.object({ startNumber: z.number().int().nonnegative(), startTime: z.number().int().nonnegative() })).max(10_000).optional(),
  /** Segment numbers with no media in this track (a live upload that never came): HLS EXT-X-GAP. */
  gaps: z.array(z.number().int().nonnegative()).max(100_000).optional(),
});

const trackBase = {
  /** Folder name under the asset, e.g. `720p` or `audio-en`; also the manifest id. */
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/),
  /** RFC 6381 codec string, e.g. `avc1.64001f` or `mp4a.40.2`. */
  codecs: z.string().min(1),
  /** Measured peak bits per second over any one segment (HLS BANDWIDTH). */
  bandwidth: z.number().int().positive(),
  /** Measured mean bits per second over the whole track (HLS AVERAGE-BANDWIDTH). */
  averageBandwidth: z.number().int().positive(),
  segments: segmentListSchema,
};

export const videoRenditionSchema = z.object({
  ...trackBase,
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  frameRate: z.number().positive(),
});

export const audioTrackSchema = z.object({
  ...trackBase,
  /** BCP 47 language tag. */
  lang: z.string().min(2),
  name: z.string().min(1),
  channels: z.number().int().positive(),
  sampleRate: z.number().int().positive(),
  default: z.boolean(),
});

export const subtitleTrackSchema = z.object({
  lang: z.string().min(2),
  name: z.string().min(1),
  /** Path relative to the asset folder, e.g. `subs/en.vtt`. */
  path: z.string().min(1),
  default: z.boolean(),
});

export const thumbnailsSchema = z.object({
  /** Paths relative to the asset folder. */
  sprite: z.string().min(1),
  vtt: z.string().min(1),
  /** Size of one tile in the sprite. */
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  intervalSec: z.number().positive(),
});

export const assetFileSchema = z.object({
  /** Path relative to the asset folder. */
  path: z.string().min(1),
  bytes: z.number().int().nonnegative(),
  /** Lowercase hex SHA-256 of the file: integrity checks on upload and seeding. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

export const renditionIndexSchema = z.object({
  version: z.literal(1),
  assetId: assetIdSchema,
  durationSec: z.number().positive(),
  /** Target segment duration; actual durations are in each track's segment list. */
  segmentDurationSec: z.number().positive(),
  /** Video renditions, lowest height first; keyframe-aligned so players can switch at any segment. */
  video: z.array(videoRenditionSchema).min(1),
  audio: z.array(audioTrackSchema),
  subtitles: z.array(subtitleTrackSchema),
  thumbnails: thumbnailsSchema.nullable(),
  /** Path relative to the asset folder, or null when the asset has no poster. */
  poster: z.string().min(1).nullable(),
  /** Every file of the asset except index.json itself. */
  files: z.array(assetFileSchema).min(1),
});

export type SegmentList = z.infer<typeof segmentListSchema>;
export type VideoRendition = z.infer<typeof videoRenditionSchema>;
export type AudioTrack = z.infer<typeof audioTrackSchema>;
export type SubtitleTrack = z.infer<typeof subtitleTrackSchema>;
export type RenditionIndex = z.infer<typeof renditionIndexSchema>;

/**
 * A rendition's resolution class, what a plan's limit ("up to 1080p") is compared with:
 * the short side of the picture, so portrait video is classed like landscape video.
 */
export function resolutionClass(rendition: { width: number; height: number }): number {
  return Math.min(rendition.width, rendition.height);
}

/** The part of an index a player is told about when a stream starts (stored with the asset in D1). */
export type AssetExtras = {
  subtitles: { lang: string; name: string; path: string; default: boolean }[];
  /** Path of the trick-play WebVTT (which points into the sprite), or null. */
  thumbnailsVtt: string | null;
  poster: string | null;
};

export function assetExtras(index: RenditionIndex): AssetExtras {
  return {
    subtitles: index.subtitles.map((s) => ({ lang: s.lang, name: s.name, path: s.path, default: s.default })),
    thumbnailsVtt: index.thumbnails?.vtt ?? null,
    poster: index.poster,
  };
}
