// Skip segments: the spans of an episode (or film) a viewer may want to skip — its intro,
// the recap of the previous episode, its end credits. Found at ingest (tools/ingest/segments/)
// or set by an operator (PUT /v1/admin/titles/{id}/seasons/{s}/episodes/{e}/segments), kept
// per asset in D1 (`skip_segments`), and published beside the asset in R2
// (`assets/{id}/skip-segments.json`) for the media Worker's manifests (HLS EXT-X-DATERANGE,
// DASH EventStream). One description shared by the api, the media Worker, the ingest tool,
// the web player and the tests.
import { z } from "zod";
import { base64UrlDecode, base64UrlEncode } from "./base64url.ts";
import { assetIdSchema } from "./media-index.ts";

export const skipSegmentKinds = ["recap", "intro", "credits"] as const;
export type SkipSegmentKind = (typeof skipSegmentKinds)[number];

export const skipSegmentSources = ["detected", "manual"] as const;
export type SkipSegmentSource = (typeof skipSegmentSources)[number];

/** Detected segments below this confidence are stored (an operator can see and confirm them) but shown to no viewer. */
export const MIN_VISIBLE_CONFIDENCE = 0.6;

/** The shortest span worth a button, and the longest any episode could have (12 h). */
export const SKIP_LIMITS = { minSpanSec: 2, maxSec: 12 * 3600 } as const;

/** Seconds with at most millisecond precision: what the store keeps (integer milliseconds). */
export const skipSecondsSchema = z
  .number()
  .finite()
  .min(0)
  .max(SKIP_LIMITS.maxSec)
  .refine((s) => Math.abs(Math.round(s * 1000) - s * 1000) < 1e-6, "at most millisecond precision");
const seconds = skipSecondsSchema;

export const skipSegmentSchema = z
  .object({
    kind: z.enum(skipSegmentKinds),
    startSec: seconds,
    endSec: seconds,
    source: z.enum(skipSegmentSources),
    /** 0..1; a manual segment is 1. */
    confidence: z.number().min(0).max(1),
  })
  .strict()
  .refine((s) => s.endSec - s.startSec >= SKIP_LIMITS.minSpanSec, { message: `a segment ends at least ${SKIP_LIMITS.minSpanSec} s after it starts`, path: ["endSec"] });

export type SkipSegment = z.infer<typeof skipSegmentSchema>;

/**
 * An episode's whole set: at most one of each kind, in time order, not overlapping
 * (a recap, then the intro, then the credits).
 */
export const skipSegmentSetSchema = z
  .array(skipSegmentSchema)
  .max(skipSegmentKinds.length)
  .superRefine((list, ctx) => {
    const kinds = new Set<string>();
    for (const [i, s] of list.entries()) {
      if (kinds.has(s.kind)) ctx.addIssue({ code: "custom", path: [i, "kind"], message: `${s.kind} is given twice` });
      kinds.add(s.kind);
    }
    const sorted = [...list].sort((a, b) => a.startSec - b.startSec);
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i]!.startSec < sorted[i - 1]!.endSec) ctx.addIssue({ code: "custom", path: [], message: `${sorted[i - 1]!.kind} and ${sorted[i]!.kind} overlap` });
    }
  });

/** What a viewer is shown: confident or manual segments only, in time order. */
export type VisibleSkipSegment = { kind: SkipSegmentKind; startSec: number; endSec: number };

export function visibleSegments(list: readonly SkipSegment[]): VisibleSkipSegment[] {
  return list
    .filter((s) => s.source === "manual" || s.confidence >= MIN_VISIBLE_CONFIDENCE)
    .map((s) => ({ kind: s.kind, startSec: s.startSec, endSec: s.endSec }))
    .sort((a, b) => a.startSec - b.startSec);
}

