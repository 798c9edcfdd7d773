// What the watch page holds as its player engine (./engine.ts picks and starts one; hls.js's
// is ./hls-engine.ts, a bundle of its own), and what it tells the page.
import type { Handover } from "./first-frame.ts";
import type { SegmentPrefetch } from "./prefetch.ts";

export type EngineHandlers = {
  /** The renditions the plan allows, as heights (tallest first). */
  onQualities(heights: number[]): void;
  /** The rendition now playing (its height, and its bitrate in bit/s, 0 when unknown), e.g. after an ABR switch. */
  onRendition(height: number, bitrate: number): void;
  /** An error the engine reported: fatal, or recovered from (by the engine, or by us). */
  onError(fatal: boolean): void;
  /** The subtitle languages the stream itself offers (HLS SUBTITLES renditions or text tracks). */
  onSubtitleTracks(langs: string[]): void;
  /** Playback cannot go on by itself: "network" (retry when back online) or "media". */
  onFatal(kind: "network" | "media", details: string): void;
};

export interface Engine {
  readonly kind: "hls.js" | "native";
  /** How many requests the Play answer's prefetch saved the engine (for the browser tests). */
  prefetched(): number;
  /** What put the first frame on screen: the page's own MediaSource before hls.js (./first-frame.ts), hls.js, or the browser's HLS. */
  firstFrameBy(): "first-frame" | "hls.js" | "native";
  /** Whether the engine itself is running: false while hls.js's bundle is still on its way (after or before the first frame). */
  ready(): boolean;
  /** On a live event: wall clock minus the program date-time of the frame on screen, in seconds (null otherwise). */
  liveLatencySec(): number | null;
  setQuality(height: number | "auto"): void;
  setSubtitles(lang: string | null): void;
  /** A heartbeat handed out a new token (hls.js reads it per request; native HLS reloads before expiry). */
  tokenRefreshed(hlsUrl: string): void;
  /** After a network failure: load again from where it stopped. */
  retry(): void;
  stop(): void;
}

/** What the page's URL asks of the player (./engine.ts `urlOptions`). */
export type PageOptions = { startOver: boolean; bufferSec: number | null; hlsFirst: boolean };

/** How hls.js starts: the page's options, where it starts, the first segments in hand, and the first frame's MediaSource (null: from nothing). */
export type EngineStart = {
  options: PageOptions;
  positionSec: number;
  prefetch: SegmentPrefetch | null;
  handover: Handover | null;
};
