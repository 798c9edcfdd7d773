// Quality of experience (docs/qoe.md): what the web player reports (`POST /v1/qoe`), what
// the media Worker reads from CMCD on segment requests, and the one Queue message shape
// both put on the `qoe` Queue. Shared by the api, the media Worker, the player and tests.
import { z } from "zod";
import { MAX_QOE_REPORTS_PER_REQUEST } from "./qoe-limits.ts";

/**
 * Play-delay histogram: the upper bound (ms, exclusive) of every bucket but the last,
 * which holds the rest. Fixed, so per-minute rollups add up and p50/p95 read back from
 * counts alone, to within a bucket (interpolated inside it).
 */
export const PLAY_DELAY_BUCKETS_MS = [250, 500, 750, 1000, 1500, 2000, 3000, 4000, 6000, 10_000, 20_000] as const;
/** One column a bucket in `qoe_minutes`: d0 … d11. */
export const PLAY_DELAY_BUCKET_COUNT = PLAY_DELAY_BUCKETS_MS.length + 1;

export function playDelayBucket(ms: number): number {
  const i = PLAY_DELAY_BUCKETS_MS.findIndex((bound) => ms < bound);
  return i < 0 ? PLAY_DELAY_BUCKETS_MS.length : i;
}

/** The p-th percentile (0-100) of a histogram of bucket counts, interpolated linearly inside its bucket. */
export function histogramPercentile(counts: readonly number[], p: number): number | null {
  const total = counts.reduce((s, n) => s + n, 0);
  if (total === 0) return null;
  const rank = (p / 100) * total;
  let below = 0;
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i]!;
    if (n > 0 && below + n >= rank) {
      const lo = i === 0 ? 0 : PLAY_DELAY_BUCKETS_MS[i - 1]!;
      // The open last bucket has no upper bound: its lower bound is all it can say.
      if (i >= PLAY_DELAY_BUCKETS_MS.length) return lo;
      const hi = PLAY_DELAY_BUCKETS_MS[i]!;
      return Math.round(lo + ((rank - below) / n) * (hi - lo));
    }
    below += n;
  }
  return PLAY_DELAY_BUCKETS_MS[PLAY_DELAY_BUCKETS_MS.length - 1]!;
}

/**
 * Time watched is kept per resolution class (the short side of the picture): the
 * "bitrate mix" of a title, country or device. Class i holds heights up to HEIGHT_CLASSES[i].
 */
export const HEIGHT_CLASSES = [360, 576, 720, 1080, 4320] as const;
export const HEIGHT_CLASS_LABELS = ["≤360p", "480p", "720p", "1080p", "4K"] as const;

export function heightClass(height: number): number {
  const i = HEIGHT_CLASSES.findIndex((bound) => height <= bound);
  return i < 0 ? HEIGHT_CLASSES.length - 1 : i;
}

/** The plan heights a report may name (the `maxHeight` of its Play answer). */
export const PLAN_HEIGHTS = [240, 360, 480, 720, 1080, 1440, 2160, 4320] as const;

export const deviceClasses = ["desktop", "mobile", "tablet", "tv", "other"] as const;
export type DeviceClass = (typeof deviceClasses)[number];

/**
 * The device class of a User-Agent, by plain substring tests (no regular expression over
 * client input, so nothing to backtrack), on at most its first 512 characters.
 */
export function deviceClassOf(userAgent: string | null | undefined): DeviceClass {
  const ua = (userAgent ?? "").slice(0, 512).toLowerCase();
  if (!ua) return "other";
  const has = (...needles: string[]) => needles.some((n) => ua.includes(n));
  if (has("smart-tv", "smarttv", "tizen", "web0s", "webos", "appletv", "apple tv", "crkey", "android tv", "bravia", "aftb", "aftm", "aftt", "roku", "hbbtv")) return "tv";
  if (has("ipad", "tablet")) return "tablet";
  if (has("android") && !has("mobile")) return "tablet";
  if (has("mobi", "iphone", "ipod", "android")) return "mobile";
  if (has("windows", "macintosh", "mac os x", "x11", "linux", "cros")) return "desktop";
  return "other";
}

const count = (max: number) => z.number().int().min(0).max(max);
const HOUR_MS = 3_600_000;
const id = z.string().min(1).max(64);

/**
 * One report of one view (a Play of a title on one page), covering the time since the
 * view's previous report: counters are deltas, so reports of a view add up. The report
 * that saw the first frame carries `firstFrame`; a view that ended before it, `exit`.
 */