/** `assets/{id}/skip-segments.json`: the visible segments of one asset, as the media Worker reads them. */
export const publishedSkipSegmentsSchema = z
  .object({
    version: z.literal(1),
    segments: z
      .array(z.object({ kind: z.enum(skipSegmentKinds), startSec: seconds, endSec: seconds }).strict())
      .max(skipSegmentKinds.length),
  })
  .strict();

export type PublishedSkipSegments = z.infer<typeof publishedSkipSegmentsSchema>;

/** HLS EXT-X-DATERANGE CLASS and DASH EventStream schemeIdUri that carry them (docs/skip-segments.md). */
export const SKIP_DATERANGE_CLASS = "tv.marquee.skip";
export const SKIP_EVENT_SCHEME = "urn:marquee:skip:2026";

/**
 * What the ingest tool learns of one episode's media and keeps on the server
 * (`PUT /v1/admin/assets/{id}/analysis`, R2 `assets/{id}/analysis.json`, never served to
 * viewers), so a season's segments can be found again later (`npm run ingest --
 * --detect-segments`) without the source files: audio fingerprints of the episode's head
 * (its first third, at most SKIP_ANALYSIS_LIMITS.headSec) and tail, and the dark spans of its tail.
 */
export const SKIP_ANALYSIS_LIMITS = {
  headSec: 20 * 60,
  tailSec: 10 * 60,
  /** Fingerprint items: a few per second; bounded so one analysis stays well under a megabyte. */
  maxItems: 16_384,
  maxDarkSpans: 2_000,
  bodyBytes: 512 * 1024,
} as const;

export const fingerprintAlgorithms = ["chromaprint", "marquee-pcm"] as const;

/** 32-bit fingerprint items, little-endian, as canonical base64url: `n` items are exactly 4n bytes. */
const fingerprintData = z
  .string()
  .max(Math.ceil((SKIP_ANALYSIS_LIMITS.maxItems * 4 * 4) / 3))
  .refine((text) => {
    const bytes = base64UrlDecode(text);
    return bytes !== null && bytes.length % 4 === 0;
  }, "canonical base64url of 32-bit items");

const fingerprintSchema = z
  .object({
    /** Media time of item 0. */
    startSec: seconds,
    data: fingerprintData,
  })
  .strict();

const span = z.object({ startSec: seconds, endSec: seconds }).strict();

export const episodeAnalysisSchema = z
  .object({
    version: z.literal(1),
    assetId: assetIdSchema,
    durationSec: z.number().positive().max(SKIP_LIMITS.maxSec),
    fingerprint: z
      .object({
        algorithm: z.enum(fingerprintAlgorithms),
        /** Seconds between consecutive items. */
        itemSec: z.number().positive().max(1),
        head: fingerprintSchema,
        tail: fingerprintSchema,
      })
      .strict(),
    /** Mostly dark pictures (ffmpeg blackdetect with room for text) within the tail, in time order. */
    darkSpans: z.array(span).max(SKIP_ANALYSIS_LIMITS.maxDarkSpans),
    /** Scene changes within the tail (ffmpeg scdet), in time order. */
    sceneChanges: z.array(seconds).max(SKIP_ANALYSIS_LIMITS.maxDarkSpans),
  })
  .strict();

export type EpisodeAnalysis = z.infer<typeof episodeAnalysisSchema>;

/** A fingerprint's items from its wire form (which the schema has checked). */
export function decodeFingerprint(data: string): Uint32Array {
  const bytes = base64UrlDecode(data);
  if (!bytes || bytes.length % 4 !== 0) throw new Error("not a fingerprint");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const items = new Uint32Array(bytes.length / 4);
  for (let i = 0; i < items.length; i++) items[i] = view.getUint32(i * 4, true);
  return items;
}

/** The wire form of fingerprint items. */
export function encodeFingerprint(items: Uint32Array): string {
  const bytes = new Uint8Array(items.length * 4);
  const view = new DataView(bytes.buffer);
  items.forEach((v, i) => view.setUint32(i * 4, v, true));
  return base64UrlEncode(bytes);
}
