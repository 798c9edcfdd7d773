// `assets/{assetId}/live.json`: a live event's timeline as viewers may see it — the DVR
// window of every track — written by the event's Durable Object each time a segment is
// complete on every rendition, read by the media Worker (through the Cache API, about half a
// segment at a time) to make the live HLS playlists and the dynamic DASH MPD. It is the
// only thing the media Worker knows of a live event: no D1, no call into the object.
import { z } from "zod";
import { assetIdSchema, audioTrackSchema, videoRenditionSchema } from "../media-index.ts";

/** The track's init segment (`{id}/init.m4s`): a live window lists no files, so its size and hash come here. */
const init = z.object({ bytes: z.number().int().positive(), sha256: z.string().regex(/^[0-9a-f]{64}$/) });

/** An on-demand index's tracks, with `segments` holding the window (numbers, durations, sizes, runs, gaps). */
export const liveVideoTrackSchema = videoRenditionSchema.extend({ init });
export const liveAudioTrackSchema = audioTrackSchema.extend({ init });

/**
 * A live event's id, which is also its asset's: `live-` and 24 hex digits. Only such an
 * asset may have a live.json, so the media Worker never looks for one for any other.
 */
export const LIVE_ID = /^live-[0-9a-f]{24}$/;

export const liveStateSchema = z.object({
  version: z.literal(1),
  liveId: z.string().min(1).max(64),
  assetId: assetIdSchema,
  /** When the object wrote this (ms since the epoch): DASH's publishTime. */
  writtenAtMs: z.number().int().nonnegative(),
  /** The first segment of the whole event began at this wall-clock time: DASH's availabilityStartTime. */
  startedAtMs: z.number().int().nonnegative(),
  targetDurationSec: z.number().int().positive(),
  dvrWindowSec: z.number().int().positive(),
  /** Discontinuities before the window's first segment (HLS EXT-X-DISCONTINUITY-SEQUENCE). */
  discontinuitySequence: z.number().int().nonnegative(),
  /**
   * The wall-clock start (program date-time, ms) of each run in the window: the first
   * segment, and each one after a discontinuity. Every track's `segments.runs` lists the same
   * start numbers; without them, one run from the window's start.
   */
  runStartsMs: z
    .array(
      z.object({
        startNumber: z.number().int().nonnegative(),
        pdtMs: z.number().int().nonnegative(),
        /** For the window's first segment: when its run began (the run may have begun before the window). */
        originPdtMs: z.number().int().nonnegative().optional(),
      }),
    )
    .min(1),
  video: z.array(liveVideoTrackSchema).min(1),
  audio: z.array(liveAudioTrackSchema),
});

export type LiveState = z.infer<typeof liveStateSchema>;
export type LiveVideoTrack = z.infer<typeof liveVideoTrackSchema>;
export type LiveAudioTrack = z.infer<typeof liveAudioTrackSchema>;
