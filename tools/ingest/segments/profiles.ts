// What each fingerprint algorithm's items mean in time, and how alike two items must be to
// be the same sound (pure constants; measured, see docs/ingest.md "Skip intro, recap and
// credits: detection").
import type { fingerprintAlgorithms } from "../../../lib/skip-segments.ts";
import { PCM_FRAME, PCM_HOP, PCM_SAMPLE_RATE } from "./pcm-fingerprint.ts";

export type FingerprintAlgorithm = (typeof fingerprintAlgorithms)[number];

export type FingerprintProfile = {
  /** Seconds between consecutive items. */
  itemSec: number;
  /** Seconds of sound one item summarises, from its own start. */
  windowSec: number;
  /** Most differing bits for two items to count as the same sound. */
  maxBitErrors: number;
  /**
   * A run of matching items [i, j] is the sound from `i·itemSec + startPadSec` to
   * `j·itemSec + windowSec + endPadSec`: items whose window only partly covers the shared
   * sound still match, so the run reaches beyond it at both ends. Measured on synthetic
   * seasons, where the truth is known: seeds 4-9 of `npm run eval:segments` (the mean
   * signed error of intro starts and ends, taken out); the figures in docs/ingest.md come
   * from other seeds.
   */
  startPadSec: number;
  endPadSec: number;
};

/**
 * chromaprint's default algorithm (TEST2, `-algorithm 1`): 11025 Hz, frames of 4096
 * samples every 4096 - (4096 - 4096/3) = 1365 samples (integer division), so one item
 * every 1365/11025 = 0.12381 s; each item looks at 16 rows of a chroma image smoothed over
 * 5 frames, about 20 frames: 19·1365 + 4096 samples = 2.72 s. Both checked with ffmpeg 5.1:
 * the same sound fingerprinted from 0 and from 500 s lines up at 4038.5 items (500 s /
 * 0.12381 = 4038.46; a 4096/3 step would give 4037.48), and 620 s of sound gives 4986
 * items, a window of 29 610..30 975 samples (tools/test/ingest-segments.test.ts).
 */
const CHROMAPRINT: FingerprintProfile = {
  itemSec: 1365 / 11_025,
  windowSec: (19 * 1365 + 4096) / 11_025,
  // As jellyfin's intro skipper; unrelated items differ in about 16 bits.
  maxBitErrors: 6,
  startPadSec: 0.65,
  endPadSec: -1.35,
};

const MARQUEE_PCM: FingerprintProfile = {
  itemSec: PCM_HOP / PCM_SAMPLE_RATE,
  windowSec: (PCM_HOP + PCM_FRAME) / PCM_SAMPLE_RATE,
  maxBitErrors: 8,
  startPadSec: 0.1,
  endPadSec: -0.2,
};

export const FINGERPRINT_PROFILES: Record<FingerprintAlgorithm, FingerprintProfile> = {
  chromaprint: CHROMAPRINT,
  "marquee-pcm": MARQUEE_PCM,
};
