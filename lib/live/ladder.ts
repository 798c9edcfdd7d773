// A live event's ladder: the renditions its broadcaster sends (one ffmpeg variant stream
// each), what the ingest accepts, and the bounds every live input is held to.
import { z } from "zod";

/** A rendition's name: the folder ffmpeg PUTs it under (`{name}/index.m3u8`) and its track id. */
export const rungNameSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,15}$/, "lowercase letters, digits and dashes, at most 16");

export const rungSchema = z.discriminatedUnion("kind", [
  z
    .object({
      name: rungNameSchema,
      kind: z.literal("video"),
      width: z.number().int().min(16).max(7680),
      height: z.number().int().min(16).max(4320),
      bitrateKbps: z.number().int().min(50).max(100_000),
    })
    .strict(),
  z.object({ name: rungNameSchema, kind: z.literal("audio"), bitrateKbps: z.number().int().min(16).max(1_000) }).strict(),
]);

export type Rung = z.infer<typeof rungSchema>;

export const ladderSchema = z
  .array(rungSchema)
  .min(1)
  .max(8)
  .refine((rungs) => new Set(rungs.map((r) => r.name)).size === rungs.length, "rendition names must differ")
  .refine((rungs) => rungs.some((r) => r.kind === "video"), "at least one video rendition")
  .refine((rungs) => rungs.filter((r) => r.kind === "audio").length <= 2, "at most two audio renditions");

/** What `POST /v1/admin/live` uses when no ladder is given: three video rungs and one audio. */
export const DEFAULT_LADDER: Rung[] = [
  { name: "720p", kind: "video", width: 1280, height: 720, bitrateKbps: 2500 },
  { name: "480p", kind: "video", width: 854, height: 480, bitrateKbps: 1000 },
  { name: "240p", kind: "video", width: 426, height: 240, bitrateKbps: 400 },
  { name: "audio", kind: "audio", bitrateKbps: 128 },
];

export const LIVE_LIMITS = {
  /** One media segment: 2 s at 60 Mbit/s is 15 MB. */
  segmentBytes: 16 * 1024 * 1024,
  /** An init segment or an ingest playlist (ffmpeg's are under 1 KB). */
  smallFileBytes: 64 * 1024,
  /** Segment numbers ffmpeg may send in one run of the broadcaster (a year of 2 s segments). */
  maxSegmentNumber: 99_999_999,
  /** How far back viewers may seek in a live event (the DVR window), and its bounds. */
  defaultDvrWindowSec: 2 * 3600,
  maxDvrWindowSec: 12 * 3600,
  /** No segment for this long after the event went live: it ends itself. */
  defaultIdleTimeoutSec: 120,
  /** A segment that one rendition never delivers is a gap once this many later ones are complete. */
  gapAfterSegments: 2,
  /** A broadcaster's program date-time is believed only within this of the server's clock. */
  clockSkewMs: 30_000,
  /** The errors a live event remembers (its status shows them). */
  errorsKept: 20,
};