export const qoeReportSchema = z
  .object({
    /** Made by the player and sent again unchanged on a retry: a report counts once per id. */
    id: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, "8-64 letters, digits, _ or -"),
    /** The stream the Play answer named (signed: a report for a stream the server did not start is refused). */
    playbackSessionId: z.string().regex(/^pbs_[A-Za-z0-9_-]{16,60}$/),
    profileId: id,
    titleId: id,
    episodeId: id.nullable().optional(),
    /** The view's n-th report, from 0. */
    seq: count(100_000),
    /** Unix ms on the client when the report was made. */
    clientTime: z.number().int().positive(),
    /** The plan's height cap from the Play answer (`media.maxHeight`). */
    planHeight: z.number().int().refine((h) => (PLAN_HEIGHTS as readonly number[]).includes(h), "a plan height"),
    firstFrame: z
      .object({
        /** Play pressed (or the watch page's autoplay began) → the first decoded frame. */
        playDelayMs: count(600_000),
        /** Navigation start of the watch page → the first decoded frame; null when Play was pressed on the page itself. */
        pageToFirstFrameMs: count(600_000).nullable(),
      })
      .strict()
      .optional(),
    /** The view ended before its first frame: "left" (the viewer gave up) or "failed" (a fatal error). */
    exit: z.enum(["left", "failed"]).optional(),
    /** Time spent playing (not paused, not stalled) since the previous report. */
    playingMs: count(HOUR_MS),
    /** Stalls (rebuffering after the first frame, not seeks) since the previous report, and their time. */
    stalls: count(10_000),
    stallMs: count(HOUR_MS),
    /** Rendition switches since the previous report. */
    switches: count(10_000),
    /** Playing time at each picture height (e.g. `{ "720": 41000 }`), at most 8 heights. */
    heightMs: z
      .record(z.string().regex(/^[1-9][0-9]{1,3}$/), count(HOUR_MS))
      .refine((r) => Object.keys(r).length <= 8, "at most 8 heights"),
    /** Σ (bitrate of the playing rendition in kbit/s × ms played at it): the time-weighted mean bitrate's numerator. */
    kbpsMs: count(100_000 * HOUR_MS),
    droppedFrames: count(1_000_000),
    fatalErrors: count(100),
    recoveredErrors: count(10_000),
  })
  .strict();

export type QoeReport = z.infer<typeof qoeReportSchema>;

/** The body of `POST /v1/qoe`. `csrfToken`: a beacon (navigator.sendBeacon) cannot send the X-CSRF-Token header. */
export const qoeBatchSchema = z
  .object({
    reports: z.array(qoeReportSchema).min(1).max(MAX_QOE_REPORTS_PER_REQUEST),
    csrfToken: z.string().max(128).optional(),
  })
  .strict();

/** What the media Worker keeps of a request's CMCD keys (CTA-5004), all optional. */
export const cmcdFieldsSchema = z
  .object({
    /** Session id the player chose. */
    sid: z.string().max(64).optional(),
    /** Content id. */
    cid: z.string().max(64).optional(),
    /** Object type: m manifest, a audio, v video, av muxed, i init, c caption, tt timed text, k key, o other. */
    ot: z.enum(["m", "a", "v", "av", "i", "c", "tt", "k", "o"]).optional(),
    /** Encoded bitrate of the requested object, kbit/s. */
    br: count(10_000_000).optional(),
    /** Buffer length, ms. */
    bl: count(86_400_000).optional(),
    /** Measured throughput, kbit/s. */
    mtp: count(100_000_000).optional(),
    /** Object duration, ms. */
    d: count(86_400_000).optional(),
    /** Requested maximum throughput, kbit/s. */
    rtp: count(100_000_000).optional(),
    /** Startup: the object is needed urgently (start, seek, recovery). */
    su: z.boolean().optional(),
    /** Buffer starvation since the previous request. */
    bs: z.boolean().optional(),
  })
  .strict();

export type CmcdFields = z.infer<typeof cmcdFieldsSchema>;

/** One request's CMCD, stamped by the media Worker with what its playback token says. */
export const cmcdRecordSchema = z.object({
  /** Made by the media Worker: a redelivered message is stored once. */
  id: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/),
  /** From the playback token, not from the client: the stream, its title's asset and plan height. */
  streamId: z.string().min(1).max(64),
  assetId: z.string().min(1).max(64),
  maxHeight: z.number().int().positive(),
  country: z.string().regex(/^[A-Z]{2}$/),
  receivedAt: z.number().int().positive(),
  /** The request's path under the asset (`720p/3.m4s`), so a timeline shows what was fetched. */
  object: z.string().max(128),
  cmcd: cmcdFieldsSchema,
});

export type CmcdRecord = z.infer<typeof cmcdRecordSchema>;

/** One Queue message on `qoe`: a player's report, stamped by the api, or a batch of requests' CMCD, stamped by the media Worker. */
export const qoeMessageSchema = z.discriminatedUnion("kind", [
  z.object({
    v: z.literal(1),
    kind: z.literal("report"),
    accountId: z.string().min(1).max(64),
    country: z.string().regex(/^[A-Z]{2}$/),
    device: z.enum(deviceClasses),
    receivedAt: z.number().int().positive(),
    report: qoeReportSchema,
  }),
  z.object({
    v: z.literal(1),
    kind: z.literal("cmcd"),
    /** Gathered by one media Worker isolate over about a second: one Queue message, not one a segment. */
    records: z.array(cmcdRecordSchema).min(1).max(200),
  }),
]);

export type QoeMessage = z.infer<typeof qoeMessageSchema>;
export type QoeReportMessage = Extract<QoeMessage, { kind: "report" }>;
export type CmcdMessage = Extract<QoeMessage, { kind: "cmcd" }>;
