// Which of an asset's tracks a playback token's height cap lets the viewer see.
import { resolutionClass, type RenditionIndex, type VideoRendition } from "../../../lib/media-index.ts";

/**
 * The video renditions whose resolution class (short side) is at or below `maxHeight`,
 * lowest first. An empty result means the plan allows nothing of this asset; the caller
 * answers 403 rather than serve a manifest.
 */
export function allowedVideo(index: RenditionIndex, maxHeight: number): VideoRendition[] {
  // Sorted defensively: players start on the first variant, so the lowest must lead even
  // if an index was written out of order.
  return index.video
    .filter((rendition) => resolutionClass(rendition) <= maxHeight)
    .sort((a, b) => resolutionClass(a) - resolutionClass(b) || a.bandwidth - b.bandwidth);
}

/**
 * Whether a segment or playlist of `trackId` may be served under `maxHeight`. Audio is
 * never capped by plan; an id the index does not know is refused, not guessed at.
 */
export function isTrackAllowed(index: RenditionIndex, trackId: string, maxHeight: number): boolean {
  if (index.audio.some((track) => track.id === trackId)) return true;
  const video = index.video.find((rendition) => rendition.id === trackId);
  return video !== undefined && resolutionClass(video) <= maxHeight;
}
