// Where a packaged asset's files live in the R2 bucket `MEDIA` and every replica (DESIGN.md §4,
// docs/media-origin.md): the same keys in each origin.

const ASSETS = "assets";

export const mediaKeys = {
  /** Prefix of every object of one asset. */
  assetPrefix: (assetId: string) => `${ASSETS}/${assetId}/`,
  index: (assetId: string) => `${ASSETS}/${assetId}/index.json`,
  /** A file of the asset by its path relative to the asset folder (as index.json names it). */
  file: (assetId: string, path: string) => `${ASSETS}/${assetId}/${path}`,
  init: (assetId: string, trackId: string) => `${ASSETS}/${assetId}/${trackId}/init.m4s`,
  segment: (assetId: string, trackId: string, n: number) => `${ASSETS}/${assetId}/${trackId}/${n}.m4s`,
  /** While an asset is a live event: its timeline's window, written by the event's object (lib/live/live-state.ts). */
  live: (assetId: string) => `${ASSETS}/${assetId}/live.json`,
  /** The intro, recap and credits viewers are shown (lib/skip-segments.ts), written by the api; absent when none. */
  skipSegments: (assetId: string) => `${ASSETS}/${assetId}/skip-segments.json`,
  /** What the ingest tool measured for finding them again (lib/skip-segments.ts `episodeAnalysisSchema`); never served. */
  analysis: (assetId: string) => `${ASSETS}/${assetId}/analysis.json`,
  /**
   * The replicas an asset is complete on (lib/media-origins/replicas.ts), written by the
   * publish step to every origin once the last replica file is copied; absent: primary only.
   */
  replicas: (assetId: string) => `${ASSETS}/${assetId}/replicas.json`,
  /** The operator's steering policy (lib/media-origins/steering-policy.ts), kept in every origin. */
  steeringPolicy: "config/steering.json",
};

const contentTypes: Record<string, string> = {
  json: "application/json",
  m4s: "video/iso.segment",
  mp4: "video/mp4",
  vtt: "text/vtt; charset=utf-8",
  jpg: "image/jpeg",
  m3u8: "application/vnd.apple.mpegurl",
  mpd: "application/dash+xml",
};

/** The Content-Type a media file is stored and served with, from its extension. */
export function contentTypeFor(path: string): string {
  const ext = path.slice(path.lastIndexOf(".") + 1).toLowerCase();
  // CMAF init segments are complete (if sampleless) MP4 files.
  if (path.endsWith("/init.m4s")) return "video/mp4";
  return contentTypes[ext] ?? "application/octet-stream";
}
