// Skip segments (lib/skip-segments.ts: an episode's recap, intro and credits) as both
// manifests carry them: HLS EXT-X-DATERANGE (hls.ts), DASH EventStream (dash.ts). One
// reading of the published list for both, in whole milliseconds (the store's precision).
import type { RenditionIndex } from "../../../lib/media-index.ts";
import { skipSegmentKinds, type SkipSegmentKind, type VisibleSkipSegment } from "../../../lib/skip-segments.ts";

export type SkipSpan = { kind: SkipSegmentKind; startMs: number; endMs: number };

/**
 * The spans within the asset, in time order: one that starts at or after the asset's end is
 * dropped and one that runs past it is cut there (the list can outlive a re-publish of a
 * shorter cut); an empty or reversed span is dropped, and so is a second one of a kind (the
 * kind is the HLS ID, unique in a playlist; the api never publishes two).
 */
export function skipSpans(index: RenditionIndex, skip: readonly VisibleSkipSegment[]): SkipSpan[] {
  const endOfAsset = Math.round(index.durationSec * 1000);
  return skip
    .map((s) => ({ kind: s.kind, startMs: Math.round(s.startSec * 1000), endMs: Math.min(endOfAsset, Math.round(s.endSec * 1000)) }))
    .filter((s) => s.startMs < s.endMs)
    .sort((a, b) => a.startMs - b.startMs)
    .filter((s, i, spans) => spans.findIndex((other) => other.kind === s.kind) === i);
}

/** A number for the kind that stays the same from one edit to the next (DASH Event@id is an unsignedInt). */
export function skipKindNumber(kind: SkipSegmentKind): number {
  return skipSegmentKinds.indexOf(kind);
}

/** Milliseconds as seconds with three decimals: 60000 → "60.000". */
export function msAsSeconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}
